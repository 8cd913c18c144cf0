"""Organisers' notify pages and API, each for one meeting (checked before any input is read):

* ``/meetings/<id>/preview`` and ``/meetings/<id>/preview/<kind>``: every mail of the catalogue with demo
  data (subject, plain text, the HTML part in a sandboxed frame);
* ``/api/meetings/<id>/participants/<registration_id>/deliveries``: one participant's delivery log;
* ``/api/meetings/<id>/broadcasts``: write to all participants of the meeting, of a round, of an authority,
  or to the waiting list. ``POST`` creates a draft and answers with its preview (rendered for the first
  recipient) and the number of recipients; ``POST …/<broadcast_id>/send`` sends it as individual mails
  (the worker's scheduler expands it; each recipient once, by logical key).
"""
from __future__ import annotations

import uuid
from email import policy
from email.parser import BytesParser

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify, render_template
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from werkzeug.exceptions import Conflict, NotFound

from treffpunkt_shared.auth import require_meeting
from treffpunkt_shared.http import json_body, load
from treffpunkt_shared.timeutil import utcnow

from . import catalogue, demo
from .emails import KINDS, ORGANISER_KINDS
from .models import broadcasts, mails, meetings
from .scheduler import audience_filter, audience_query

bp = Blueprint("notify_organiser", __name__)
AUDIENCES = ("meeting", "round", "authority", "waitlist")
KIND_PATH = "any(" + ", ".join(KINDS) + ")"


def _deps():
    return current_app.extensions["treffpunkt"]


def _parts(message: bytes) -> dict:
    msg = BytesParser(policy=policy.default).parsebytes(message)
    text, html = msg.get_body(preferencelist=("plain",)), msg.get_body(preferencelist=("html",))
    return {"subject": str(msg["Subject"]), "to": str(msg["To"]), "text": text.get_content() if text else "",
            "html": html.get_content() if html else "",
            "calendar": any(p.get_content_type() == "text/calendar" for p in msg.walk())}


@bp.get("/meetings/<uuid:meeting_id>/preview")
def preview_index(meeting_id):
    require_meeting(meeting_id)
    return render_template("pages/preview.html", meeting_id=meeting_id, kinds=KINDS, current=None)


@bp.get(f"/meetings/<uuid:meeting_id>/preview/<{KIND_PATH}:kind>")
def preview(meeting_id, kind):
    require_meeting(meeting_id)
    prepared = demo.preview(_deps()["settings"], kind)
    return render_template("pages/preview.html", meeting_id=meeting_id, kinds=KINDS, current=kind,
                           mail=_parts(prepared.message))


@bp.get(f"/meetings/<uuid:meeting_id>/preview/<{KIND_PATH}:kind>.html")
def preview_html(meeting_id, kind):
    require_meeting(meeting_id)
    response = Response(_parts(demo.preview(_deps()["settings"], kind).message)["html"], mimetype="text/html")
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
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


class BroadcastInput(Schema):
    audience = fields.String(required=True, validate=validate.OneOf(AUDIENCES))
    audience_value = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))
    body = fields.String(required=True, validate=validate.Length(min=1, max=20000))

    @validates_schema
    def _value_for_round_and_authority(self, data, **kwargs):
        if data.get("audience") in ("round", "authority") and not (data.get("audience_value") or "").strip():
            raise ValidationError("Bitte Runde bzw. Behörde angeben. / Name the round or authority.",
                                  "audience_value")


def _audience(conn, b) -> list:
    wanted = audience_filter(b.audience, b.audience_value)
    return [r for r in conn.execute(audience_query(str(b.meeting_id), b.audience, b.audience_value)
                                    .order_by(sa.text("registration_id"))) if wanted(r)]


def _show(conn, b) -> dict:
    people = _audience(conn, b) if b.status == "draft" else []
    out = {"id": b.id, "meeting_id": b.meeting_id, "audience": b.audience, "audience_value": b.audience_value,
           "subject": b.subject, "body": b.body, "status": b.status, "created_by": b.created_by,
           "created_at": b.created_at.isoformat(),
           "recipient_count": len(people) if b.status == "draft" else b.recipient_count, "preview": None}
    meeting = conn.execute(sa.select(meetings.c.state).where(meetings.c.meeting_id == b.meeting_id)).first()
    if meeting is not None and meeting.state:
        sample = people[0] if people else demo.RECIPIENT
        out["preview"] = _parts(catalogue.broadcast_mail(_deps()["settings"], meeting.state, b, sample).message)
    return out


def _broadcast(conn, meeting_id, broadcast_id, *, for_update=False):
    query = sa.select(broadcasts).where(broadcasts.c.id == str(broadcast_id),
                                        broadcasts.c.meeting_id == str(meeting_id))
    row = conn.execute(query.with_for_update() if for_update else query).first()
    if row is None:
        raise NotFound("Keine solche Nachricht. / No such message.")
    return row


@bp.post("/api/meetings/<uuid:meeting_id>/broadcasts")
def create_broadcast(meeting_id):
    principal = require_meeting(meeting_id)
    data = load(BroadcastInput(), json_body())
    with _deps()["engine"].begin() as tx:
        if tx.execute(sa.select(meetings.c.meeting_id).where(meetings.c.meeting_id == str(meeting_id),
                                                            meetings.c.state.is_not(None))).first() is None:
            raise NotFound("Zu diesem Treffen liegen noch keine Daten vor. / notify knows nothing of this meeting yet.")
        broadcast_id = str(uuid.uuid4())
        tx.execute(broadcasts.insert().values(
            id=broadcast_id, meeting_id=str(meeting_id), audience=data["audience"],
            audience_value=(data.get("audience_value") or "").strip() or None, subject=data["subject"],
            body=data["body"], created_by=principal.name or principal.email, created_at=utcnow(), status="draft"))
        shown = _show(tx, _broadcast(tx, meeting_id, broadcast_id))
    return jsonify(shown), 201


@bp.get("/api/meetings/<uuid:meeting_id>/broadcasts/<uuid:broadcast_id>")
def show_broadcast(meeting_id, broadcast_id):
    require_meeting(meeting_id)
    with _deps()["engine"].connect() as conn:
        return jsonify(_show(conn, _broadcast(conn, meeting_id, broadcast_id)))


@bp.post("/api/meetings/<uuid:meeting_id>/broadcasts/<uuid:broadcast_id>/send")
def send_broadcast(meeting_id, broadcast_id):
    require_meeting(meeting_id)
    with _deps()["engine"].begin() as tx:
        b = _broadcast(tx, meeting_id, broadcast_id, for_update=True)
        if b.status != "draft":
            raise Conflict("Diese Nachricht ist schon versandt. / This message has already been sent.")
        tx.execute(broadcasts.update().where(broadcasts.c.id == b.id).values(status="queued", queued_at=utcnow()))
        shown = _show(tx, _broadcast(tx, meeting_id, broadcast_id))
    return jsonify(shown), 202
