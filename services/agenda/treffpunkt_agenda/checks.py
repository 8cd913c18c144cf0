"""Problems in a programme that organisers should see: rooms double-booked, people in two places at once,
items outside the meeting's days, rounds larger than their room.

Pure functions of the meeting and its items (shaped as in :mod:`snapshot`). The editor shows every problem as
a warning; publishing the agenda, or changing a published one, is refused while any problem of severity
"error" remains.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import combinations

from treffpunkt_shared.contracts import ROUND_KINDS
from treffpunkt_shared.timeutil import format_time


@dataclass(frozen=True)
class Problem:
    code: str
    severity: str  # "error" blocks publishing; "warning" is advice
    message_de: str
    message_en: str
    item_ids: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["item_ids"] = list(self.item_ids)
        return d


def _overlap(a: dict, b: dict) -> bool:
    return a["starts_at"] < b["ends_at"] and b["starts_at"] < a["ends_at"]


_PLACEHOLDERS = {"n. n.", "n.n.", "nn", "n. n", "tba", "offen"}


def _person_key(person: dict) -> str | None:
    """Name and authority, case and spacing ignored; None for a placeholder such as "N. N." (not yet named)."""
    name = " ".join(person["name"].casefold().split())
    if name in _PLACEHOLDERS:
        return None
    return f"{name}|{' '.join(person.get('authority', '').casefold().split())}"


def _span(item: dict, zone: str) -> str:
    return f"{format_time(item['starts_at'], 'en', zone)}–{format_time(item['ends_at'], 'en', zone)}"


def find_problems(meeting: dict, items: list[dict]) -> list[Problem]:
    zone = meeting["timezone"]
    active = [i for i in items if i["status"] == "scheduled"]
    problems: list[Problem] = []
    for item in active:
        if not any(d["starts_at"] <= item["starts_at"] and item["ends_at"] <= d["ends_at"] for d in meeting["days"]):
            problems.append(Problem(
                "outside_meeting_days", "error",
                f"„{item['title']}“ liegt außerhalb der Tage und Zeiten des Treffens.",
                f"“{item['title']}” lies outside the meeting's days and hours.", (item["item_id"],)))
    for a, b in combinations(active, 2):
        if not _overlap(a, b):
            continue
        if a["room_id"] and a["room_id"] == b["room_id"]:
            problems.append(Problem(
                "room_double_booked", "error",
                f"Raum „{a['room']}“ ist doppelt belegt: „{a['title']}“ ({_span(a, zone)}) und "
                f"„{b['title']}“ ({_span(b, zone)}).",
                f"Room “{a['room']}” is booked twice: “{a['title']}” ({_span(a, zone)}) and "
                f"“{b['title']}” ({_span(b, zone)}).", (a["item_id"], b["item_id"])))
        people_a = {_person_key(p): p["name"] for p in a["speakers"] + a["moderators"]}
        people_b = {_person_key(p) for p in b["speakers"] + b["moderators"]}
        for key in sorted((people_a.keys() & people_b) - {None}):
            problems.append(Problem(
                "person_in_two_places", "error",
                f"{people_a[key]} ist zur selben Zeit bei „{a['title']}“ und „{b['title']}“ eingeplant.",
                f"{people_a[key]} is scheduled for “{a['title']}” and “{b['title']}” at the same time.",
                (a["item_id"], b["item_id"])))
    room_capacity = {r["room_id"]: r["capacity"] for r in meeting["rooms"]}
    for item in active:
        if item["kind"] not in ROUND_KINDS:
            continue
        limit = room_capacity.get(item["room_id"])
        if item["capacity"] and limit and item["capacity"] > limit:
            problems.append(Problem(
                "round_larger_than_room", "error",
                f"„{item['title']}“ hat {item['capacity']} Plätze, der Raum „{item['room']}“ nur {limit}.",
                f"“{item['title']}” has {item['capacity']} places, room “{item['room']}” only {limit}.",
                (item["item_id"],)))
        if not item["guiding_questions"]:
            problems.append(Problem(
                "round_without_questions", "warning",
                f"„{item['title']}“ hat noch keine Leitfragen.",
                f"“{item['title']}” has no guiding questions yet.", (item["item_id"],)))
    return problems


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]
