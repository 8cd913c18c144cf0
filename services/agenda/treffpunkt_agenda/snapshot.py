"""Reading a meeting and its agenda from the database, in the shapes the API, the pages and the events use.

The agenda items come out shaped like ``AgendaItemSchema`` of the shared contracts, so the same dicts are
compared for the diff, checked for problems, published as events and rendered on the public page.
"""
from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from treffpunkt_shared.timeutil import as_utc

from .models import agenda_items, documents, item_people, meeting_days, meetings, rooms

_MEETING_TIMES = ("starts_at", "ends_at", "registration_opens_at", "registration_closes_at", "created_at",
                  "updated_at")


class MeetingNotFound(Exception):
    pass


def load_meeting(conn: sa.Connection, meeting_id: str, *, for_update: bool = False) -> dict:
    query = sa.select(meetings).where(meetings.c.id == meeting_id)
    if for_update:
        # Serialises every change of one meeting, so each agenda.changed is the diff against the one before.
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise MeetingNotFound(meeting_id)
    m = dict(row._mapping)
    for key in _MEETING_TIMES:
        m[key] = as_utc(m[key])
    m["venue"] = {"name": m.pop("venue_name"), "address": m.pop("venue_address"), "room": m.pop("venue_room")}
    m["days"] = [{"date": d.date, "starts_at": as_utc(d.starts_at), "ends_at": as_utc(d.ends_at)}
                 for d in conn.execute(sa.select(meeting_days).where(meeting_days.c.meeting_id == meeting_id)
                                       .order_by(meeting_days.c.date))]
    m["rooms"] = [{"room_id": r.id, "name": r.name, "capacity": r.capacity}
                  for r in conn.execute(sa.select(rooms).where(rooms.c.meeting_id == meeting_id)
                                        .order_by(rooms.c.position, rooms.c.name))]
    return m


def document_url(base_url: str, meeting_id: str, document_id: str) -> str:
    return f"{base_url.rstrip('/')}/meetings/{meeting_id}/documents/{document_id}"


def load_items(conn: sa.Connection, meeting_id: str, base_url: str, *, with_results: bool = False) -> list[dict]:
    """The agenda items of a meeting in time order; ``with_results`` adds the (unpublished) round results."""
    room_names = {r.id: r.name for r in conn.execute(sa.select(rooms.c.id, rooms.c.name)
                                                       .where(rooms.c.meeting_id == meeting_id))}
    rows = conn.execute(sa.select(agenda_items).where(agenda_items.c.meeting_id == meeting_id)).all()
    ids = [r.id for r in rows]
    people: dict[str, dict[str, list]] = defaultdict(lambda: {"speaker": [], "moderator": []})
    docs: dict[str, list] = defaultdict(list)
    if ids:
        for p in conn.execute(sa.select(item_people).where(item_people.c.item_id.in_(ids))
                              .order_by(item_people.c.position, item_people.c.id)):
            people[p.item_id][p.role].append({"name": p.name, "function": p.function, "authority": p.authority})
        for d in conn.execute(sa.select(documents.c.id, documents.c.item_id, documents.c.kind,
                                        documents.c.filename, documents.c.content_type, documents.c.size)
                              .where(documents.c.item_id.in_(ids)).order_by(documents.c.uploaded_at)):
            docs[d.item_id].append({"document_id": d.id, "kind": d.kind, "filename": d.filename,
                                    "content_type": d.content_type, "size": d.size,
                                    "url": document_url(base_url, meeting_id, d.id)})
    items = []
    for r in rows:
        item = {
            "item_id": r.id, "kind": r.kind, "title": r.title, "description": r.description,
            "starts_at": as_utc(r.starts_at), "ends_at": as_utc(r.ends_at), "room_id": r.room_id,
            "room": room_names.get(r.room_id), "status": r.status,
            "speakers": people[r.id]["speaker"], "moderators": people[r.id]["moderator"],
            "documents": docs[r.id], "capacity": r.capacity, "guiding_questions": list(r.guiding_questions or []),
        }
        if with_results:
            item["result"] = r.result
            item["result_published_at"] = as_utc(r.result_published_at)
        items.append(item)
    items.sort(key=lambda i: (i["starts_at"], i["room"] or "", i["title"]))
    return items


def meeting_snapshot(meeting: dict) -> dict:
    """What a participant's email needs of a meeting (``MeetingSnapshotSchema``)."""
    return {"meeting_id": meeting["id"], "title": meeting["title"], "starts_at": meeting["starts_at"],
            "ends_at": meeting["ends_at"], "timezone": meeting["timezone"], "venue": meeting["venue"],
            "theme": meeting["theme"]}


def meeting_state(meeting: dict) -> dict:
    """The whole public state of a meeting, carried by every ``meeting.*`` event."""
    return {
        **meeting_snapshot(meeting), "status": meeting["status"], "days": meeting["days"],
        "rooms": meeting["rooms"], "series": meeting["series"], "number": meeting["number"],
        "host": meeting["host"], "description": meeting["description"], "capacity": meeting["capacity"],
        "registration_opens_at": meeting["registration_opens_at"],
        "registration_closes_at": meeting["registration_closes_at"], "revision": meeting["revision"],
    }


def agenda_state(meeting: dict, items: list[dict], revision: int) -> dict:
    public = [{k: v for k, v in i.items() if k not in ("result", "result_published_at")} for i in items]
    return {"meeting_id": meeting["id"], "revision": revision, "timezone": meeting["timezone"], "items": public}
