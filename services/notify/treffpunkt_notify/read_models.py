"""notify's read models, kept from events: recipients (registrations), meetings with their agenda.

Events of one registration or meeting can arrive out of order (retries, several workers): a row only takes
an event's state when its ``sequence`` / ``revision`` is newer than the one it has.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from treffpunkt_shared.contracts import json_ready
from treffpunkt_shared.timeutil import as_utc, utcnow

from .models import erased_registrations, meetings, recipients

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_ignore(tx: sa.Connection, table: sa.Table, values: dict, index_elements: list) -> bool:
    statement = _INSERTS[tx.dialect.name](table).values(**values).on_conflict_do_nothing(
        index_elements=index_elements).returning(*[table.c[name] for name in index_elements])
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT DO NOTHING.
    return tx.execute(statement).first() is not None


def is_erased(tx: sa.Connection, registration_id: str) -> bool:
    return tx.execute(sa.select(erased_registrations.c.registration_id)
                      .where(erased_registrations.c.registration_id == registration_id)).first() is not None


def apply_registration(tx: sa.Connection, payload: dict, occurred_at) -> tuple[bool, object]:
    """Take the registration's state unless a newer one is known; (newer_or_same, the row now)."""
    registration_id = str(payload["registration_id"])
    sequence = payload.get("sequence") or 1
    status = payload["status"]
    now = utcnow()
    when = as_utc(occurred_at) or now
    participant = json_ready(payload["participant"])
    values = {
        "meeting_id": str(payload["meeting"]["meeting_id"]), "sequence": sequence, "status": status,
        "waitlist_position": payload.get("waitlist_position"), "participant": participant,
        "organisation": participant.get("organisation", ""), "rounds": json_ready(payload.get("rounds") or []),
        "links": json_ready(payload.get("links") or {}), "updated_at": now,
    }
    inserted = insert_ignore(tx, recipients, {
        "registration_id": registration_id, "registered_at": when,
        "confirmed_at": when if status == "confirmed" else None,
        "cancelled_at": when if status == "cancelled" else None, **values}, ["registration_id"])
    row = tx.execute(sa.select(recipients).where(recipients.c.registration_id == registration_id)
                     .with_for_update()).first()
    if inserted:
        return True, row
    if row.sequence > sequence:
        return False, row
    if row.sequence < sequence:
        extra = {}
        if status == "confirmed" and row.confirmed_at is None:
            extra["confirmed_at"] = when
        if status == "cancelled" and row.cancelled_at is None:
            extra["cancelled_at"] = when
        tx.execute(recipients.update().where(recipients.c.registration_id == registration_id)
                   .values(**values, **extra))
        row = tx.execute(sa.select(recipients).where(recipients.c.registration_id == registration_id)).first()
    return True, row


def meeting_row(conn: sa.Connection, meeting_id: str, *, for_update: bool = False, skip_locked: bool = False):
    query = sa.select(meetings).where(meetings.c.meeting_id == str(meeting_id))
    if for_update:
        query = query.with_for_update(skip_locked=skip_locked)
    return conn.execute(query).first()


def _ensure_meeting(tx: sa.Connection, meeting_id: str) -> None:
    insert_ignore(tx, meetings, {"meeting_id": meeting_id, "revision": 0, "agenda_revision": 0,
                                 "updated_at": utcnow()}, ["meeting_id"])


def apply_meeting(tx: sa.Connection, payload: dict) -> None:
    """A ``meeting.*`` event: the meeting's whole state, if newer than what we have."""
    meeting_id = str(payload["meeting_id"])
    _ensure_meeting(tx, meeting_id)
    row = meeting_row(tx, meeting_id, for_update=True)
    if row.revision >= payload["revision"]:
        return
    state = json_ready({k: v for k, v in payload.items() if k != "organisers"})
    tx.execute(meetings.update().where(meetings.c.meeting_id == meeting_id).values(
        revision=payload["revision"], status=payload.get("status"), state=state,
        starts_at=as_utc(payload["starts_at"]), organisers=json_ready(payload.get("organisers") or []),
        updated_at=utcnow()))


def apply_agenda(tx: sa.Connection, meeting_snapshot: dict, agenda: dict, *, published: bool = False) -> bool:
    """The newest agenda of a meeting (``agenda.published``/``agenda.changed``); True if it was newer."""
    meeting_id = str(meeting_snapshot["meeting_id"])
    _ensure_meeting(tx, meeting_id)
    row = meeting_row(tx, meeting_id, for_update=True)
    values = {}
    if row.state is None:
        # No meeting.* event seen yet: the agenda's snapshot is enough for the mails.
        values.update(state=json_ready(meeting_snapshot), starts_at=as_utc(meeting_snapshot["starts_at"]))
    if published and row.agenda_published_at is None:
        values["agenda_published_at"] = utcnow()
    newer = row.agenda_revision < agenda["revision"]
    if newer:
        values.update(agenda_revision=agenda["revision"], agenda=json_ready(agenda))
    if values:
        tx.execute(meetings.update().where(meetings.c.meeting_id == meeting_id).values(updated_at=utcnow(),
                                                                                       **values))
    return newer


def meeting_revisions(conn: sa.Connection, meeting_id: str) -> tuple[int, int, list | None]:
    """(meeting revision, agenda revision, agenda items or None) as far as notify knows them."""
    row = meeting_row(conn, meeting_id)
    if row is None:
        return 0, 0, None
    return row.revision, row.agenda_revision, (row.agenda or {}).get("items")


def confirmed_recipients(conn: sa.Connection, meeting_id: str) -> list:
    return conn.execute(sa.select(recipients).where(recipients.c.meeting_id == str(meeting_id),
                                                    recipients.c.status == "confirmed")
                        .order_by(recipients.c.registration_id)).all()
