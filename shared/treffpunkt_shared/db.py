"""Database plumbing shared by the services: engines, creating a missing database, migrations."""
from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str, *, pool_size: int = 5) -> sa.Engine:
    """An engine whose errors never show the statement's parameters (``hide_parameters``): the consumers,
    relays and jobs log ``repr(exc)``, and parameters are names and email addresses."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                                  hide_parameters=True)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # WAL lets the web threads read while the relay writes; foreign keys are off by default in SQLite.
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            # SQLite's lower() (and so ILIKE and case-blind sorting) knows ASCII only: "SCHÄFER" would not
            # find "Schäfer". Python's replaces it on this connection; no index uses lower(), so none goes stale.
            dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=pool_size * 2,
                            pool_timeout=10, connect_args={"connect_timeout": 5}, hide_parameters=True)


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` if it does not exist (SQLite creates files itself)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": parsed.database}).first()
            if not exists:
                try:
                    conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
                except sa.exc.ProgrammingError:
                    pass  # created meanwhile by a sibling process
    finally:
        admin.dispose()


def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and os.path.exists(parsed.database):
            os.remove(parsed.database)
        return
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def upgrade_database(engine: sa.Engine, migrations_dir: Path) -> None:
    """Bring the schema to the newest Alembic revision of the service whose migrations live in ``migrations_dir``."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def is_reachable(engine: sa.Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except Exception:
        return False
