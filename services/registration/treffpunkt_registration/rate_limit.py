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


def _key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode('utf-8')).hexdigest()[:40]}"


def key(kind: str, value: str) -> str:
    """The row key counting (kind, value); the erasure deletes an email's counters by it."""
    return _key(kind, value)


def _window(now: datetime, window_s: int) -> datetime:
    epoch = int(now.timestamp()) // window_s * window_s
    return datetime.fromtimestamp(epoch, timezone.utc)


def _insert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def hit(engine: sa.Engine, counters: list[tuple[str, str, int]], *, window_s: int) -> bool:
    """Count one request on each (kind, value, limit) counter, in one statement; False when any is over its
    limit in the current window."""
    window = _window(utcnow(), window_s)
    limits = {_key(kind, value): limit for kind, value, limit in counters}
    insert = _insert(engine.dialect.name)
    statement = insert(rate_limits).values([{"key": key, "window_start": window, "hits": 1} for key in limits])
    statement = statement.on_conflict_do_update(
        index_elements=[rate_limits.c.key, rate_limits.c.window_start],
        set_={"hits": rate_limits.c.hits + 1}).returning(rate_limits.c.key, rate_limits.c.hits)
    with engine.begin() as tx:
        hits = dict(tx.execute(statement).all())
    return all(hits[key] <= limit for key, limit in limits.items())


def sweep(engine: sa.Engine, *, older_than_s: int = 86400) -> None:
    with engine.begin() as tx:
        tx.execute(rate_limits.delete().where(rate_limits.c.window_start < utcnow() - timedelta(seconds=older_than_s)))
