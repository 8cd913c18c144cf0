"""Organisers' access as the agenda announces it: the read model registration and notify keep from
``organiser.access_changed``, and the ``refresh`` hook of :func:`.auth.install_auth` that applies it.

One row per account that an event has mentioned: the newest state by the account's ``revision`` (events
may arrive out of order after a retry; a late older one changes nothing). Looked up by primary key once per
request that carries a valid token, which is all that revocation costs a request.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .auth import Principal, signed_in_before
from .timeutil import utcnow

TABLE_NAME = "organiser_access"
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def organiser_access_table(metadata: sa.MetaData) -> sa.Table:
    """The read model's table; each service's migration creates it with
    :func:`.messaging.migration.create_organiser_access`."""
    return sa.Table(
        TABLE_NAME, metadata,
        sa.Column("organiser_id", sa.String(36), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("meeting_ids", sa.JSON, nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True)),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )


def apply_access_change(tx: sa.Connection, table: sa.Table, payload: dict) -> bool:
    """Keep the account's state from an ``organiser.access_changed`` payload unless a newer revision is kept
    already; True if it was taken. One statement, so two workers with two events of one account cannot
    interleave a read and a write."""
    values = {"organiser_id": str(payload["organiser_id"]), "revision": payload["revision"],
              "changed_at": payload["changed_at"], "active": payload["active"], "role": payload["role"],
              "meeting_ids": sorted(str(m) for m in payload["meeting_ids"]), "not_before": payload["not_before"],
              "received_at": utcnow()}
    insert = _INSERTS[tx.dialect.name](table)
    statement = insert.on_conflict_do_update(
        index_elements=[table.c.organiser_id],
        set_={name: insert.excluded[name] for name in values if name != "organiser_id"},
        where=table.c.revision < insert.excluded.revision,
    ).returning(table.c.organiser_id)
    # RETURNING, not rowcount: what psycopg reports for an upsert is not reliable.
    return tx.execute(statement, values).first() is not None


def principal_with_access(principal: Principal, row) -> Principal | None:
    """``principal`` (from a valid token) as the kept state says, None if it no longer counts."""
    if row is None:
        return principal  # no change announced for this account: the token is all there is to believe
    if not row.active or signed_in_before(principal.signed_in_at, row.not_before):
        return None
    return replace(principal, role=row.role, meeting_ids=frozenset(row.meeting_ids))


def access_refresh(engine: sa.Engine, table: sa.Table) -> Callable[[Principal], Principal | None]:
    """The ``refresh`` hook for :func:`.auth.install_auth` in a service that keeps the read model."""
    statement = sa.select(table.c.active, table.c.role, table.c.meeting_ids, table.c.not_before).where(
        table.c.organiser_id == sa.bindparam("organiser_id"))

    def refresh(principal: Principal) -> Principal | None:
        with engine.connect() as conn:
            row = conn.execute(statement, {"organiser_id": principal.id}).first()
        return principal_with_access(principal, row)

    return refresh
