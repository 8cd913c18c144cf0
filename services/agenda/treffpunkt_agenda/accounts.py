"""Organiser accounts: create, read, (de)activate, assign to meetings, check a password, sign out everywhere.

Passwords are stored only as scrypt hashes (werkzeug: N=2^15, r=8, p=1, a random salt per password). Every
change of an account's access is announced in the same transaction (access_events.py).
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from werkzeug.security import check_password_hash, generate_password_hash

from treffpunkt_shared.auth import ADMINISTRATOR, ORGANISER, ROLES, Principal  # noqa: F401 (roles re-exported)
from treffpunkt_shared.auth import signed_in_before
from treffpunkt_shared.contracts import (DEACTIVATED, MEETINGS_CHANGED, PASSWORD_CHANGED, REACTIVATED, ROLE_CHANGED,
                                         SIGNED_OUT)
from treffpunkt_shared.timeutil import utcnow

from .access_events import announce_access_change
from .models import meeting_organisers, meetings, organisers

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # hashing is deliberately slow; an endless password must not make it slower
PASSWORD_METHOD = "scrypt"


class AccountExists(Exception):
    pass


class AccountNotFound(Exception):
    pass


class MeetingNotFound(Exception):
    pass


class WeakPassword(ValueError):
    pass


def normalise_email(email: str) -> str:
    return email.strip().lower()


def password_problem(password: str) -> str | None:
    """Why a password may not be used (German), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Das Passwort muss mindestens {MIN_PASSWORD_LENGTH} Zeichen lang sein."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Das Passwort darf höchstens {MAX_PASSWORD_LENGTH} Zeichen lang sein."
    return None


