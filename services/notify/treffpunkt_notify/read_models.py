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
_INSERT_IGNORE: dict[tuple, sa.Insert] = {}


def insert_ignore(tx: sa.Connection, table: sa.Table, values: dict, index_elements: list) -> bool:
    key = (tx.dialect.name, table.name, tuple(index_elements))
    statement = _INSERT_IGNORE.get(key)
    if statement is None:
        # Built once and given its values at execution: building it per call cost as much as running it.
        statement = _INSERT_IGNORE[key] = _INSERTS[tx.dialect.name](table).on_conflict_do_nothing(
            index_elements=index_elements).returning(*[table.c[name] for name in index_elements])
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT DO NOTHING.
    return tx.execute(statement, values).first() is not None


_IS_ERASED = sa.select(erased_registrations.c.registration_id).where(
    erased_registrations.c.registration_id == sa.bindparam("registration_id"))
_RECIPIENT_FOR_UPDATE = sa.select(recipients).where(
    recipients.c.registration_id == sa.bindparam("registration_id")).with_for_update()
_MEETING = sa.select(meetings).where(meetings.c.meeting_id == sa.bindparam("meeting_id"))
_MEETING_STATEMENTS = {(False, False): _MEETING, (True, False): _MEETING.with_for_update(),
                       (True, True): _MEETING.with_for_update(skip_locked=True)}


def is_erased(tx: sa.Connection, registration_id: str) -> bool:
    return tx.execute(_IS_ERASED, {"registration_id": registration_id}).first() is not None


def apply_registration(tx: sa.Connection, payload: dict, occurred_at) -> bool:
    """Take the registration's state unless a newer one is known; True if the event is newer or the same."""
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
    if inserted:
        return True
    row = tx.execute(_RECIPIENT_FOR_UPDATE, {"registration_id": registration_id}).first()
    if row.sequence > sequence:
        return False
    if row.sequence < sequence:
        extra = {}
        if status == "confirmed" and row.confirmed_at is None:
            extra["confirmed_at"] = when
        if status == "cancelled" and row.cancelled_at is None:
            extra["cancelled_at"] = when
        tx.execute(recipients.update().where(recipients.c.registration_id == registration_id)
                   .values(**values, **extra))
    return True


def meeting_row(conn: sa.Connection, meeting_id: str, *, for_update: bool = False, skip_locked: bool = False):
    statement = _MEETING_STATEMENTS[(for_update, for_update and skip_locked)]
    return conn.execute(statement, {"meeting_id": str(meeting_id)}).first()


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
