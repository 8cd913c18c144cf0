"""The list of authorities organisers keep; the form offers it, and participants may type another."""
from __future__ import annotations

import sqlalchemy as sa

from .models import authorities


def authority_names(conn: sa.Connection) -> list[str]:
    return list(conn.execute(sa.select(authorities.c.name).order_by(authorities.c.name)).scalars())


def add_authority(engine: sa.Engine, name: str) -> bool:
    """Add ``name`` (False if it is there already, whatever its case and spacing)."""
    from .registrations import authority_key
    name = " ".join(name.split())
    try:
        with engine.begin() as tx:
            tx.execute(authorities.insert().values(name=name, authority_key=authority_key(name)))
        return True
    except sa.exc.IntegrityError:
        return False


def remove_authority(engine: sa.Engine, authority_id: int) -> None:
    with engine.begin() as tx:
        tx.execute(authorities.delete().where(authorities.c.id == authority_id))
