"""Downloads for organisers: the participant list (with the list page's filters) as CSV and XLSX, and the
attendance list of one meeting day as PDF."""
from __future__ import annotations

from flask import Response, abort, current_app, g, request

from treffpunkt_shared.http import InvalidInput, wants_json

from . import attendance_pdf, exports
from .catalog import catalog
from .organiser_access import organiser_blueprint
from .organiser_pages import day_label, meeting_or_404
from .participant_list import Filters, parse_filters, participants

bp = organiser_blueprint("organiser_exports", __name__, url_prefix="/organiser")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _t(text: str) -> str:
    return catalog.gettext(text, g.lang)


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _filtered_rows(meeting: dict):
    filters, errors = parse_filters(request.args)
    if errors:
        if wants_json():
            raise InvalidInput({k: [_t(m) for m in v] for k, v in errors.items()})
        abort(400, " ".join(_t(m) for v in errors.values() for m in v))
    with current_app.extensions["treffpunkt"]["engine"].connect() as conn:
        entries = participants(conn, meeting["id"], filters)
    return exports.rows(entries, meeting["timezone"], _t)


def _name(meeting: dict, suffix: str) -> str:
    return f"teilnehmende-{meeting['starts_at']:%Y-%m-%d}.{suffix}"


@bp.get("/meetings/<uuid:meeting_id>/participants.csv")
def participants_csv(meeting_id):
    meeting = meeting_or_404(meeting_id)
    headings, data = _filtered_rows(meeting)
    return _download(exports.as_csv(headings, data), "text/csv; charset=utf-8", _name(meeting, "csv"))


@bp.get("/meetings/<uuid:meeting_id>/participants.xlsx")
def participants_xlsx(meeting_id):
    meeting = meeting_or_404(meeting_id)
    headings, data = _filtered_rows(meeting)
    return _download(exports.as_xlsx(headings, data, _t("Teilnehmende")), XLSX, _name(meeting, "xlsx"))


@bp.get("/meetings/<uuid:meeting_id>/attendance/<day>.pdf")
def attendance_list(meeting_id, day):
    meeting = meeting_or_404(meeting_id)
    the_day = attendance_pdf.day_of(day, meeting["days"])
    if the_day is None:
        abort(404, _t("An diesem Tag findet das Treffen nicht statt."))
    with current_app.extensions["treffpunkt"]["engine"].connect() as conn:
        confirmed = participants(conn, meeting["id"], Filters(status="confirmed"))
    venue = ", ".join(v for v in (meeting["venue_room"], meeting["venue_name"], meeting["venue_address"]) if v)
    labels = {"heading": _t("Anwesenheitsliste"), "number": _t("Nr."), "name": _t("Name"),
              "organisation": _t("Behörde / Organisation"), "signature": _t("Unterschrift"),
              "count": _t("Angemeldet und bestätigt")}
    body = attendance_pdf.attendance_pdf(
        title=meeting["title"], day_label=day_label(the_day, meeting["timezone"]), venue=venue, labels=labels,
        participants=[{"name": f"{p['last_name']}, {p['first_name']}", "organisation": p["organisation"]}
                      for p in confirmed])
    return _download(body, "application/pdf", f"anwesenheitsliste-{the_day.isoformat()}.pdf")
