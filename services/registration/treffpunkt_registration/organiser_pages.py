"""The organisers' pages (``/organiser/...``): their meetings, a meeting's participant list with search,
filters, counts and the waiting list, one participant with the manual steps (each behind a confirmation page
whose POST form carries the CSRF token), the meeting's registration settings, and the list of authorities.
Access is checked for every route before it reads input (:mod:`.organiser_access`)."""
from __future__ import annotations

import unicodedata
from datetime import date, datetime, time, timezone

import sqlalchemy as sa
from flask import abort, current_app, g, redirect, render_template, request, url_for

from treffpunkt_shared.auth import current_principal
from treffpunkt_shared.timeutil import format_date

from . import meeting_settings, organiser_actions
from . import registrations as journey
from .authority_list import add_authority, remove_authority
from .catalog import catalog
from .meetings import get_meeting
from .models import authorities, meetings
from .organiser_access import organiser_blueprint
from .pages import BUSY
from .participant_list import (STATUS_LABELS, STATUSES, authority_counts, meeting_days, parse_filters,
                               participant, participants, round_counts, waiting_list)

bp = organiser_blueprint("organiser", __name__, url_prefix="/organiser")

AUTHORITY_MISSING = "Bitte geben Sie den Namen der Behörde an."
AUTHORITY_TOO_LONG = "Bitte höchstens 200 Zeichen eingeben."
AUTHORITY_CONTROL = "Bitte keine Zeilenumbrüche oder Steuerzeichen verwenden."
AUTHORITY_EXISTS = "Diese Behörde steht schon in der Liste."


def _deps():
    return current_app.extensions["treffpunkt"]


def _t(text: str) -> str:
    return catalog.gettext(text, g.lang)


@bp.app_template_filter("status_label")
def _status_label(status: str) -> str:
    return catalog.gettext(STATUS_LABELS.get(status, status), g.get("lang", "de"))


@bp.app_template_filter("day_label")
def day_label(day: date, zone: str = "Europe/Berlin") -> str:
    # Noon UTC of the day is that same day in every European zone.
    return format_date(datetime.combine(day, time(12), tzinfo=timezone.utc), g.get("lang", "de"), zone)


def meeting_or_404(meeting_id) -> dict:
    with _deps()["engine"].connect() as conn:
        meeting = get_meeting(conn, str(meeting_id))
    if meeting is None:
        abort(404, _t("Dieses Treffen ist hier (noch) nicht bekannt."))
    meeting["days"] = meeting_days(meeting)
    meeting["places_left"] = max(meeting["capacity"] - meeting["seats_taken"], 0)
    return meeting


def deliveries_url(meeting_id: str) -> str | None:
    base = _deps()["settings"].notify_base_url
    return f"{base.rstrip('/')}/api/meetings/{meeting_id}/deliveries" if base else None


@bp.get("/")
def meetings_index():
    principal = current_principal()
    with _deps()["engine"].connect() as conn:
        rows = conn.execute(sa.select(meetings).order_by(meetings.c.starts_at.desc())).all()
    mine = [r for r in rows if principal.can_manage(r.id)]
    return render_template("organiser/meetings.html", meetings=mine)


@bp.get("/meetings/<uuid:meeting_id>")
def participants_page(meeting_id):
    meeting = meeting_or_404(meeting_id)
    filters, errors = parse_filters(request.args)
    with _deps()["engine"].connect() as conn:
        listed = participants(conn, meeting["id"], filters)
        by_authority = authority_counts(conn, meeting["id"])
        by_round = round_counts(conn, meeting["id"])
        waiting = waiting_list(conn, meeting["id"])
    return render_template("organiser/participants.html", meeting=meeting, filters=filters,
                           errors={k: [_t(m) for m in v] for k, v in errors.items()}, participants=listed,
                           by_authority=by_authority, by_round=by_round, waiting=waiting, statuses=STATUSES,
                           deliveries_url=deliveries_url(meeting["id"]), done=request.args.get("done"))


def _participant_or_404(meeting_id: str, registration_id) -> dict:
    with _deps()["engine"].connect() as conn:
        entry = participant(conn, meeting_id, str(registration_id))
    if entry is None:
        abort(404, _t("Diese Anmeldung gibt es nicht."))
    return entry


@bp.get("/meetings/<uuid:meeting_id>/registrations/<uuid:registration_id>")
def participant_page(meeting_id, registration_id):
    meeting = meeting_or_404(meeting_id)
    entry = _participant_or_404(meeting["id"], registration_id)
    return render_template("organiser/participant.html", meeting=meeting, p=entry,
                           steps=organiser_actions.possible(entry), labels=organiser_actions.LABELS,
                           deliveries_url=deliveries_url(meeting["id"]), done=request.args.get("done"))


ACTION_RULE = "/meetings/<uuid:meeting_id>/registrations/<uuid:registration_id>/<any(confirm,waitlist,cancel,promote):action>"


