"""The registration service's read model of meetings, kept from ``meeting.*`` events, and its consumer's
handler (which also keeps agendas and organisers' access)."""
from __future__ import annotations

import sqlalchemy as sa

from treffpunkt_shared.access import apply_access_change
from treffpunkt_shared.contracts import (AGENDA_CHANGED, AGENDA_PUBLISHED, MEETING_ARCHIVED, MEETING_CANCELLED,
                                         MEETING_CLOSED, MEETING_PUBLISHED, ORGANISER_ACCESS_CHANGED, Contract,
                                         Envelope)
from treffpunkt_shared.messaging.consumer import process_once
from treffpunkt_shared.timeutil import as_utc, utcnow

from .models import inbox, meetings, organiser_access


class RegistrationClosed(Exception):
    """Registration is not possible; ``reason`` is the German text shown to the visitor."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# The agenda's meeting status → whether registration is open here.
REGISTRATION_STATUS = {"published": "open", "closed": "closed", "archived": "closed", "cancelled": "cancelled"}
MEETING_STATE_EVENTS = (MEETING_PUBLISHED, MEETING_CLOSED, MEETING_CANCELLED, MEETING_ARCHIVED)


def apply_meeting_published(tx: sa.Connection, payload: dict) -> None:
    """Apply any ``meeting.*`` state event (they all carry the meeting's whole state and its revision)."""
    meeting_id = str(payload["meeting_id"])
    venue = payload["venue"]
    values = {
        "title": payload["title"], "series": payload["series"], "number": payload["number"],
        "starts_at": as_utc(payload["starts_at"]), "ends_at": as_utc(payload["ends_at"]),
        "timezone": payload["timezone"], "host": payload["host"], "venue_name": venue["name"],
        "venue_address": venue["address"], "venue_room": venue["room"], "theme": payload["theme"],
        "description": payload["description"], "capacity": payload["capacity"],
        "registration_opens_at": as_utc(payload["registration_opens_at"]),
        "registration_closes_at": as_utc(payload["registration_closes_at"]),
        "revision": payload["revision"], "status": REGISTRATION_STATUS.get(payload["status"], "closed"),
    }
    current = tx.execute(sa.select(meetings.c.revision).where(meetings.c.id == meeting_id)
                         .with_for_update()).first()
    if current is None:
        tx.execute(meetings.insert().values(id=meeting_id, **values))
    elif current.revision < payload["revision"]:
        # Events may arrive out of order after a retry: an older revision never overwrites a newer one.
        tx.execute(meetings.update().where(meetings.c.id == meeting_id).values(**values))


def make_handler(engine: sa.Engine, settings=None):
    """The registration worker's message handler. With ``settings`` (the worker's), a meeting whose capacity
    grew gives the new places to those waiting, in the same transaction as the update."""
    from .agenda_model import apply_agenda
    from .registrations import cancel_all_for_cancelled_meeting, fill_free_places

    def apply_meeting(tx: sa.Connection, payload: dict) -> None:
        meeting_id = str(payload["meeting_id"])
        before = tx.execute(sa.select(meetings.c.status).where(meetings.c.id == meeting_id)).scalar()
        apply_meeting_published(tx, payload)
        after = tx.execute(sa.select(meetings.c.status).where(meetings.c.id == meeting_id)).scalar()
        if after == "cancelled" and before != "cancelled":
            # Everybody registered is told, through the same event as any other cancellation.
            cancel_all_for_cancelled_meeting(tx, meeting_id)
        elif settings is not None:
            fill_free_places(tx, settings, meeting_id)

    def handle(envelope: Envelope, contract: Contract, payload: dict) -> None:
        if contract in MEETING_STATE_EVENTS:
            process_once(engine, inbox, envelope, lambda tx: apply_meeting(tx, payload))
        elif contract in (AGENDA_PUBLISHED, AGENDA_CHANGED):
            meeting_id = str(payload["meeting"]["meeting_id"])
            process_once(engine, inbox, envelope, lambda tx: apply_agenda(tx, meeting_id, payload["agenda"]))
        elif contract is ORGANISER_ACCESS_CHANGED:
            # Read by the organisers' sign-in check (app.py): a revoked account is refused from the next request.
            process_once(engine, inbox, envelope, lambda tx: apply_access_change(tx, organiser_access, payload))
        # Other events (round results, …) are not needed here; they are acknowledged, not dead-lettered.

    return handle


def meeting_as_dict(row) -> dict:
    m = dict(row._mapping)
    for key in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at"):
        m[key] = as_utc(m[key])
    return m


_SELECT_MEETING = sa.select(meetings).where(meetings.c.id == sa.bindparam("meeting_id"))


def get_meeting(conn: sa.Connection, meeting_id: str) -> dict | None:
    row = conn.execute(_SELECT_MEETING, {"meeting_id": meeting_id}).first()
    return meeting_as_dict(row) if row else None


def open_meetings(engine: sa.Engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(meetings).where(meetings.c.status == "open")
                            .order_by(meetings.c.starts_at)).all()
    return [meeting_as_dict(r) for r in rows if registration_problem(meeting_as_dict(r)) is None]


def registration_problem(meeting: dict) -> str | None:
    """Why one cannot register for ``meeting`` now, or None."""
    now = utcnow()
    if meeting["status"] == "cancelled":
        return "Dieses Treffen wurde abgesagt."
    if meeting["status"] != "open":
        return "Für dieses Treffen ist keine Anmeldung möglich."
    if meeting["registration_opens_at"] and now < meeting["registration_opens_at"]:
        return "Die Anmeldung ist noch nicht geöffnet."
    if meeting["registration_closes_at"] and now >= meeting["registration_closes_at"]:
        return "Die Anmeldung ist geschlossen."
    return None


def snapshot(meeting: dict) -> dict:
    """The meeting details a registration event carries for the emails."""
    return {
        "meeting_id": meeting["id"], "title": meeting["title"], "starts_at": meeting["starts_at"],
        "ends_at": meeting["ends_at"], "timezone": meeting["timezone"], "theme": meeting["theme"],
        "venue": {"name": meeting["venue_name"], "address": meeting["venue_address"],
                  "room": meeting["venue_room"]},
    }
