"""The participants' JSON API."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import Conflict, NotFound

from treffpunkt_shared.contracts import schema_instance
from treffpunkt_shared.http import InvalidInput, json_body
from marshmallow import ValidationError

from .catalog import catalog
from .meetings import RegistrationClosed, get_meeting, open_meetings
from .registrations import DUPLICATE_MESSAGE, AlreadyRegistered, MeetingUnknown, register
from .schemas import RegistrationInput, germanise

bp = Blueprint("registration_api", __name__, url_prefix="/api")


def _deps():
    return current_app.extensions["treffpunkt"]


def api_language() -> str:
    return request.accept_languages.best_match(["de", "en"], default="de")


def _meeting_json(m: dict) -> dict:
    return {"id": m["id"], "title": m["title"], "starts_at": m["starts_at"].isoformat(),
            "ends_at": m["ends_at"].isoformat(), "timezone": m["timezone"], "theme": m["theme"],
            "venue": {"name": m["venue_name"], "address": m["venue_address"], "room": m["venue_room"]},
            "capacity": m["capacity"], "places_left": max(m["capacity"] - m["seats_taken"], 0)}


@bp.get("/meetings")
def meetings_index():
    return jsonify(meetings=[_meeting_json(m) for m in open_meetings(_deps()["engine"])])


@bp.get("/meetings/<uuid:meeting_id>")
def meeting_show(meeting_id):
    with _deps()["engine"].connect() as conn:
        meeting = get_meeting(conn, str(meeting_id))
    if meeting is None:
        raise NotFound(catalog.gettext("Für dieses Treffen ist keine Anmeldung möglich.", api_language()))
    return jsonify(_meeting_json(meeting))


@bp.post("/meetings/<uuid:meeting_id>/registrations")
def create_registration(meeting_id):
    lang = api_language()
    body = json_body()
    try:
        data = schema_instance(RegistrationInput).load(body)
    except ValidationError as exc:
        raise InvalidInput(catalog.translate_errors(germanise(exc.messages), lang)) from None
    deps = _deps()
    try:
        result = register(deps["engine"], str(meeting_id), data,
                          privacy_notice_version=deps["settings"].privacy_notice_version,
                          correlation_id=g.correlation_id)
    except MeetingUnknown:
        raise NotFound(catalog.gettext("Für dieses Treffen ist keine Anmeldung möglich.", lang)) from None
    except RegistrationClosed as exc:
        raise Conflict(catalog.gettext(exc.reason, lang)) from None
    except AlreadyRegistered:
        return jsonify(error="already_registered", message=catalog.gettext(DUPLICATE_MESSAGE, lang),
                       errors={"email": [catalog.gettext(DUPLICATE_MESSAGE, lang)]}), 409
    return jsonify(result), 201
