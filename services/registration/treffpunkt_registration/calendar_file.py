"""A registration as iCalendar: the meeting, with the rounds the participant holds, for their calendar."""
from __future__ import annotations

from icalendar import Calendar, Event

from treffpunkt_shared.timeutil import utcnow


def registration_calendar(state: dict) -> bytes:
    meeting = state["meeting"]
    cal = Calendar()
    cal.add("prodid", "-//treffpunkt//registration//DE")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    # Stable per meeting: importing the file again updates the entry instead of adding one.
    event.add("uid", f"meeting-{meeting['id']}@treffpunkt")
    event.add("dtstamp", utcnow())
    event.add("dtstart", meeting["starts_at"])
    event.add("dtend", meeting["ends_at"])
    event.add("summary", meeting["title"])
    place = ", ".join(p for p in (meeting["venue_room"], meeting["venue_name"], meeting["venue_address"]) if p)
    event.add("location", place)
    lines = [meeting["theme"]] if meeting["theme"] else []
    for r in state["rounds"]:
        if r["held"] and r["status"] == "scheduled":
            lines.append(f"{r['starts_at']:%H:%M}–{r['ends_at']:%H:%M} UTC: {r['title']}"
                         + (f" ({r['room']})" if r["room"] else ""))
    if lines:
        event.add("description", "\n".join(lines))
    event.add("status", "CANCELLED" if meeting["status"] == "cancelled" else "CONFIRMED")
    cal.add_component(event)
    return cal.to_ical()
