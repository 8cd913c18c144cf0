"""Alembic operations that create, in a service's migration, the tables several services keep alike: the outbox
and inbox (see :mod:`.tables`), and the read model of organisers' access (see :mod:`treffpunkt_shared.access`)."""
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


def create_organiser_access() -> None:
    # Written out, not derived from access.organiser_access_table: a migration is a snapshot, and a column
    # added later belongs in a later migration (deriving it would create it twice on a fresh database).
    op.create_table(
        "organiser_access",
        sa.Column("organiser_id", sa.String(36), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("meeting_ids", sa.JSON, nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True)),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
