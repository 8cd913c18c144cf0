"""What everybody may see of a published meeting: its page (print-friendly), its agenda as iCalendar and
JSON, and the documents attached to its items. Drafts stay invisible (404)."""
from __future__ import annotations

from itertools import groupby

from flask import Blueprint, Response, abort, current_app, g, jsonify, render_template
from werkzeug.exceptions import NotFound

from treffpunkt_shared.contracts import json_ready
from treffpunkt_shared.timeutil import format_date, format_time

from .ical import KIND_LABELS, agenda_calendar
from .meetings import MeetingNotFound, get_meeting, list_meetings
from .snapshot import meeting_state
from .programme import Programme

bp = Blueprint("public", __name__)
PUBLIC_STATUSES = ("published", "closed", "archived", "cancelled")


def _programme() -> Programme:
    return current_app.extensions["treffpunkt"]["programme"]


@bp.app_template_filter("date_de")
def _date(value, zone="Europe/Berlin"):
    return format_date(value, g.get("lang", "de"), zone)


@bp.app_template_filter("time_de")
def _time(value, zone="Europe/Berlin"):
    return format_time(value, g.get("lang", "de"), zone)


def _public_meeting(meeting_id) -> dict:
    try:
        meeting = get_meeting(_programme().engine, str(meeting_id))
    except MeetingNotFound:
        raise NotFound("Dieses Treffen gibt es nicht. / No such meeting.") from None
    if meeting["status"] not in PUBLIC_STATUSES:
        raise NotFound("Dieses Treffen gibt es nicht. / No such meeting.")
    return meeting


def _public_items(meeting: dict) -> list[dict]:
    if meeting["agenda_status"] != "published":
        return []
    return _programme().items(meeting["id"], with_results=True)


def agenda_days(meeting: dict, items: list[dict]) -> list[dict]:
    """Items grouped by local day; an item that starts together with another is marked as parallel."""
    lang = g.get("lang", "de")
    zone = meeting["timezone"]
    days = []
    for date_label, day_items in groupby(items, key=lambda i: format_date(i["starts_at"], lang, zone)):
        day_items = list(day_items)
        starts = [i["starts_at"] for i in day_items]
        for item in day_items:
            item["parallel"] = starts.count(item["starts_at"]) > 1
        days.append({"date_label": date_label, "items": day_items})
    return days


def render_meeting_page(meeting: dict, items: list[dict], *, preview: bool = False) -> str:
    return render_template("public_meeting.html", meeting=meeting, days=agenda_days(meeting, items),
                           kind_labels=KIND_LABELS, preview=preview)


@bp.get("/meetings")
def index():
    meetings = list_meetings(_programme().engine, statuses=("published", "closed"))
    return render_template("public_index.html", meetings=meetings)


@bp.get("/meetings/<uuid:meeting_id>")
def meeting(meeting_id):
    found = _public_meeting(meeting_id)
    return render_meeting_page(found, _public_items(found))


@bp.get("/meetings/<uuid:meeting_id>/agenda.json")
def agenda_json(meeting_id):
    found = _public_meeting(meeting_id)
    # A round's result is public once published; until then neither it nor its (empty) date is shown.
    items = [i if i["result_published_at"] else
             {k: v for k, v in i.items() if k not in ("result", "result_published_at")}
             for i in _public_items(found)]
    return jsonify(json_ready({"meeting": meeting_state(found), "agenda_revision": found["agenda_revision"],
                               "items": items}))


@bp.get("/meetings/<uuid:meeting_id>/agenda.ics")
def agenda_ics(meeting_id):
    found = _public_meeting(meeting_id)
    body = agenda_calendar(found, _public_items(found), revision=max(found["agenda_revision"], 1))
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": f'attachment; filename="programm-{found["id"][:8]}.ics"'})


@bp.get("/meetings/<uuid:meeting_id>/documents/<uuid:document_id>")
def document(meeting_id, document_id):
    found = _public_meeting(meeting_id)
    if found["agenda_status"] != "published":
        abort(404)
    row = _programme().document(str(meeting_id), str(document_id))
    if row is None:
        abort(404)
    # Served as a download, never inline: an uploaded file must not run in this origin.
    return Response(row.data, mimetype=row.content_type, headers={
        "Content-Disposition": f'attachment; filename="{row.filename}"',
        "Cache-Control": "public, max-age=300"})