def hash_password(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise WeakPassword(problem)
    return generate_password_hash(password, method=PASSWORD_METHOD)


def check_password(password_hash: str, password: str) -> bool:
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    return check_password_hash(password_hash, password)


def create_account(conn: sa.Connection, *, email: str, name: str, role: str, password: str) -> dict:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    email = normalise_email(email)
    password_hash = hash_password(password)
    if conn.execute(sa.select(organisers.c.id).where(organisers.c.email == email)).first():
        raise AccountExists(email)
    account_id = str(uuid.uuid4())
    try:
        conn.execute(organisers.insert().values(id=account_id, email=email, name=name.strip(),
                                                password_hash=password_hash, role=role, active=True,
                                                created_at=utcnow()))
    except sa.exc.IntegrityError:  # created meanwhile by a concurrent request; the caller's transaction ends
        raise AccountExists(email) from None
    return get_account(conn, account_id)


def _public(row, meeting_ids) -> dict:
    return {"id": row.id, "email": row.email, "name": row.name, "role": row.role, "active": row.active,
            "created_at": row.created_at, "meeting_ids": sorted(meeting_ids)}


def meeting_ids_of(conn: sa.Connection, organiser_id: str) -> frozenset[str]:
    rows = conn.execute(sa.select(meeting_organisers.c.meeting_id)
                        .where(meeting_organisers.c.organiser_id == organiser_id))
    return frozenset(r.meeting_id for r in rows)


def get_account(conn: sa.Connection, organiser_id: str) -> dict:
    row = conn.execute(sa.select(organisers).where(organisers.c.id == str(organiser_id))).first()
    if row is None:
        raise AccountNotFound(organiser_id)
    return _public(row, meeting_ids_of(conn, row.id))


def list_accounts(conn: sa.Connection) -> list[dict]:
    assigned: dict[str, set[str]] = {}
    for r in conn.execute(sa.select(meeting_organisers)):
        assigned.setdefault(r.organiser_id, set()).add(r.meeting_id)
    rows = conn.execute(sa.select(organisers).order_by(organisers.c.name, organisers.c.email))
    return [_public(r, assigned.get(r.id, ())) for r in rows]


def set_active(conn: sa.Connection, organiser_id: str, active: bool, *, correlation_id: str | None = None) -> dict:
    return update_account(conn, organiser_id, {"active": active}, correlation_id=correlation_id)


def _access_changes(before, changes: dict) -> list[str]:
    """What of ``changes`` (name, role, active, password) touches the account's access: not the name."""
    found = []
    if "active" in changes and changes["active"] != before.active:
        found.append(REACTIVATED if changes["active"] else DEACTIVATED)
    if "role" in changes and changes["role"] != before.role:
        found.append(ROLE_CHANGED)
    if "password" in changes:
        found.append(PASSWORD_CHANGED)
    return found


def update_account(conn: sa.Connection, organiser_id: str, changes: dict, *,
                   correlation_id: str | None = None) -> dict:
    """Change name, role, active and/or password (already validated)."""
    before = conn.execute(sa.select(organisers.c.role, organisers.c.active)
                          .where(organisers.c.id == str(organiser_id)).with_for_update()).first()
    if before is None:
        raise AccountNotFound(organiser_id)
    values = {k: changes[k] for k in ("name", "role", "active") if k in changes}
    if "password" in changes:
        values["password_hash"] = hash_password(changes["password"])
    if values:
        conn.execute(organisers.update().where(organisers.c.id == str(organiser_id)).values(**values))
    access_changes = _access_changes(before, changes)
    if access_changes:
        announce_access_change(conn, str(organiser_id), access_changes, correlation_id=correlation_id)
    return get_account(conn, organiser_id)


def assign_organiser(conn: sa.Connection, meeting_id: str, organiser_id: str, *,
                     correlation_id: str | None = None) -> None:
    """Let the organiser manage the meeting (nothing happens if they already may). Runs in the caller's
    transaction, so a meeting and its creator's assignment are written together."""
    meeting_id, organiser_id = str(meeting_id), str(organiser_id)
    if conn.execute(sa.select(meetings.c.id).where(meetings.c.id == meeting_id)).first() is None:
        raise MeetingNotFound(meeting_id)
    if conn.execute(sa.select(organisers.c.id).where(organisers.c.id == organiser_id)).first() is None:
        raise AccountNotFound(organiser_id)
    # ON CONFLICT DO NOTHING: the same assignment made twice, even concurrently, is one row and no error.
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    added = conn.execute(insert(meeting_organisers).values(meeting_id=meeting_id, organiser_id=organiser_id)
                         .on_conflict_do_nothing().returning(meeting_organisers.c.meeting_id)).first()
    if added is not None:
        announce_access_change(conn, organiser_id, [MEETINGS_CHANGED], correlation_id=correlation_id)


def unassign_organiser(conn: sa.Connection, meeting_id: str, organiser_id: str, *,
                       correlation_id: str | None = None) -> None:
    removed = conn.execute(meeting_organisers.delete().where(meeting_organisers.c.meeting_id == str(meeting_id),
                                                             meeting_organisers.c.organiser_id == str(organiser_id)))
    if removed.rowcount:
        announce_access_change(conn, str(organiser_id), [MEETINGS_CHANGED], correlation_id=correlation_id)


def sign_out_everywhere(conn: sa.Connection, organiser_id: str, *, correlation_id: str | None = None) -> None:
    """Refuse, in every service, every token of the account signed in until now (see treffpunkt_shared.auth)."""
    announce_access_change(conn, str(organiser_id), [SIGNED_OUT], correlation_id=correlation_id)


def meeting_choices(conn: sa.Connection) -> list[dict]:
    """Meetings an administrator can assign, newest first (only what the account pages show)."""
    rows = conn.execute(sa.select(meetings.c.id, meetings.c.title, meetings.c.starts_at, meetings.c.status)
                        .order_by(meetings.c.starts_at.desc()))
    return [dict(r._mapping) for r in rows]


def find_for_sign_in(conn: sa.Connection, email: str):
    """The active account's row for an email address, or None."""
    return conn.execute(sa.select(organisers).where(organisers.c.email == normalise_email(email),
                                                    organisers.c.active.is_(True))).first()


def principal_for(conn: sa.Connection, organiser_id: str, *, signed_in_at: int) -> Principal | None:
    """The account as it is now, for a token signed in at ``signed_in_at``: None if the account is gone or
    deactivated, or the token was signed in before the account's ``tokens_not_before`` (signed out since)."""
    row = conn.execute(sa.select(organisers).where(organisers.c.id == str(organiser_id))).first()
    if row is None or not row.active or signed_in_before(signed_in_at, row.tokens_not_before):
        return None
    return Principal(id=row.id, name=row.name, email=row.email, role=row.role,
                     meeting_ids=meeting_ids_of(conn, row.id), signed_in_at=signed_in_at)
