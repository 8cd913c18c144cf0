"""Times: stored in UTC, shown in the meeting's zone (Europe/Berlin)."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
_WEEKDAYS_DE = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]
_MONTHS_DE = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
              "Oktober", "November", "Dezember"]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they were stored as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def aware(value: datetime, zone: str = "Europe/Berlin") -> datetime:
    """A datetime typed without an offset means local time at the meeting."""
    return value.replace(tzinfo=ZoneInfo(zone)) if value.tzinfo is None else value


def format_date(value: datetime, language: str = "de", zone: str = "Europe/Berlin") -> str:
    local = as_utc(value).astimezone(ZoneInfo(zone))
    if language == "en":
        return local.strftime("%A, %d %B %Y").replace(" 0", " ")
    return f"{_WEEKDAYS_DE[local.weekday()]}, {local.day}. {_MONTHS_DE[local.month - 1]} {local.year}"


def format_time(value: datetime, language: str = "de", zone: str = "Europe/Berlin") -> str:
    local = as_utc(value).astimezone(ZoneInfo(zone))
    return f"{local:%H:%M} Uhr" if language == "de" else f"{local:%H:%M}"
