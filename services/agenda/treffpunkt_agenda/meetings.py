"""Operations on meetings: create, change, move through their statuses, each with its event in the same
transaction (transactional outbox).

Statuses: draft → published → closed → archived; cancelled from draft, published or closed; a closed meeting
can be published again (registration reopens). Every change of a published (or closed) meeting emits the
whole public state again with a higher revision, so the registration service's read model follows it.
"""
from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from treffpunkt_shared.contracts import MEETING_ARCHIVED, MEETING_CANCELLED, MEETING_CLOSED, MEETING_PUBLISHED
from treffpunkt_shared.http import InvalidInput
from treffpunkt_shared.messaging.tables import add_to_outbox
from treffpunkt_shared.timeutil import as_utc, utcnow

from .accounts import assign_organiser
from .models import agenda_items, meeting_days, meeting_organisers, meetings, organisers, outbox, rooms
from .snapshot import MeetingNotFound, load_meeting, meeting_state

PRODUCER = "agenda"

TRANSITIONS = {
    "draft": {"published", "cancelled"},
    "published": {"published", "closed", "cancelled"},
    "closed": {"published", "archived", "cancelled"},
    "archived": set(),
    "cancelled": set(),
}
STATUS_EVENTS = {"published": MEETING_PUBLISHED, "closed": MEETING_CLOSED, "cancelled": MEETING_CANCELLED,
                 "archived": MEETING_ARCHIVED}
EDITABLE = ("draft", "published", "closed")
VISIBLE_TO_PARTICIPANTS = ("published", "closed")

__all__ = ["MeetingNotFound", "MeetingNotEditable", "StatusChangeRefused", "create_meeting", "update_meeting",
           "change_status", "publish_meeting", "get_meeting", "list_meetings", "meeting_as_input"]


class StatusChangeRefused(Exception):
    def __init__(self, current: str, wanted: str):
        super().__init__(f"{current} → {wanted}")
        self.current, self.wanted = current, wanted


class MeetingNotEditable(Exception):
    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


def _columns(data: dict) -> dict:
    venue = data["venue"]
    return {
        "title": data["title"], "series": data["series"], "number": data["number"],
        "starts_at": as_utc(data["starts_at"]), "ends_at": as_utc(data["ends_at"]), "timezone": data["timezone"],
        "host": data["host"], "venue_name": venue["name"], "venue_address": venue["address"],
        "venue_room": venue["room"], "theme": data["theme"], "description": data["description"],
        "capacity": data["capacity"], "registration_opens_at": as_utc(data["registration_opens_at"]),
        "registration_closes_at": as_utc(data["registration_closes_at"]),
    }


def _replace_days(tx: sa.Connection, meeting_id: str, days: list[dict]) -> None:
    tx.execute(meeting_days.delete().where(meeting_days.c.meeting_id == meeting_id))
    tx.execute(meeting_days.insert(), [
        {"id": str(uuid.uuid4()), "meeting_id": meeting_id, "date": d["date"], "starts_at": as_utc(d["starts_at"]),
         "ends_at": as_utc(d["ends_at"])} for d in days])


def _replace_rooms(tx: sa.Connection, meeting_id: str, wanted: list[dict]) -> None:
    """Keep room ids stable (items refer to them): match by id, then by name; refuse to drop a room in use."""
    existing = {r.id: r for r in tx.execute(sa.select(rooms).where(rooms.c.meeting_id == meeting_id))}
    by_name = {r.name.casefold(): r.id for r in existing.values()}
    kept: set[str] = set()
    for position, room in enumerate(wanted):
        room_id = room.get("room_id")
        if room_id and room_id not in existing:
            raise InvalidInput({"rooms": {str(position): {"room_id": ["Unbekannter Raum. / Unknown room."]}}})
        room_id = room_id or by_name.get(room["name"].strip().casefold())
        values = {"name": room["name"].strip(), "capacity": room["capacity"], "position": position}
        if room_id:
            kept.add(room_id)
            tx.execute(rooms.update().where(rooms.c.id == room_id).values(**values))
        else:
            new_id = str(uuid.uuid4())
            kept.add(new_id)
            tx.execute(rooms.insert().values(id=new_id, meeting_id=meeting_id, **values))
    dropped = set(existing) - kept
    if dropped:
        used = tx.execute(sa.select(agenda_items.c.room_id).where(agenda_items.c.room_id.in_(dropped))).first()
        if used:
            name = existing[used.room_id].name
            raise InvalidInput({"rooms": [f"Raum „{name}“ ist im Programm eingeplant und kann nicht entfernt "
                                          f"werden. / Room “{name}” is used in the agenda and cannot be removed."]})
        tx.execute(rooms.delete().where(rooms.c.id.in_(dropped)))


def create_meeting(engine: sa.Engine, data: dict, *, organiser_id: str | None = None) -> dict:
    """A new draft meeting; the organiser who creates it is assigned to it."""
    now = utcnow()
    meeting_id = str(uuid.uuid4())
    with engine.begin() as tx:
        tx.execute(meetings.insert().values(id=meeting_id, status="draft", revision=0, created_at=now,
                                            updated_at=now, **_columns(data)))
        _replace_days(tx, meeting_id, data["days"])
        _replace_rooms(tx, meeting_id, data["rooms"])
        if organiser_id is not None:
            assign_organiser(tx, meeting_id, organiser_id)
        return load_meeting(tx, meeting_id)


