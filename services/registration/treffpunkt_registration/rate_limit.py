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


_STATEMENTS: dict[tuple[str, int], sa.TextClause] = {}


def _hit_statement(dialect: str, count: int) -> sa.TextClause:
    """``INSERT … ON CONFLICT DO UPDATE … RETURNING`` for ``count`` keys, built once per dialect and count:
    a multi-row ``insert().values([...])`` is compiled anew on every call (most of this module's CPU)."""
    statement = _STATEMENTS.get((dialect, count))
    if statement is None:
        rows = ", ".join(f"(:key{i}, :window, 1)" for i in range(count))
        # PostgreSQL and SQLite (3.35+) read this statement alike.
        statement = sa.text(
            f'INSERT INTO {rate_limits.name} ("key", window_start, hits) VALUES {rows} '
            f'ON CONFLICT ("key", window_start) DO UPDATE SET hits = {rate_limits.name}.hits + 1 '
            'RETURNING "key", hits').bindparams(sa.bindparam("window", type_=rate_limits.c.window_start.type))
        _STATEMENTS[(dialect, count)] = statement
    return statement


def hit(engine: sa.Engine, counters: list[tuple[str, str, int]], *, window_s: int) -> bool:
    """Count one request on each (kind, value, limit) counter, in one statement; False when any is over its
    limit in the current window."""
    limits = {_key(kind, value): limit for kind, value, limit in counters}
    params = {f"key{i}": key for i, key in enumerate(limits)}
    params["window"] = _window(utcnow(), window_s)
    with engine.begin() as tx:
        hits = dict(tx.execute(_hit_statement(engine.dialect.name, len(limits)), params).all())
    return all(hits[key] <= limit for key, limit in limits.items())


def sweep(engine: sa.Engine, *, older_than_s: int = 86400) -> None:
    with engine.begin() as tx:
        tx.execute(rate_limits.delete().where(rate_limits.c.window_start < utcnow() - timedelta(seconds=older_than_s)))
