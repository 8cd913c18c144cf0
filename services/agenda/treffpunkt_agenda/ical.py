"""The agenda as iCalendar (RFC 5545): one VEVENT per item, the room as LOCATION, times in Europe/Berlin.

UIDs are stable (the item's id), SEQUENCE is the agenda revision, so a calendar that imported the agenda
updates its entries when a changed agenda is imported again instead of adding new ones.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from treffpunkt_shared.timeutil import utcnow

KIND_LABELS = {"welcome": "Begrüßung", "talk": "Vortrag", "discussion_round": "Diskussionsrunde",
               "workshop": "Workshop", "break": "Pause", "lunch": "Mittagessen", "closing": "Abschluss"}


def _location(item: dict, meeting: dict) -> str:
    venue = meeting["venue"]
    parts = [item.get("room") or venue.get("room"), venue["name"], venue.get("address")]
    return ", ".join(p for p in parts if p)


def agenda_calendar(meeting: dict, items: list[dict], *, revision: int, domain: str = "treffpunkt") -> bytes:
    zone = ZoneInfo(meeting["timezone"])
    cal = Calendar()
    cal.add("prodid", "-//treffpunkt//Programm//DE")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", meeting["title"])
    cal.add("x-wr-timezone", meeting["timezone"])
    stamp = utcnow()
    for item in items:
        event = Event()
        event.add("uid", f"{item['item_id']}@{domain}")
        event.add("dtstamp", stamp)
        event.add("sequence", revision)
        event.add("dtstart", item["starts_at"].astimezone(zone))
        event.add("dtend", item["ends_at"].astimezone(zone))
        event.add("summary", f"{KIND_LABELS.get(item['kind'], item['kind'])}: {item['title']}")
        event.add("location", _location(item, meeting))
        people = [p["name"] for p in item["speakers"] + item["moderators"]]
        lines = [item["description"]] if item["description"] else []
        if people:
            lines.append("Mit / With: " + ", ".join(people))
        lines += [f"– {q}" for q in item["guiding_questions"]]
        if lines:
            event.add("description", "\n".join(lines))
        event.add("status", "CANCELLED" if item["status"] == "cancelled" else "CONFIRMED")
        event.add("categories", [KIND_LABELS.get(item["kind"], item["kind"])])
        cal.add_component(event)
    if items:
        # Only the years the agenda spans: the default range writes every DST switch from 1970 to 2038.
        first = min(i["starts_at"] for i in items).astimezone(zone).date()
        last = max(i["ends_at"] for i in items).astimezone(zone).date()
        cal.add_missing_timezones(first_date=first.replace(month=1, day=1),
                                  last_date=last.replace(year=last.year + 1, month=1, day=1))
    return cal.to_ical()
