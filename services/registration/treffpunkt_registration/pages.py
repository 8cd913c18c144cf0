"""The participants' HTML pages: open meetings, the registration form, the thank-you page."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from treffpunkt_shared.contracts import schema_instance
from treffpunkt_shared.timeutil import format_date, format_time

from .catalog import catalog
from .meetings import RegistrationClosed, get_meeting, open_meetings, registration_problem
from .registrations import DUPLICATE_MESSAGE, AlreadyRegistered, MeetingUnknown, register
from .schemas import RegistrationInput, germanise

bp = Blueprint("pages", __name__)
FORM_FIELDS = ("first_name", "last_name", "email", "organisation", "function")


def _deps():
    return current_app.extensions["treffpunkt"]


@bp.app_template_filter("date_de")
def _date(value, zone="Europe/Berlin"):
    return format_date(value, g.get("lang", "de"), zone)


@bp.app_template_filter("time_de")
def _time(value, zone="Europe/Berlin"):
    return format_time(value, g.get("lang", "de"), zone)


@bp.get("/")
def index():
    return render_template("index.html", meetings=open_meetings(_deps()["engine"]))


def _load_meeting(meeting_id) -> dict:
    with _deps()["engine"].connect() as conn:
        meeting = get_meeting(conn, str(meeting_id))
    if meeting is None:
        abort(404)
    return meeting


@bp.get("/meetings/<uuid:meeting_id>")
def meeting(meeting_id):
    meeting = _load_meeting(meeting_id)
    return render_template("meeting.html", meeting=meeting, values={}, errors={},
                           closed=registration_problem(meeting))


@bp.post("/meetings/<uuid:meeting_id>")
def submit(meeting_id):
    meeting = _load_meeting(meeting_id)
    form = request.form
    values = {key: form.get(key, "") for key in FORM_FIELDS}
    submitted = dict(values, privacy_consent=form.get("privacy_consent") == "yes", language=g.lang)
    errors = {}
    try:
        data = schema_instance(RegistrationInput).load(submitted)
    except ValidationError as exc:
        errors = catalog.translate_errors(germanise(exc.messages), g.lang)
    if not errors:
        deps = _deps()
        try:
            result = register(deps["engine"], str(meeting_id), data,
                              privacy_notice_version=deps["settings"].privacy_notice_version,
                              correlation_id=g.correlation_id)
        except (MeetingUnknown, RegistrationClosed):
            meeting = _load_meeting(meeting_id)
            return render_template("meeting.html", meeting=meeting, values=values, errors={},
                                   closed=registration_problem(meeting) or
                                   "Für dieses Treffen ist keine Anmeldung möglich."), 409
        except AlreadyRegistered:
            errors = {"email": [catalog.gettext(DUPLICATE_MESSAGE, g.lang)]}
        else:
            # Post/redirect/get: a reload of the thank-you page does not post the form again.
            return redirect(url_for(".thanks", meeting_id=meeting_id, status=result["status"],
                                    position=result["waitlist_position"] or None, lang=g.lang), 303)
    return render_template("meeting.html", meeting=meeting, values=values, errors=errors,
                           consent=submitted["privacy_consent"], closed=None), 422


@bp.get("/meetings/<uuid:meeting_id>/danke")
def thanks(meeting_id):
    meeting = _load_meeting(meeting_id)
    status = request.args.get("status")
    if status not in ("confirmed", "waitlisted"):
        abort(404)
    return render_template("thanks.html", meeting=meeting, status=status,
                           position=request.args.get("position", type=int))
