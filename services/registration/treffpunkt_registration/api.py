"""The participants' JSON API: open meetings, registering, and the personal link's actions."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import Conflict, NotFound, ServiceUnavailable, TooManyRequests

from treffpunkt_shared.contracts import schema_instance
from treffpunkt_shared.http import InvalidInput, json_body

from . import links
from . import registrations as journey
from .agenda_model import meeting_rounds
from .catalog import catalog
from .meetings import get_meeting, open_meetings
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
