"""The body of every service's Alembic ``env.py``: migrate the connection handed in by :func:`db.upgrade_database`."""
from __future__ import annotations

from alembic import context


def run(target_metadata) -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through treffpunkt_shared.db.upgrade_database")
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