@bp.get(ACTION_RULE)
def action_form(meeting_id, registration_id, action):
    meeting = meeting_or_404(meeting_id)
    entry = _participant_or_404(meeting["id"], registration_id)
    return render_template("organiser/action.html", meeting=meeting, p=entry, action=action,
                           question=organiser_actions.QUESTIONS[action], label=organiser_actions.LABELS[action],
                           explanation=organiser_actions.EXPLANATIONS[action],
                           fits=action in organiser_actions.possible(entry))


@bp.post(ACTION_RULE)
def action_submit(meeting_id, registration_id, action):
    meeting = meeting_or_404(meeting_id)
    deps = _deps()
    try:
        organiser_actions.apply(deps["engine"], deps["settings"], meeting["id"], str(registration_id), action,
                                correlation_id=g.correlation_id)
    except organiser_actions.UnknownRegistration:
        abort(404, _t("Diese Anmeldung gibt es nicht."))
    except journey.NotPossible as exc:
        entry = _participant_or_404(meeting["id"], registration_id)
        return render_template("organiser/action.html", meeting=meeting, p=entry, action=action,
                               question=organiser_actions.QUESTIONS[action],
                               label=organiser_actions.LABELS[action],
                               explanation=organiser_actions.EXPLANATIONS[action], fits=False,
                               problem=_t(exc.message)), 409
    except journey.Busy:
        abort(503, _t(BUSY))
    return redirect(url_for(".participant_page", meeting_id=meeting_id, registration_id=registration_id,
                            done=action, lang=g.lang), 303)


@bp.post("/meetings/<uuid:meeting_id>/free-places")
def free_places(meeting_id):
    meeting = meeting_or_404(meeting_id)
    deps = _deps()
    try:
        given = organiser_actions.fill_free_places(deps["engine"], deps["settings"], meeting["id"],
                                                   correlation_id=g.correlation_id)
    except journey.Busy:
        abort(503, _t(BUSY))
    return redirect(url_for(".participants_page", meeting_id=meeting_id, done=f"given-{given}", lang=g.lang), 303)


def _settings_page(meeting, *, values=None, errors=None, status=200, done=None):
    values = values or {"authority_quota": "" if meeting["authority_quota"] is None else str(meeting["authority_quota"]),
                        "confirmation_hours": str(meeting["confirmation_hours"])}
    translated = {k: [_t(m) for m in v] for k, v in (errors or {}).items()}
    return render_template("organiser/settings.html", meeting=meeting, values=values, errors=translated,
                           done=done), status


@bp.get("/meetings/<uuid:meeting_id>/settings")
def settings_form(meeting_id):
    return _settings_page(meeting_or_404(meeting_id), done=request.args.get("done"))


@bp.post("/meetings/<uuid:meeting_id>/settings")
def settings_submit(meeting_id):
    meeting = meeting_or_404(meeting_id)
    data, shown, errors = meeting_settings.load_form(request.form)
    if errors:
        return _settings_page(meeting, values=shown, errors=errors, status=422)
    deps = _deps()
    try:
        given = meeting_settings.save(deps["engine"], deps["settings"], meeting["id"], data,
                                      correlation_id=g.correlation_id)
    except journey.Busy:
        abort(503, _t(BUSY))
    return redirect(url_for(".settings_form", meeting_id=meeting_id, done=f"saved-{given or 0}", lang=g.lang), 303)


def _authorities_page(*, values=None, errors=None, status=200, done=None):
    with _deps()["engine"].connect() as conn:
        rows = conn.execute(sa.select(authorities).order_by(authorities.c.name)).all()
    translated = {k: [_t(m) for m in v] for k, v in (errors or {}).items()}
    return render_template("organiser/authorities.html", authorities=rows, values=values or {},
                           errors=translated, done=done), status


@bp.get("/authorities")
def authorities_page():
    return _authorities_page(done=request.args.get("done"))


@bp.post("/authorities")
def authorities_add():
    raw = request.form.get("name", "")
    name = " ".join(raw.split())
    if not name:
        error = AUTHORITY_MISSING
    elif len(name) > 200:
        error = AUTHORITY_TOO_LONG
    elif any(unicodedata.category(c) == "Cc" and c != " " for c in raw):
        error = AUTHORITY_CONTROL
    elif not add_authority(_deps()["engine"], name):
        error = AUTHORITY_EXISTS
    else:
        return redirect(url_for(".authorities_page", done="added", lang=g.lang), 303)
    return _authorities_page(values={"name": raw}, errors={"name": [error]}, status=422)


@bp.post("/authorities/<int:authority_id>/remove")
def authorities_remove(authority_id):
    remove_authority(_deps()["engine"], authority_id)
    return redirect(url_for(".authorities_page", done="removed", lang=g.lang), 303)
