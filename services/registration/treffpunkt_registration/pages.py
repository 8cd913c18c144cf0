"""The participants' HTML pages: open meetings, a meeting with its agenda preview and the registration form,
the page after registering."""
from __future__ import annotations

import secrets
from datetime import datetime

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from treffpunkt_shared.timeutil import format_date, format_time

from . import registrations as journey
from .agenda_model import meeting_rounds, rounds_by_slot
from .authority_list import authority_names
from .catalog import catalog
from .meetings import get_meeting, open_meetings, registration_problem
from .rate_limit import hit
from .registration_form import load_registration, round_error_field

bp = Blueprint("pages", __name__)


def _deps():
    return current_app.extensions["treffpunkt"]


@bp.app_template_filter("date_de")
def _date(value, zone="Europe/Berlin"):
    return format_date(value, g.get("lang", "de"), zone)


@bp.app_template_filter("time_de")
def _time(value, zone="Europe/Berlin"):
    return format_time(value, g.get("lang", "de"), zone)


@bp.app_template_filter("parse_time")
def _parse_time(value):
    return datetime.fromisoformat(value) if isinstance(value, str) else value


@bp.get("/")
def index():
    return render_template("index.html", meetings=open_meetings(_deps()["engine"]))


def _load_meeting(meeting_id) -> dict:
    with _deps()["engine"].connect() as conn:
        meeting = get_meeting(conn, str(meeting_id))
        if meeting is None:
            abort(404)
        meeting["rounds"] = meeting_rounds(conn, meeting["id"], bookable_only=True)
    return meeting


def _form_page(meeting, *, values=None, errors=None, closed=None, status=200, notice=None):
    with _deps()["engine"].connect() as conn:
        authorities = authority_names(conn)
    return render_template(
        "meeting.html", meeting=meeting, values=values or {"rounds": {}}, errors=errors or {},
        closed=closed, notice=notice, slots=rounds_by_slot(meeting["rounds"]), authorities=authorities,
        submission_key=secrets.token_urlsafe(24),
        places_left=max(meeting["capacity"] - meeting["seats_taken"], 0)), status


@bp.get("/meetings/<uuid:meeting_id>")
def meeting(meeting_id):
    meeting = _load_meeting(meeting_id)
    return _form_page(meeting, closed=registration_problem(meeting))


def within_rate_limits(email: str | None) -> bool:
    settings, engine = _deps()["settings"], _deps()["engine"]
    counters = [("address", request.remote_addr or "", settings.rate_limit_per_address)]
    if email:
        counters.append(("email", email.strip().lower(), settings.rate_limit_per_email))
    return hit(engine, counters, window_s=settings.rate_window_s)


TOO_MANY = "Zu viele Anmeldeversuche in kurzer Zeit. Bitte versuchen Sie es in einigen Minuten noch einmal."
BUSY = "Gerade melden sich sehr viele Personen an. Bitte senden Sie das Formular noch einmal."
ROUND_FULL = "Diese Runde ist inzwischen ausgebucht. Bitte wählen Sie eine andere."


@bp.post("/meetings/<uuid:meeting_id>")
def submit(meeting_id):
    meeting = _load_meeting(meeting_id)
    slots = sorted({r["slot"] for r in meeting["rounds"]})
    data, values, errors = load_registration(request.form, slots, g.lang)
    if errors:
        return _form_page(meeting, values=values, errors=errors, status=422)
    if not within_rate_limits(data["email"]):
        return _form_page(meeting, values=values, notice=catalog.gettext(TOO_MANY, g.lang), status=429)
    deps = _deps()
    submission_key = request.form.get("submission_key", "")[:64] or None
    try:
        state = journey.register(deps["engine"], deps["settings"], str(meeting_id), data,
                                 submission_key=submission_key, correlation_id=g.correlation_id)
    except (journey.MeetingUnknown, journey.RegistrationClosed):
        meeting = _load_meeting(meeting_id)
        return _form_page(meeting, values=values, status=409,
                          closed=registration_problem(meeting) or "Für dieses Treffen ist keine Anmeldung möglich.")
    except journey.AlreadyRegistered as exc:
        if exc.registration_id:
            journey.send_link_again(deps["engine"], deps["settings"], exc.registration_id,
                                    correlation_id=g.correlation_id)
        return render_template("already_registered.html", meeting=meeting), 200
    except journey.InvalidRoundChoice as exc:
        return _form_page(meeting, values=values, status=422,
                          errors={"rounds": [catalog.gettext(exc.message, g.lang)]})
    except journey.RoundFull as exc:
        meeting = _load_meeting(meeting_id)
        field = round_error_field({r["item_id"]: r["slot"] for r in meeting["rounds"]}, exc.item_id)
        # The full round is no longer ticked (it shows disabled): the participant chooses again.
        values["rounds"] = {slot: item for slot, item in values["rounds"].items() if item != exc.item_id}
        return _form_page(meeting, values=values, status=409,
                          errors={field: [catalog.gettext(ROUND_FULL, g.lang)]})
    except journey.Busy:
        return _form_page(meeting, values=values, notice=catalog.gettext(BUSY, g.lang), status=503)
    # Post/redirect/get: a reload of the next page does not post the form again.
    return redirect(url_for(".registered", meeting_id=meeting_id, place="1" if state["has_place"] else "0",
                            position=state["waitlist_position"] or None, lang=g.lang), 303)


@bp.get("/meetings/<uuid:meeting_id>/angemeldet")
def registered(meeting_id):
    meeting = _load_meeting(meeting_id)
    place = request.args.get("place")
    if place not in ("0", "1"):
        abort(404)
    return render_template("registered.html", meeting=meeting, has_place=place == "1",
                           position=request.args.get("position", type=int))
