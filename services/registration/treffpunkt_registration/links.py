"""Personal links: unguessable (256 bits from the CSPRNG), expiring, revocable.

Only the SHA-256 digest of a token is stored, so neither a database copy nor a log line opens a
registration; the token itself exists only in the participant's email (carried there by the event).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa

from treffpunkt_shared.timeutil import as_utc, utcnow

from .models import registration_links

CONFIRM, MANAGE = "confirm", "manage"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_INSERT_LINK = registration_links.insert()  # built once: it is on every registration's path


def new_link(tx: sa.Connection, registration_id: str, purpose: str, expires_at: datetime) -> str:
    token = secrets.token_urlsafe(32)
    tx.execute(_INSERT_LINK, {"token_digest": digest(token), "registration_id": registration_id,
                              "purpose": purpose, "created_at": utcnow(), "expires_at": expires_at})
    return token


def registration_for(conn: sa.Connection, token: str, purpose: str) -> str | None:
    """The registration a valid (known, unexpired, unrevoked) token of ``purpose`` opens, else None."""
    if not token or len(token) > 100:
        return None
    row = conn.execute(sa.select(registration_links).where(
        registration_links.c.token_digest == digest(token), registration_links.c.purpose == purpose)).first()
    if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= utcnow():
        return None
    return row.registration_id


def revoke(tx: sa.Connection, registration_id: str, purpose: str | None = None) -> None:
    query = registration_links.update().where(registration_links.c.registration_id == registration_id,
                                              registration_links.c.revoked_at.is_(None))
    if purpose:
        query = query.where(registration_links.c.purpose == purpose)
    tx.execute(query.values(revoked_at=utcnow()))


def confirm_url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/bestaetigen/{token}"


def manage_url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/anmeldung/{token}"


def calendar_url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/anmeldung/{token}/kalender.ics"
