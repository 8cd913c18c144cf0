"""The outbox and inbox tables every service keeps in its own database.

The outbox holds events written in the same transaction as the state change
they announce; the relay publishes them and deletes them once the broker has
confirmed them (deleting keeps no personal data around longer than needed).
The inbox remembers which message ids a consumer has processed.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import sqlalchemy as sa

from ..contracts import Contract, encode, make_envelope

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "outbox", metadata,
        sa.Column("seq", _BigId, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(36), nullable=False, unique=True),
        # "events": the topic exchange; "dead-letter": the service's dead-letter queue (routing_key names it).
        sa.Column("destination", sa.String(20), nullable=False, server_default="events"),
        sa.Column("routing_key", sa.String(200), nullable=False),
        sa.Column("headers", sa.JSON),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("correlation_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def inbox_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "processed_messages", metadata,
        sa.Column("message_id", sa.String(36), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )


_INSERTS: dict[sa.Table, sa.Insert] = {}


def insert_statement(table: sa.Table) -> sa.Insert:
    """``table.insert()``, built once per table and given its values at execution (outbox and inbox rows are
    written for every message: building a statement per call costs about as much CPU as running it)."""
    statement = _INSERTS.get(table)
    if statement is None:
        statement = _INSERTS[table] = table.insert()
    return statement


def outbox_message(contract: Contract, payload: dict, *, producer: str, correlation_id: str | None = None,
                   message_id: str | uuid.UUID | None = None) -> dict:
    """The column values of an outbox row carrying ``payload`` under ``contract``."""
    envelope = make_envelope(contract, payload, producer=producer, correlation_id=correlation_id,
                             message_id=message_id or uuid.uuid4())
    return {"message_id": envelope["id"], "routing_key": contract.type, "body": encode(envelope),
            "correlation_id": correlation_id, "created_at": datetime.now(timezone.utc)}


def add_to_outbox(tx: sa.Connection, outbox: sa.Table, contract: Contract, payload: dict, *,
                  producer: str, correlation_id: str | None = None) -> str:
    """Write an event in the caller's transaction; the relay publishes it after commit."""
    values = outbox_message(contract, payload, producer=producer, correlation_id=correlation_id)
    tx.execute(insert_statement(outbox), values)
    return values["message_id"]


def add_dead_letter_to_outbox(tx: sa.Connection, outbox: sa.Table, *, dead_letter_queue: str, body: bytes,
                              message_id: str, reason: str, correlation_id: str | None = None) -> None:
    """Dead-letter a message that failed after it was acknowledged (e.g. a mail refused for good).

    Goes through the outbox so the dead letter is as safe as the state change that caused it.
    """
    tx.execute(outbox.insert().values(
        message_id=str(uuid.uuid4()), destination="dead-letter", routing_key=dead_letter_queue, body=body,
        headers={"x-dead-reason": reason[:2000], "x-original-message-id": message_id,
                 "x-dead-lettered-at": datetime.now(timezone.utc).isoformat()},
        correlation_id=correlation_id, created_at=datetime.now(timezone.utc)))


def outbox_backlog(engine: sa.Engine, outbox: sa.Table) -> dict:
    """Rows waiting for the relay and how long the oldest has waited (``/readyz``: a growing age means the
    relay cannot publish: broker away, relay stopped)."""
    with engine.connect() as conn:
        pending, oldest = conn.execute(sa.select(sa.func.count(), sa.func.min(outbox.c.created_at))).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=timezone.utc)  # SQLite gives naive datetimes back
    age = (datetime.now(timezone.utc) - oldest).total_seconds() if oldest is not None else 0.0
    return {"pending": pending, "oldest_seconds": round(max(age, 0.0), 1)}
