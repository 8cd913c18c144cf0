"""The pages behind a participant's personal links: confirm (double opt-in), see, change, cancel, download as
iCalendar, renew the link. Whoever has the link may do these things, so the token is checked on every request
and the pages send no referrer (set for every response in treffpunkt_shared.http)."""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, g, redirect, render_template, request, url_for

from . import links, privacy
from . import registrations as journey
from .agenda_model import meeting_rounds, rounds_by_slot
from .calendar_file import registration_calendar
from .catalog import catalog
from .pages import BUSY, ROUND_FULL
from .registration_events import registration_state
from .registration_form import load_needs, round_error_field

bp = Blueprint("personal", __name__)

INVALID_LINK = "Dieser Link ist ungültig oder abgelaufen."


def _deps():
    return current_app.extensions["treffpunkt"]


def _registration_for(token: str, purpose: str) -> str:
    with _deps()["engine"].connect() as conn:
        registration_id = links.registration_for(conn, token, purpose)
    if registration_id is None:
        abort(404, catalog.gettext(INVALID_LINK, g.lang))
    return registration_id


def _state(registration_id: str) -> dict:
    with _deps()["engine"].connect() as conn:
        state = registration_state(conn, registration_id)
        state["meeting"]["rounds"] = meeting_rounds(conn, state["meeting_id"], bookable_only=True)
    return state


@bp.get("/bestaetigen/<token>")
def confirm(token):
    registration_id = _registration_for(token, links.CONFIRM)
    deps = _deps()
    try:
        state = journey.confirm(deps["engine"], deps["settings"], registration_id, correlation_id=g.correlation_id)
    except journey.Busy:
        abort(503, catalog.gettext(BUSY, g.lang))
    if state["manage_token"] is None:
        return render_template("already_confirmed.html", state=state)
    return redirect(url_for(".manage", token=state["manage_token"], done="bestaetigt", lang=g.lang), 303)


def _manage_page(token, state, *, values=None, errors=None, status=200, done=None):
    chosen = {r["slot"]: r["item_id"] for r in state["rounds"]}
    values = values or {"rounds": chosen, **{k: state[k] for k in ("function", "phone", "dietary_needs",
                                                                  "accessibility_needs")}}
    return render_template("manage.html", token=token, state=state, values=values, errors=errors or {},
                           slots=rounds_by_slot(state["meeting"]["rounds"]), done=done,
                           can_change=state["status"] in ("pending", "confirmed", "waitlisted")), status


@bp.get("/anmeldung/<token>")
def manage(token):
    state = _state(_registration_for(token, links.MANAGE))
    return _manage_page(token, state, done=request.args.get("done"))


@bp.post("/anmeldung/<token>")
def change(token):
    registration_id = _registration_for(token, links.MANAGE)
    state = _state(registration_id)
    slots = sorted({r["slot"] for r in state["meeting"]["rounds"]})
    data, values, errors = load_needs(request.form, slots, g.lang)
    if errors:
        return _manage_page(token, state, values=values, errors=errors, status=422)
    deps = _deps()
    rounds_chosen = data.pop("rounds")
    try:
        journey.change(deps["engine"], deps["settings"], registration_id, rounds_chosen=rounds_chosen,
                       needs=data, correlation_id=g.correlation_id)
    except journey.RoundFull as exc:
        state = _state(registration_id)
        field = round_error_field({r["item_id"]: r["slot"] for r in state["meeting"]["rounds"]}, exc.item_id)
        return _manage_page(token, state, values=values, errors={field: [catalog.gettext(ROUND_FULL, g.lang)]},
                            status=409)
    except journey.InvalidRoundChoice as exc:
        return _manage_page(token, state, values=values, errors={"rounds": [catalog.gettext(exc.message, g.lang)]},
                            status=422)
    except journey.NotPossible as exc:
        return _manage_page(token, state, values=values, errors={"_page": [catalog.gettext(exc.message, g.lang)]},
                            status=409)
    except journey.Busy:
        abort(503, catalog.gettext(BUSY, g.lang))
    return redirect(url_for(".manage", token=token, done="geaendert", lang=g.lang), 303)


@bp.get("/anmeldung/<token>/stornieren")
def cancel_form(token):
    state = _state(_registration_for(token, links.MANAGE))
    return render_template("cancel.html", token=token, state=state)


@bp.post("/anmeldung/<token>/stornieren")
def cancel(token):
    registration_id = _registration_for(token, links.MANAGE)
    deps = _deps()
    try:
        journey.cancel(deps["engine"], deps["settings"], registration_id, by="participant",
                       correlation_id=g.correlation_id)
    except journey.NotPossible:
        pass  # cancelled before (a second click): the page below says so
    except journey.Busy:
        abort(503, catalog.gettext(BUSY, g.lang))
    return redirect(url_for(".manage", token=token, done="storniert", lang=g.lang), 303)


@bp.get("/anmeldung/<token>/kalender.ics")
def calendar(token):
    state = _state(_registration_for(token, links.MANAGE))
    if state["status"] not in ("confirmed", "waitlisted", "pending"):
        abort(404, catalog.gettext(INVALID_LINK, g.lang))
    return Response(registration_calendar(state), mimetype="text/calendar",
                    headers={"Content-Disposition": 'attachment; filename="treffpunkt.ics"',
                             "Cache-Control": "no-store"})


@bp.post("/anmeldung/<token>/neuer-link")
def renew(token):
    registration_id = _registration_for(token, links.MANAGE)
    deps = _deps()
    try:
        journey.renew_manage_link(deps["engine"], deps["settings"], registration_id,
                                  correlation_id=g.correlation_id)
    except journey.NotPossible as exc:
        abort(409, catalog.gettext(exc.message, g.lang))
    # The old link no longer works; the new one is only in the email.
    return render_template("link_renewed.html"), 200


@bp.get("/anmeldung/<token>/daten.json")
def data_export(token):
    registration_id = _registration_for(token, links.MANAGE)
    with _deps()["engine"].connect() as conn:
        data = privacy.export(conn, registration_id)
    return Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="treffpunkt-anmeldung.json"'})


@bp.get("/anmeldung/<token>/loeschen")
def erase_form(token):
    state = _state(_registration_for(token, links.MANAGE))
    return render_template("erase.html", token=token, state=state)


@bp.post("/anmeldung/<token>/loeschen")
def erase(token):
    registration_id = _registration_for(token, links.MANAGE)
    if request.form.get("confirm") != "yes":
        # Only the confirmation page's button erases (not a bare POST to this address).
        return redirect(url_for(".erase_form", token=token, lang=g.lang), 303)
    deps = _deps()
    try:
        privacy.erase(deps["engine"], deps["settings"], registration_id, reason=privacy.REQUEST, by="participant",
                      correlation_id=g.correlation_id)
    except (privacy.AlreadyErased, journey.NotPossible):
        pass  # erased by a click a moment ago: the link is gone now, the page below says it is done
    except journey.Busy:
        abort(503, catalog.gettext(BUSY, g.lang))
    # The personal link no longer exists: the result is a page of its own that needs none.
    return redirect(url_for(".erased", lang=g.lang), 303)


@bp.get("/daten-geloescht")
def erased():
    return render_template("erased.html")


@bp.after_request
def _private(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
