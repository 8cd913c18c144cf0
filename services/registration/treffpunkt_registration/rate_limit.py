"""Request limits counted in the registration database, so all gunicorn workers and all registration
processes share one limit (per-process counters would multiply it by the number of workers).

Fixed windows: one row per key and window, incremented atomically (``INSERT … ON CONFLICT … DO UPDATE``);
keys are SHA-256 digests, so the table holds no address in clear. Old windows are swept by the worker.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from treffpunkt_shared.timeutil import utcnow

from .models import rate_limits


def key(kind: str, value: str) -> str:
    """The row key counting (kind, value); the erasure deletes an email's counters by it."""
    return f"{kind}:{hashlib.sha256(value.encode('utf-8')).hexdigest()[:40]}"


def _window(now: datetime, window_s: int) -> datetime:
    epoch = int(now.timestamp()) // window_s * window_s
    return datetime.fromtimestamp(epoch, timezone.utc)


def _insert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def hit(engine: sa.Engine, kind: str, value: str, *, limit: int, window_s: int) -> bool:
    """Count one request for (kind, value); False when it is over the limit of the current window."""
    now = utcnow()
    insert = _insert(engine.dialect.name)
    statement = insert(rate_limits).values(key=key(kind, value), window_start=_window(now, window_s), hits=1)
    statement = statement.on_conflict_do_update(
        index_elements=[rate_limits.c.key, rate_limits.c.window_start],
        set_={"hits": rate_limits.c.hits + 1}).returning(rate_limits.c.hits)
    with engine.begin() as tx:
        hits = tx.execute(statement).scalar_one()
    return hits <= limit


def sweep(engine: sa.Engine, *, older_than_s: int = 86400) -> None:
    with engine.begin() as tx:
        tx.execute(rate_limits.delete().where(rate_limits.c.window_start < utcnow() - timedelta(seconds=older_than_s)))
