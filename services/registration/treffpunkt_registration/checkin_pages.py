"""Check-in on the day (mark a confirmed participant present, or undo it) and the attendance figures per
authority afterwards."""
from __future__ import annotations

from flask import abort, current_app, g, redirect, render_template, request, url_for

from . import attendance
from .attendance_pdf import day_of
from .catalog import catalog
from .organiser_access import organiser_blueprint
from .organiser_pages import meeting_or_404
from .participant_list import Filters, parse_filters, participants

bp = organiser_blueprint("checkin", __name__, url_prefix="/organiser")


def _t(text: str) -> str:
    return catalog.gettext(text, g.lang)


def _engine():
    return current_app.extensions["treffpunkt"]["engine"]


def _day_or_404(meeting: dict, day: str):
    the_day = day_of(day, meeting["days"])
    if the_day is None:
        abort(404, _t("An diesem Tag findet das Treffen nicht statt."))
    return the_day


@bp.get("/meetings/<uuid:meeting_id>/checkin/<day>")
def checkin_page(meeting_id, day):
    meeting = meeting_or_404(meeting_id)
    the_day = _day_or_404(meeting, day)
    filters, errors = parse_filters(request.args)
    with _engine().connect() as conn:
        listed = participants(conn, meeting["id"], Filters(q=filters.q, status="confirmed"))
        everyone = participants(conn, meeting["id"], Filters(status="confirmed"))
        present = attendance.present_on(conn, meeting["id"], the_day)
    return render_template("organiser/checkin.html", meeting=meeting, day=the_day, q=filters.q,
                           errors={k: [_t(m) for m in v] for k, v in errors.items()}, participants=listed,
                           present=present, total=len(everyone),
                           present_count=sum(1 for p in everyone if p["id"] in present),
                           problem=request.args.get("problem"))


@bp.post("/meetings/<uuid:meeting_id>/checkin/<day>/<uuid:registration_id>")
def checkin_mark(meeting_id, day, registration_id):
    meeting = meeting_or_404(meeting_id)
    the_day = _day_or_404(meeting, day)
    attended = request.form.get("attended", "1") != "0"
    q = request.form.get("q", "")[:100]
    try:
        attendance.mark(_engine(), meeting["id"], str(registration_id), the_day, attended)
    except attendance.NotCheckable as exc:
        if exc.message == attendance.UNKNOWN:
            abort(404, _t(exc.message))
        abort(409, _t(exc.message))
    target = url_for(".checkin_page", meeting_id=meeting_id, day=the_day.isoformat(), q=q or None, lang=g.lang)
    return redirect(f"{target}#r-{registration_id}", 303)


@bp.get("/meetings/<uuid:meeting_id>/attendance")
def attendance_figures(meeting_id):
    meeting = meeting_or_404(meeting_id)
    with _engine().connect() as conn:
        figures = attendance.figures(conn, meeting["id"], meeting["days"])
    return render_template("organiser/attendance.html", meeting=meeting, figures=figures)