def meeting_as_input(meeting: dict) -> dict:
    """The meeting in the shape ``MeetingInput`` loads, so a partial change can be merged and re-validated."""
    zone = meeting["timezone"]
    tz = ZoneInfo(zone)

    def local(value):
        return value.astimezone(tz).replace(tzinfo=None).isoformat() if value else None

    return {
        "title": meeting["title"], "series": meeting["series"], "number": meeting["number"],
        "days": [{"date": d["date"].isoformat(), "starts": d["starts_at"].astimezone(tz).strftime("%H:%M"),
                  "ends": d["ends_at"].astimezone(tz).strftime("%H:%M")} for d in meeting["days"]],
        "timezone": zone, "host": meeting["host"], "venue": dict(meeting["venue"]),
        "rooms": [dict(r) for r in meeting["rooms"]], "theme": meeting["theme"],
        "description": meeting["description"], "capacity": meeting["capacity"],
        "registration_opens_at": local(meeting["registration_opens_at"]),
        "registration_closes_at": local(meeting["registration_closes_at"]),
    }


def emit_meeting_state(tx: sa.Connection, meeting_id: str, *, correlation_id: str | None) -> dict:
    """Raise the revision and write the meeting's whole state as the event of its status."""
    tx.execute(meetings.update().where(meetings.c.id == meeting_id)
               .values(revision=meetings.c.revision + 1, updated_at=utcnow()))
    meeting = load_meeting(tx, meeting_id)
    state = meeting_state(meeting)
    # Who organises it (active accounts assigned to the meeting): notify mails them digests and warnings, and
    # leaves out by the account's id those whose access has changed since (organiser.access_changed).
    state["organisers"] = [{"name": r.name, "email": r.email, "organiser_id": r.id} for r in tx.execute(
        sa.select(organisers.c.name, organisers.c.email, organisers.c.id)
        .join(meeting_organisers, meeting_organisers.c.organiser_id == organisers.c.id)
        .where(meeting_organisers.c.meeting_id == meeting_id, organisers.c.active.is_(True))
        .order_by(organisers.c.email))]
    add_to_outbox(tx, outbox, STATUS_EVENTS[meeting["status"]], state, producer=PRODUCER,
                  correlation_id=correlation_id)
    return meeting


def update_meeting(engine: sa.Engine, meeting_id: str, data: dict, *, correlation_id: str | None = None,
                   after_change=None) -> dict:
    """Replace the meeting's details with ``data`` (a full, validated ``MeetingInput``).

    ``after_change(tx, meeting_id)`` runs in the same transaction (the programme uses it to re-check and
    announce a published agenda whose days changed)."""
    with engine.begin() as tx:
        current = load_meeting(tx, meeting_id, for_update=True)
        if current["status"] not in EDITABLE:
            raise MeetingNotEditable(current["status"])
        tx.execute(meetings.update().where(meetings.c.id == meeting_id)
                   .values(updated_at=utcnow(), **_columns(data)))
        _replace_days(tx, meeting_id, data["days"])
        _replace_rooms(tx, meeting_id, data["rooms"])
        if after_change:
            after_change(tx, meeting_id)
        if current["status"] in VISIBLE_TO_PARTICIPANTS:
            return emit_meeting_state(tx, meeting_id, correlation_id=correlation_id)
        return load_meeting(tx, meeting_id)


def change_status(engine: sa.Engine, meeting_id: str, status: str, *, correlation_id: str | None = None) -> dict:
    with engine.begin() as tx:
        current = load_meeting(tx, meeting_id, for_update=True)
        if status not in TRANSITIONS[current["status"]]:
            raise StatusChangeRefused(current["status"], status)
        tx.execute(meetings.update().where(meetings.c.id == meeting_id).values(status=status))
        return emit_meeting_state(tx, meeting_id, correlation_id=correlation_id)


def publish_meeting(engine: sa.Engine, meeting_id: str, *, correlation_id: str | None = None) -> dict:
    """Mark the meeting published and write ``meeting.published`` in the same transaction."""
    return change_status(engine, meeting_id, "published", correlation_id=correlation_id)


def get_meeting(engine: sa.Engine, meeting_id: str) -> dict:
    with engine.connect() as conn:
        return load_meeting(conn, meeting_id)


def list_meetings(engine: sa.Engine, *, meeting_ids=None, statuses=None) -> list[dict]:
    """All meetings, or those in ``meeting_ids`` (an organiser's) and ``statuses``, by start."""
    query = sa.select(meetings.c.id).order_by(meetings.c.starts_at)
    if meeting_ids is not None:
        query = query.where(meetings.c.id.in_(list(meeting_ids)))
    if statuses is not None:
        query = query.where(meetings.c.status.in_(list(statuses)))
    with engine.connect() as conn:
        return [load_meeting(conn, row.id) for row in conn.execute(query)]
