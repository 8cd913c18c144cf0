"""The participants' JSON API: open meetings, registering, and the personal link's actions."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, g, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import Conflict, NotFound, ServiceUnavailable, TooManyRequests

from treffpunkt_shared.auth import require_meeting
from treffpunkt_shared.contracts import schema_instance
from treffpunkt_shared.http import InvalidInput, json_body

from . import links, privacy
from . import registrations as journey
from .agenda_model import meeting_rounds
from .catalog import catalog
from .meetings import get_meeting, open_meetings
from .models import registrations
from .pages import BUSY, ROUND_FULL, TOO_MANY, within_rate_limits
from .registration_events import registration_state
from .schemas import NeedsInput, RegistrationInput, germanise

bp = Blueprint("registration_api", __name__, url_prefix="/api")
ALREADY_REGISTERED_LINK_SENT = "Der persönliche Link zu dieser Anmeldung wurde noch einmal per E-Mail verschickt."


def _deps():
    return current_app.extensions["treffpunkt"]


def api_language() -> str:
    return request.accept_languages.best_match(["de", "en"], default="de")


def _round_json(r: dict) -> dict:
    return {"item_id": r["item_id"], "title": r["title"], "kind": r["kind"], "slot": r["slot"],
            "starts_at": r["starts_at"].isoformat(), "ends_at": r["ends_at"].isoformat(), "room": r["room"],
            "capacity": r["capacity"], "places_left": r["places_left"]}


def _meeting_json(m: dict, round_list: list[dict] | None = None) -> dict:
    out = {"id": m["id"], "title": m["title"], "starts_at": m["starts_at"].isoformat(),
           "ends_at": m["ends_at"].isoformat(), "timezone": m["timezone"], "theme": m["theme"],
           "venue": {"name": m["venue_name"], "address": m["venue_address"], "room": m["venue_room"]},
           "capacity": m["capacity"], "places_left": max(m["capacity"] - m["seats_taken"], 0)}
    if round_list is not None:
        out["rounds"] = [_round_json(r) for r in round_list]
    return out


def _registration_json(state: dict) -> dict:
    return {"id": state["id"], "status": state["status"], "has_place": state["has_place"],
            "waitlist_position": state["waitlist_position"],
            "confirm_by": state["confirm_by"].isoformat() if state["confirm_by"] else None,
            "rounds": [{"item_id": r["item_id"], "title": r["title"], "held": r["held"]} for r in state["rounds"]]}


def _invalid(exc: ValidationError, lang: str):
    return InvalidInput(catalog.translate_errors(germanise(exc.messages), lang))


@bp.get("/meetings")
def meetings_index():
    return jsonify(meetings=[_meeting_json(m) for m in open_meetings(_deps()["engine"])])


@bp.get("/meetings/<uuid:meeting_id>")
def meeting_show(meeting_id):
    with _deps()["engine"].connect() as conn:
        meeting = get_meeting(conn, str(meeting_id))
        if meeting is None:
            raise NotFound(catalog.gettext("Für dieses Treffen ist keine Anmeldung möglich.", api_language()))
        return jsonify(_meeting_json(meeting, meeting_rounds(conn, meeting["id"], bookable_only=True)))


@bp.post("/meetings/<uuid:meeting_id>/registrations")
def create_registration(meeting_id):
    lang = api_language()
    body = json_body()
    try:
        data = schema_instance(RegistrationInput).load(body)
    except ValidationError as exc:
        raise _invalid(exc, lang) from None
    if not within_rate_limits(data["email"]):
        raise TooManyRequests(catalog.gettext(TOO_MANY, lang))
    deps = _deps()
    submission_key = request.headers.get("Idempotency-Key", "")[:64] or None
    try:
        state = journey.register(deps["engine"], deps["settings"], str(meeting_id), data,
                                 submission_key=submission_key, correlation_id=g.correlation_id)
    except journey.MeetingUnknown:
        raise NotFound(catalog.gettext("Für dieses Treffen ist keine Anmeldung möglich.", lang)) from None
    except journey.RegistrationClosed as exc:
        raise Conflict(catalog.gettext(exc.reason, lang)) from None
    except journey.AlreadyRegistered as exc:
        if exc.registration_id:
            journey.send_link_again(deps["engine"], deps["settings"], exc.registration_id,
                                    correlation_id=g.correlation_id)
        message = catalog.gettext(journey.DUPLICATE_MESSAGE, lang)
        return jsonify(error="already_registered",
                       message=f"{message} {catalog.gettext(ALREADY_REGISTERED_LINK_SENT, lang)}",
                       errors={"email": [message]}), 409
    except journey.InvalidRoundChoice as exc:
        raise InvalidInput({"rounds": [catalog.gettext(exc.message, lang)]}) from None
    except journey.RoundFull as exc:
        return jsonify(error="round_full", message=catalog.gettext(ROUND_FULL, lang),
                       errors={"rounds": {exc.item_id: [catalog.gettext(ROUND_FULL, lang)]}}), 409
    except journey.Busy:
        raise ServiceUnavailable(catalog.gettext(BUSY, lang)) from None
    return jsonify(_registration_json(state)), 201


def _by_link(token: str, purpose: str) -> str:
    with _deps()["engine"].connect() as conn:
        registration_id = links.registration_for(conn, token, purpose)
    if registration_id is None:
        raise NotFound(catalog.gettext("Dieser Link ist ungültig oder abgelaufen.", api_language()))
    return registration_id


@bp.post("/confirmations/<token>")
def confirm(token):
    deps = _deps()
    try:
        state = journey.confirm(deps["engine"], deps["settings"], _by_link(token, links.CONFIRM),
                                correlation_id=g.correlation_id)
    except journey.Busy:
        raise ServiceUnavailable(catalog.gettext(BUSY, api_language())) from None
    return jsonify(_registration_json(state))


@bp.get("/registrations/<token>")
def registration_show(token):
    with _deps()["engine"].connect() as conn:
        state = registration_state(conn, _by_link(token, links.MANAGE))
    return jsonify(_registration_json(state))


@bp.patch("/registrations/<token>")
def registration_change(token):
    lang = api_language()
    registration_id = _by_link(token, links.MANAGE)
    body = json_body()
    try:
        data = schema_instance(NeedsInput).load(body, partial=True)
    except ValidationError as exc:
        raise _invalid(exc, lang) from None
    deps = _deps()
    rounds_chosen = data.pop("rounds") if "rounds" in body else None
    try:
        state = journey.change(deps["engine"], deps["settings"], registration_id, rounds_chosen=rounds_chosen,
                               needs=data, correlation_id=g.correlation_id)
    except journey.RoundFull as exc:
        return jsonify(error="round_full", message=catalog.gettext(ROUND_FULL, lang),
                       errors={"rounds": {exc.item_id: [catalog.gettext(ROUND_FULL, lang)]}}), 409
    except journey.InvalidRoundChoice as exc:
        raise InvalidInput({"rounds": [catalog.gettext(exc.message, lang)]}) from None
    except journey.NotPossible as exc:
        raise Conflict(catalog.gettext(exc.message, lang)) from None
    except journey.Busy:
        raise ServiceUnavailable(catalog.gettext(BUSY, lang)) from None
    return jsonify(_registration_json(state))


@bp.delete("/registrations/<token>")
def registration_cancel(token):
    lang = api_language()
    deps = _deps()
    try:
        state = journey.cancel(deps["engine"], deps["settings"], _by_link(token, links.MANAGE),
                               by="participant", correlation_id=g.correlation_id)
    except journey.NotPossible as exc:
        raise Conflict(catalog.gettext(exc.message, lang)) from None
    except journey.Busy:
        raise ServiceUnavailable(catalog.gettext(BUSY, lang)) from None
    return jsonify(_registration_json(state))


# ------------------------------------------------------------------ organisers: a participant's data

def _meeting_registration(meeting_id, registration_id) -> str:
    """The registration if it belongs to the meeting (the organiser's right is checked before, by meeting)."""
    with _deps()["engine"].connect() as conn:
        found = conn.execute(sa.select(registrations.c.id).where(
            registrations.c.id == str(registration_id), registrations.c.meeting_id == str(meeting_id))).scalar()
    if found is None:
        raise NotFound(catalog.gettext("Diese Anmeldung gibt es bei diesem Treffen nicht.", api_language()))
    return found


@bp.get("/meetings/<uuid:meeting_id>/registrations/<uuid:registration_id>/data")
def registration_data(meeting_id, registration_id):
    """Art. 15: everything held about one registration, for the organisers of its meeting."""
    require_meeting(meeting_id)
    registration_id = _meeting_registration(meeting_id, registration_id)
    with _deps()["engine"].connect() as conn:
        data = privacy.export(conn, registration_id)
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/meetings/<uuid:meeting_id>/registrations/<uuid:registration_id>/erasure")
def registration_erasure(meeting_id, registration_id):
    """Art. 17, on the participant's request to the organisers: cancel if active, then erase."""
    require_meeting(meeting_id)
    lang = api_language()
    registration_id = _meeting_registration(meeting_id, registration_id)
    deps = _deps()
    try:
        done = privacy.erase(deps["engine"], deps["settings"], registration_id, reason=privacy.REQUEST,
                             by="organiser", correlation_id=g.correlation_id)
    except privacy.AlreadyErased:
        raise Conflict(catalog.gettext("Die Daten dieser Anmeldung sind bereits gelöscht.", lang)) from None
    except journey.Busy:
        raise ServiceUnavailable(catalog.gettext(BUSY, lang)) from None
    return jsonify(registration_id=registration_id, erased_at=done["erased_at"].isoformat())
