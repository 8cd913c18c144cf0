"""What the registration service itself owns about a meeting, set by its organisers: the per-authority quota
(None: none) and the hours a participant has to follow the confirmation link.

A change is one transaction under the meeting's lock; a raised (or removed) quota hands the places it frees
up to those waiting, in order, in that same transaction (``fill_free_places``). A lowered quota takes no
place away: those who hold one keep it, and nobody more of that authority gets one until they are below it.
"""
from __future__ import annotations

import sqlalchemy as sa

from . import registrations as journey
from .models import meetings
from .places import lock_meeting

QUOTA_MAX = 1000
HOURS_MAX = 720
QUOTA_INVALID = "Bitte eine ganze Zahl von 1 bis 1000 angeben oder das Feld leer lassen (kein Kontingent)."
HOURS_INVALID = "Bitte eine ganze Zahl von 1 bis 720 (Stunden) angeben."
UNKNOWN_FIELD = "Unbekanntes Feld."


def _int_in(value, low: int, high: int) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isdigit() or len(value) > 6:
            return None
        value = int(value)
    if not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def load_form(form) -> tuple[dict, dict, dict]:
    """(values to save, values to show again, per-field German messages) from the settings form."""
    shown = {"authority_quota": form.get("authority_quota", ""),
             "confirmation_hours": form.get("confirmation_hours", "")}
    errors: dict[str, list[str]] = {}
    data: dict = {}
    quota = shown["authority_quota"].strip()
    if quota == "":
        data["authority_quota"] = None
    elif (parsed := _int_in(quota, 1, QUOTA_MAX)) is None:
        errors["authority_quota"] = [QUOTA_INVALID]
    else:
        data["authority_quota"] = parsed
    if (hours := _int_in(shown["confirmation_hours"], 1, HOURS_MAX)) is None:
        errors["confirmation_hours"] = [HOURS_INVALID]
    else:
        data["confirmation_hours"] = hours
    return data, shown, errors


def load_json(body: dict) -> tuple[dict, dict]:
    """(values to save, per-field German messages) from a JSON object; absent fields stay as they are."""
    errors: dict[str, list[str]] = {}
    data: dict = {}
    for key in body:
        if key not in ("authority_quota", "confirmation_hours"):
            errors[key] = [UNKNOWN_FIELD]
    if "authority_quota" in body:
        value = body["authority_quota"]
        if value is None:
            data["authority_quota"] = None
        elif isinstance(value, str) or (parsed := _int_in(value, 1, QUOTA_MAX)) is None:
            errors["authority_quota"] = [QUOTA_INVALID]
        else:
            data["authority_quota"] = parsed
    if "confirmation_hours" in body:
        value = body["confirmation_hours"]
        if isinstance(value, str) or (hours := _int_in(value, 1, HOURS_MAX)) is None:
            errors["confirmation_hours"] = [HOURS_INVALID]
        else:
            data["confirmation_hours"] = hours
    return data, errors


def save(engine: sa.Engine, settings, meeting_id: str, data: dict, *, correlation_id: str | None = None) -> int | None:
    """Store ``data``; returns how many waiting people got a place through it (None: meeting unknown)."""
    with engine.begin() as tx:
        if lock_meeting(tx, meeting_id) is None:
            return None
        if data:
            tx.execute(meetings.update().where(meetings.c.id == meeting_id).values(**data))
        return journey.fill_free_places(tx, settings, meeting_id, correlation_id=correlation_id)
