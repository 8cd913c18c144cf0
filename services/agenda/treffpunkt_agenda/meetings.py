"""Operations on meetings: create, read, publish (with its event in the same transaction)."""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from treffpunkt_shared.contracts import MEETING_PUBLISHED
from treffpunkt_shared.messaging.tables import add_to_outbox
from treffpunkt_shared.timeutil import as_utc, utcnow

from .accounts import assign_organiser
from .models import meetings, outbox

PRODUCER = "agenda"


class MeetingNotFound(Exception):
    pass


class MeetingNotPublishable(Exception):
    pass


def create_meeting(engine: sa.Engine, data: dict, *, organiser_id: str | None = None) -> dict:
    """A new draft meeting; ``organiser_id`` (whoever creates it) is assigned to it in the same transaction."""
    now = utcnow()
    venue = data["venue"]
    row = {
        "id": str(uuid.uuid4()), "title": data["title"], "series": data["series"], "number": data["number"],
        "starts_at": as_utc(data["starts_at"]), "ends_at": as_utc(data["ends_at"]),
        "timezone": data["timezone"], "host": data["host"], "venue_name": venue["name"],
        "venue_address": venue["address"], "venue_room": venue["room"], "theme": data["theme"],
        "description": data["description"], "capacity": data["capacity"],
        "registration_opens_at": as_utc(data["registration_opens_at"]),
        "registration_closes_at": as_utc(data["registration_closes_at"]),
        "status": "draft", "revision": 0, "created_at": now, "updated_at": now,
    }
    with engine.begin() as tx:
        tx.execute(meetings.insert().values(**row))
        if organiser_id is not None:
            assign_organiser(tx, row["id"], organiser_id)
    return get_meeting(engine, row["id"])


def _as_dict(row) -> dict:
    m = dict(row._mapping)
    for key in ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at", "created_at",
                "updated_at"):
        m[key] = as_utc(m[key])
    m["venue"] = {"name": m.pop("venue_name"), "address": m.pop("venue_address"), "room": m.pop("venue_room")}
    return m


def get_meeting(engine: sa.Engine, meeting_id: str) -> dict:
    with engine.connect() as conn:
        row = conn.execute(sa.select(meetings).where(meetings.c.id == meeting_id)).first()
    if row is None:
        raise MeetingNotFound(meeting_id)
    return _as_dict(row)


def list_meetings(engine: sa.Engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(meetings).order_by(meetings.c.starts_at)).all()
    return [_as_dict(r) for r in rows]


def published_payload(meeting: dict) -> dict:
    """The event-carried state other services need of a published meeting."""
    return {
        "meeting_id": meeting["id"], "title": meeting["title"], "series": meeting["series"],
        "number": meeting["number"], "starts_at": meeting["starts_at"], "ends_at": meeting["ends_at"],
        "timezone": meeting["timezone"], "host": meeting["host"], "venue": meeting["venue"],
        "theme": meeting["theme"], "description": meeting["description"], "capacity": meeting["capacity"],
        "registration_opens_at": meeting["registration_opens_at"],
        "registration_closes_at": meeting["registration_closes_at"], "revision": meeting["revision"],
    }


def publish_meeting(engine: sa.Engine, meeting_id: str, *, correlation_id: str | None = None) -> dict:
    """Mark the meeting published and write ``meeting.published`` in the same transaction."""
    with engine.begin() as tx:
        row = tx.execute(sa.select(meetings).where(meetings.c.id == meeting_id).with_for_update()).first()
        if row is None:
            raise MeetingNotFound(meeting_id)
        if row.status not in ("draft", "published"):
            raise MeetingNotPublishable(row.status)
        tx.execute(meetings.update().where(meetings.c.id == meeting_id).values(
            status="published", revision=row.revision + 1, updated_at=utcnow()))
        meeting = _as_dict(tx.execute(sa.select(meetings).where(meetings.c.id == meeting_id)).first())
        add_to_outbox(tx, outbox, MEETING_PUBLISHED, published_payload(meeting), producer=PRODUCER,
                      correlation_id=correlation_id)
    return meeting
