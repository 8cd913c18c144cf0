"""A participant's calendar invitation (iCalendar, RFC 5545 / iTIP RFC 5546).

One VEVENT for the meeting and one per discussion round or workshop whose place the participant holds.
UIDs are stable and personal (``meeting-<id>.<registration>@treffpunkt``), so a later invitation with a
higher SEQUENCE updates the entries a calendar already has instead of adding new ones; a cancellation
(METHOD:CANCEL) with the same UIDs removes them. SEQUENCE is the sum of the registration's sequence, the
meeting's revision and the agenda's revision: each only grows, so their sum grows with every change.
"""
from __future__ import annotations

from datetime import datetime
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from treffpunkt_shared.timeutil import utcnow

DOMAIN = "treffpunkt"


def _dt(value) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def meeting_uid(meeting_id, registration_id) -> str:
    return f"meeting-{meeting_id}.{registration_id}@{DOMAIN}"


def round_uid(item_id, registration_id) -> str:
    return f"round-{item_id}.{registration_id}@{DOMAIN}"


def _location(meeting: dict, room: str | None = None) -> str:
    venue = meeting["venue"]
    return ", ".join(p for p in (room or venue.get("room"), venue.get("name"), venue.get("address")) if p)


def invitation(*, meeting: dict, registration_id: str, participant: dict, rounds: list[dict], sequence: int,
               organiser: str, method: str = "REQUEST", manage_url: str | None = None) -> bytes:
    """The invitation for one participant; ``method`` REQUEST (new or updated) or CANCEL."""
    zone = ZoneInfo(meeting.get("timezone") or "Europe/Berlin")
    cal = Calendar()
    cal.add("prodid", "-//treffpunkt//Einladung//DE")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    name, address = parseaddr(organiser)
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = vText(name or "treffpunkt")
    attendee = vCalAddress(f"mailto:{participant['email']}")
    attendee.params["cn"] = vText(f"{participant['first_name']} {participant['last_name']}")
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("ACCEPTED")
    stamp = utcnow()
    status = "CANCELLED" if method == "CANCEL" else "CONFIRMED"

    def event(uid: str, summary: str, starts, ends, location: str, description: str) -> Event:
        e = Event()
        e.add("uid", uid)
        e.add("dtstamp", stamp)
        e.add("sequence", sequence)
        e.add("dtstart", _dt(starts).astimezone(zone))
        e.add("dtend", _dt(ends).astimezone(zone))
        e.add("summary", summary)
        e.add("location", location)
        if description:
            e.add("description", description)
        e.add("status", status)
        e.add("organizer", organizer)
        e.add("attendee", attendee)
        if manage_url:
            e.add("url", manage_url)
        return e

    cal.add_component(event(meeting_uid(meeting["meeting_id"], registration_id), meeting["title"],
                            meeting["starts_at"], meeting["ends_at"], _location(meeting),
                            meeting.get("theme") or ""))
    for r in rounds:
        if r.get("held", True):
            cal.add_component(event(round_uid(r["item_id"], registration_id), r["title"], r["starts_at"],
                                    r["ends_at"], _location(meeting, r.get("room")), meeting["title"]))
    first = _dt(meeting["starts_at"]).astimezone(zone).date()
    cal.add_missing_timezones(first_date=first.replace(month=1, day=1),
                              last_date=first.replace(year=first.year + 1, month=1, day=1))
    return cal.to_ical()
