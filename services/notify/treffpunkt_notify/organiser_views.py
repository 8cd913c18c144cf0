"""Organisers' notify pages and API, each for one meeting (checked before any input is read):

* ``/meetings/<id>/preview`` and ``/meetings/<id>/preview/<kind>``: every mail of the catalogue with demo
  data (subject, plain text, the HTML part in a sandboxed frame);
* ``/api/meetings/<id>/participants/<registration_id>/deliveries``: one participant's delivery log;
* ``/api/meetings/<id>/broadcasts``: write to all participants of the meeting, of a round, of an authority,
  or to the waiting list (the logic is :mod:`.broadcast_drafts`, shared with ``organiser_pages``). ``POST``
  creates a draft and answers with its preview (rendered for the first recipient) and the number of
  recipients; ``POST …/<broadcast_id>/send`` sends it as individual mails
  (the worker's scheduler expands it; each recipient once, by logical key).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, render_template
from werkzeug.exceptions import Conflict, NotFound

from treffpunkt_shared.auth import require_meeting
from treffpunkt_shared.http import json_body, load

from . import broadcast_drafts, demo
from .emails import KINDS, ORGANISER_KINDS
from .models import mails

bp = Blueprint("notify_organiser", __name__)
KIND_PATH = "any(" + ", ".join(KINDS) + ")"


def _deps():
    return current_app.extensions["treffpunkt"]


@bp.get("/meetings/<uuid:meeting_id>/preview")
def preview_index(meeting_id):
    require_meeting(meeting_id)
    return render_template("pages/preview.html", meeting_id=meeting_id, kinds=KINDS, current=None)


@bp.get(f"/meetings/<uuid:meeting_id>/preview/<{KIND_PATH}:kind>")
def preview(meeting_id, kind):
    require_meeting(meeting_id)
    prepared = demo.preview(_deps()["settings"], kind)
    return render_template("pages/preview.html", meeting_id=meeting_id, kinds=KINDS, current=kind,
                           mail=broadcast_drafts.parts(prepared.message))


@bp.get(f"/meetings/<uuid:meeting_id>/preview/<{KIND_PATH}:kind>.html")
def preview_html(meeting_id, kind):
    require_meeting(meeting_id)
    return sandboxed_html(broadcast_drafts.parts(demo.preview(_deps()["settings"], kind).message)["html"])


def sandboxed_html(html: str) -> Response:
    """A mail's HTML part as a sandboxed document (no scripts, no same-origin access) that this service's own
    pages may show in a frame (the default headers forbid any framing)."""
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; "
                                                   "frame-ancestors 'self'")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.get("/api/meetings/<uuid:meeting_id>/participants/<uuid:registration_id>/deliveries")
def participant_deliveries(meeting_id, registration_id):
    require_meeting(meeting_id)
    with _deps()["engine"].connect() as conn:
        rows = conn.execute(sa.select(mails.c.id, mails.c.kind, mails.c.subject, mails.c.recipient, mails.c.status,
                                      mails.c.attempts, mails.c.last_error, mails.c.created_at, mails.c.sent_at)
                            .where(mails.c.meeting_id == str(meeting_id),
                                   mails.c.registration_id == str(registration_id),
                                   mails.c.kind.not_in(ORGANISER_KINDS))
                            .order_by(mails.c.created_at)).all()
    return jsonify(deliveries=[{**r._mapping, "created_at": r.created_at.isoformat(),
                                "sent_at": r.sent_at.isoformat() if r.sent_at else None} for r in rows])


def _not_found():
    return NotFound("Keine solche Nachricht. / No such message.")


@bp.post("/api/meetings/<uuid:meeting_id>/broadcasts")
def create_broadcast(meeting_id):
    principal = require_meeting(meeting_id)
    data = load(broadcast_drafts.BroadcastInput(), json_body())
    with _deps()["engine"].begin() as tx:
        try:
            broadcast_id = broadcast_drafts.create_draft(tx, meeting_id, data, principal.name or principal.email)
        except broadcast_drafts.UnknownMeeting:
            raise NotFound("Zu diesem Treffen liegen noch keine Daten vor. / notify knows nothing of this meeting "
                           "yet.") from None
        shown = broadcast_drafts.show(tx, _deps()["settings"], broadcast_drafts.find(tx, meeting_id, broadcast_id))
    return jsonify(shown), 201


@bp.get("/api/meetings/<uuid:meeting_id>/broadcasts/<uuid:broadcast_id>")
def show_broadcast(meeting_id, broadcast_id):
    require_meeting(meeting_id)
    with _deps()["engine"].connect() as conn:
        b = broadcast_drafts.find(conn, meeting_id, broadcast_id)
        if b is None:
            raise _not_found()
        return jsonify(broadcast_drafts.show(conn, _deps()["settings"], b))


@bp.post("/api/meetings/<uuid:meeting_id>/broadcasts/<uuid:broadcast_id>/send")
def send_broadcast(meeting_id, broadcast_id):
    require_meeting(meeting_id)
    with _deps()["engine"].begin() as tx:
        try:
            if not broadcast_drafts.queue_for_sending(tx, meeting_id, broadcast_id):
                raise _not_found()
        except broadcast_drafts.AlreadySent:
            raise Conflict("Diese Nachricht ist schon versandt. / This message has already been sent.") from None
        shown = broadcast_drafts.show(tx, _deps()["settings"], broadcast_drafts.find(tx, meeting_id, broadcast_id))
    return jsonify(shown), 202
