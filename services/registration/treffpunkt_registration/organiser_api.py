"""The organisers' JSON API (``/api/organiser/...``): the participant list with its filters and counts, the
waiting list, the manual steps, the meeting's registration settings, check-in and attendance figures.
Bad input gets 4xx with per-field messages (German, or English with ``Accept-Language: en``)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import current_app, g, jsonify, request
from werkzeug.exceptions import Conflict, NotFound, ServiceUnavailable

from treffpunkt_shared.auth import current_principal
from treffpunkt_shared.http import InvalidInput, json_body

from . import attendance, meeting_settings, organiser_actions
from . import registrations as journey
from .api import api_language
from .attendance_pdf import day_of
from .catalog import catalog
from .meetings import get_meeting, meeting_as_dict
from .models import meetings
from .organiser_access import organiser_blueprint
from .pages import BUSY
from .participant_list import (authority_counts, meeting_days, parse_filters, participant, participants,
                               round_counts, waiting_list)

bp = organiser_blueprint("organiser_api", __name__, url_prefix="/api/organiser")

UNKNOWN_MEETING = "Dieses Treffen ist hier (noch) nicht bekannt."
UNKNOWN_REGISTRATION = "Diese Anmeldung gibt es nicht."
REQUIRED = "Pflichtangabe."
NOT_A_DAY = "Kein Tag dieses Treffens (JJJJ-MM-TT)."
NOT_A_BOOLEAN = "Bitte true oder false angeben."
NOT_AN_ID = "Keine gültige Anmeldungs-ID."


def _t(text: str) -> str:
    return catalog.gettext(text, api_language())


def _deps():
    return current_app.extensions["treffpunkt"]


def _invalid(errors: dict) -> InvalidInput:
    return InvalidInput({k: [_t(m) for m in v] for k, v in errors.items()})


def _meeting(meeting_id) -> dict:
    with _deps()["engine"].connect() as conn:
        meeting = get_meeting(conn, str(meeting_id))
    if meeting is None:
        raise NotFound(_t(UNKNOWN_MEETING))
    return meeting


def _iso(value):
    return value.isoformat() if value is not None else None


def _entry_json(e: dict) -> dict:
    return {"id": e["id"], "first_name": e["first_name"], "last_name": e["last_name"], "email": e["email"],
            "organisation": e["organisation"], "authority_key": e["authority_key"], "function": e["function"],
            "phone": e["phone"], "dietary_needs": e["dietary_needs"],
            "accessibility_needs": e["accessibility_needs"], "photo_consent": e["photo_consent"],
            "language": e["language"], "status": e["status"], "has_place": e["has_place"],
            "waitlist_position": e["waitlist_position"], "created_at": _iso(e["created_at"]),
            "confirmed_at": _iso(e["confirmed_at"]), "cancelled_at": _iso(e["cancelled_at"]),
            "cancelled_by": e["cancelled_by"], "confirm_by": _iso(e["confirm_by"]),
            "rounds": e["rounds"], "possible_actions": organiser_actions.possible(e)}


def _meeting_json(m: dict) -> dict:
    return {"id": m["id"], "title": m["title"], "starts_at": _iso(m["starts_at"]), "ends_at": _iso(m["ends_at"]),
            "status": m["status"], "capacity": m["capacity"], "seats_taken": m["seats_taken"],
            "places_left": max(m["capacity"] - m["seats_taken"], 0), "authority_quota": m["authority_quota"],
            "confirmation_hours": m["confirmation_hours"],
            "days": [d.isoformat() for d in meeting_days(m)]}


@bp.get("/meetings")
def meetings_index():
    principal = current_principal()
    with _deps()["engine"].connect() as conn:
        rows = conn.execute(sa.select(meetings).order_by(meetings.c.starts_at.desc())).all()
    return jsonify(meetings=[_meeting_json(meeting_as_dict(r)) for r in rows if principal.can_manage(r.id)])


@bp.get("/meetings/<uuid:meeting_id>/registrations")
def registrations_index(meeting_id):
    meeting = _meeting(meeting_id)
    filters, errors = parse_filters(request.args)
    if errors:
        raise _invalid(errors)
    with _deps()["engine"].connect() as conn:
        listed = participants(conn, meeting["id"], filters)
        counts = {"authorities": authority_counts(conn, meeting["id"]), "rounds": round_counts(conn, meeting["id"])}
    for r in counts["rounds"]:
        r["starts_at"] = _iso(r["starts_at"])
    return jsonify(meeting=_meeting_json(meeting), filters=filters.as_args(),
                   registrations=[_entry_json(e) for e in listed], counts=counts)


@bp.get("/meetings/<uuid:meeting_id>/waitlist")
def waitlist(meeting_id):
    meeting = _meeting(meeting_id)
    with _deps()["engine"].connect() as conn:
        waiting = waiting_list(conn, meeting["id"])
    return jsonify(waitlist=[_entry_json(e) for e in waiting])


@bp.get("/meetings/<uuid:meeting_id>/registrations/<uuid:registration_id>")
def registration_show(meeting_id, registration_id):
    meeting = _meeting(meeting_id)
    with _deps()["engine"].connect() as conn:
        entry = participant(conn, meeting["id"], str(registration_id))
    if entry is None:
        raise NotFound(_t(UNKNOWN_REGISTRATION))
    return jsonify(_entry_json(entry))


@bp.post("/meetings/<uuid:meeting_id>/registrations/<uuid:registration_id>/actions")
def registration_action(meeting_id, registration_id):
    meeting = _meeting(meeting_id)
    body = json_body()
    action = body.get("action")
    errors = {k: ["Unbekanntes Feld."] for k in body if k != "action"}
    if action is None:
        errors["action"] = [REQUIRED]
    elif action not in organiser_actions.ACTIONS:
        errors["action"] = [organiser_actions.UNKNOWN_ACTION]
    if errors:
        raise _invalid(errors)
    deps = _deps()
    try:
        organiser_actions.apply(deps["engine"], deps["settings"], meeting["id"], str(registration_id), action,
                                correlation_id=g.correlation_id)
    except organiser_actions.UnknownRegistration:
        raise NotFound(_t(UNKNOWN_REGISTRATION)) from None
    except journey.NotPossible as exc:
        raise Conflict(_t(exc.message)) from None
    except journey.Busy:
        raise ServiceUnavailable(_t(BUSY)) from None
    with deps["engine"].connect() as conn:
        return jsonify(_entry_json(participant(conn, meeting["id"], str(registration_id))))


@bp.post("/meetings/<uuid:meeting_id>/free-places")
def free_places(meeting_id):
    meeting = _meeting(meeting_id)
    deps = _deps()
    try:
        given = organiser_actions.fill_free_places(deps["engine"], deps["settings"], meeting["id"],
                                                   correlation_id=g.correlation_id)
    except journey.Busy:
        raise ServiceUnavailable(_t(BUSY)) from None
    return jsonify(given=given)


@bp.get("/meetings/<uuid:meeting_id>/settings")
def settings_show(meeting_id):
    m = _meeting(meeting_id)
    return jsonify(authority_quota=m["authority_quota"], confirmation_hours=m["confirmation_hours"])


@bp.patch("/meetings/<uuid:meeting_id>/settings")
def settings_change(meeting_id):
    _meeting(meeting_id)
    data, errors = meeting_settings.load_json(json_body())
    if errors:
        raise _invalid(errors)
    deps = _deps()
    try:
        given = meeting_settings.save(deps["engine"], deps["settings"], str(meeting_id), data,
                                      correlation_id=g.correlation_id)
    except journey.Busy:
        raise ServiceUnavailable(_t(BUSY)) from None
    m = _meeting(meeting_id)
    return jsonify(authority_quota=m["authority_quota"], confirmation_hours=m["confirmation_hours"],
                   places_given=given or 0)


@bp.get("/meetings/<uuid:meeting_id>/attendance")
def attendance_show(meeting_id):
    meeting = _meeting(meeting_id)
    days = meeting_days(meeting)
    with _deps()["engine"].connect() as conn:
        figures = attendance.figures(conn, meeting["id"], days)
        present = {d.isoformat(): sorted(attendance.present_on(conn, meeting["id"], d)) for d in days}

    def per_day(values: dict[date, int]) -> dict[str, int]:
        return {d.isoformat(): n for d, n in values.items()}

    return jsonify(days=[d.isoformat() for d in days], present=present,
                   authorities=[{**a, "per_day": per_day(a["per_day"])} for a in figures["authorities"]],
                   total={**figures["total"], "per_day": per_day(figures["total"]["per_day"])})


@bp.post("/meetings/<uuid:meeting_id>/attendance")
def attendance_mark(meeting_id):
    """Body: ``{"registration_id": …, "day": "YYYY-MM-DD", "attended": true|false}``."""
    meeting = _meeting(meeting_id)
    body = json_body()
    errors = {k: ["Unbekanntes Feld."] for k in body if k not in ("registration_id", "day", "attended")}
    registration_id, day, attended = body.get("registration_id"), body.get("day"), body.get("attended")
    if not isinstance(registration_id, str) or not registration_id or len(registration_id) > 36:
        errors["registration_id"] = [REQUIRED if registration_id is None else NOT_AN_ID]
    the_day = day_of(day, meeting_days(meeting)) if isinstance(day, str) else None
    if the_day is None:
        errors["day"] = [REQUIRED if day is None else NOT_A_DAY]
    if not isinstance(attended, bool):
        errors["attended"] = [REQUIRED if attended is None else NOT_A_BOOLEAN]
    if errors:
        raise _invalid(errors)
    try:
        changed = attendance.mark(_deps()["engine"], meeting["id"], registration_id, the_day, attended)
    except attendance.NotCheckable as exc:
        if exc.message == attendance.UNKNOWN:
            raise NotFound(_t(exc.message)) from None
        raise Conflict(_t(exc.message)) from None
    return jsonify(registration_id=registration_id, day=the_day.isoformat(), attended=attended, changed=changed)
