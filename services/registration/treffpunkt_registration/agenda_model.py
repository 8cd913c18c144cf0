"""The registration service's read model of a meeting's agenda: the preview on the meeting page and the
discussion rounds and workshops one can choose, kept from ``agenda.published`` and ``agenda.changed``.

A round's ``places_taken`` is registration's own counter and survives every agenda update; only what the
agenda owns (title, times, room, capacity, status) is overwritten.
"""
from __future__ import annotations

import sqlalchemy as sa

from treffpunkt_shared.contracts import ROUND_KINDS, json_ready
from treffpunkt_shared.timeutil import as_utc

from .models import meetings, rounds


class MeetingNotYetKnown(Exception):
    """An agenda event overtook its meeting's ``meeting.published``: retried later by the consume loop."""


def slots_of(items: list[dict]) -> dict[str, str]:
    """item_id → slot key. Rounds whose times overlap (directly or through a chain) share a slot, in which
    a participant chooses one; the key is the slot's start, so it is stable while the slot keeps its start."""
    ordered = sorted(items, key=lambda i: (as_utc(i["starts_at"]), as_utc(i["ends_at"]), i["item_id"]))
    slots: dict[str, str] = {}
    slot_key, slot_end = None, None
    for item in ordered:
        start, end = as_utc(item["starts_at"]), as_utc(item["ends_at"])
        if slot_end is None or start >= slot_end:
            slot_key, slot_end = start.strftime("%Y%m%dT%H%M"), end
        else:
            slot_end = max(slot_end, end)
        slots[item["item_id"]] = slot_key
    return slots


def apply_agenda(tx: sa.Connection, meeting_id: str, agenda: dict) -> None:
    """Apply the whole agenda of an ``agenda.published``/``agenda.changed`` event (older revisions ignored)."""
    current = tx.execute(sa.select(meetings.c.agenda_revision).where(meetings.c.id == meeting_id)
                         .with_for_update()).first()
    if current is None:
        raise MeetingNotYetKnown(meeting_id)
    if current.agenda_revision >= agenda["revision"]:
        return
    tx.execute(meetings.update().where(meetings.c.id == meeting_id)
               .values(agenda=json_ready(agenda), agenda_revision=agenda["revision"]))
    offered = [i for i in agenda["items"] if i["kind"] in ROUND_KINDS]
    slots = slots_of([i for i in offered if i["status"] == "scheduled"])
    known = {r.item_id for r in tx.execute(sa.select(rounds.c.item_id).where(rounds.c.meeting_id == meeting_id))}
    for item in offered:
        values = {"kind": item["kind"], "title": item["title"], "starts_at": as_utc(item["starts_at"]),
                  "ends_at": as_utc(item["ends_at"]), "room": item.get("room"), "capacity": item.get("capacity"),
                  "slot": slots.get(item["item_id"], "cancelled"), "status": item["status"]}
        if item["item_id"] in known:
            tx.execute(rounds.update().where(rounds.c.meeting_id == meeting_id,
                                             rounds.c.item_id == item["item_id"]).values(**values))
        else:
            tx.execute(rounds.insert().values(meeting_id=meeting_id, item_id=item["item_id"], **values))
    gone = known - {i["item_id"] for i in offered}
    if gone:
        tx.execute(rounds.update().where(rounds.c.meeting_id == meeting_id, rounds.c.item_id.in_(gone))
                   .values(status="removed"))


def meeting_rounds(conn: sa.Connection, meeting_id: str, *, bookable_only: bool = False) -> list[dict]:
    query = sa.select(rounds).where(rounds.c.meeting_id == meeting_id)
    if bookable_only:
        query = query.where(rounds.c.status == "scheduled")
    out = []
    for row in conn.execute(query.order_by(rounds.c.starts_at, rounds.c.title)):
        r = dict(row._mapping)
        r["starts_at"], r["ends_at"] = as_utc(r["starts_at"]), as_utc(r["ends_at"])
        r["places_left"] = None if r["capacity"] is None else max(r["capacity"] - r["places_taken"], 0)
        r["full"] = r["places_left"] == 0
        out.append(r)
    return out


def rounds_by_slot(round_list: list[dict]) -> list[tuple[str, list[dict]]]:
    """[(slot, [rounds])] in time order, for the form."""
    grouped: dict[str, list[dict]] = {}
    for r in round_list:
        grouped.setdefault(r["slot"], []).append(r)
    return sorted(grouped.items(), key=lambda kv: kv[1][0]["starts_at"])
