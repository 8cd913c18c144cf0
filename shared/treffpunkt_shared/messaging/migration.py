"""Alembic operations that create the outbox and inbox tables (see :mod:`.tables`) in a service's migration."""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def create_outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column("seq", _BigId, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(36), nullable=False, unique=True),
        sa.Column("destination", sa.String(20), nullable=False, server_default="events"),
        sa.Column("routing_key", sa.String(200), nullable=False),
        sa.Column("headers", sa.JSON),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("correlation_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def create_inbox() -> None:
    op.create_table(
        "processed_messages",
        sa.Column("message_id", sa.String(36), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )
