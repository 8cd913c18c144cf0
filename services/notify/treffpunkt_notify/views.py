"""Notify's pages: captured mails (embedded mode) and the delivery log for organisers.

Who may see what: the delivery log is for signed-in organisers, each seeing the mails of the meetings
assigned to them (administrators: all). The captured mails are whole messages with participants'
personal links and no meeting attached, so they are for administrators only; the embedded demo
(deploy/embedded/run.py) alone makes them public, by passing ``public_mail_capture=True`` to the app
factory. No environment variable can do that, so no deployment opens them by a configuration slip.
"""
from __future__ import annotations

from email import policy
from email.parser import BytesParser

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request

from treffpunkt_shared.auth import current_principal, organiser_required, require_admin, require_meeting

from .mailer import CapturingMailer
from .models import mails

bp = Blueprint("notify_pages", __name__)


def _deps():
    return current_app.extensions["treffpunkt"]


def _captured(name: str | None = None):
    if not _deps()["public_mail_capture"]:
        require_admin()
    mailer = _deps()["mailer"]
    if not isinstance(mailer, CapturingMailer):
        abort(404)
    files = mailer.captured()
    if name is None:
        return files
    match = next((f for f in files if f.name == name), None)
    if match is None:
        abort(404)
    return match


def _parse(path):
    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    text = msg.get_body(preferencelist=("plain",))
    return {"name": path.name, "subject": msg["Subject"], "to": msg["To"], "date": msg["Date"],
            "text": text.get_content() if text else ""}


@bp.get("/mail")
def captured_mail():
    return render_template("pages/mail.html", mails=[_parse(p) for p in _captured()[:200]])


@bp.get("/mail/<name>.html")
def captured_mail_html(name):
    msg = BytesParser(policy=policy.default).parsebytes(_captured(name + ".eml").read_bytes())
    html = msg.get_body(preferencelist=("html",))
    response = Response(html.get_content() if html else "", mimetype="text/html")
    # The mail's HTML is shown as a sandboxed document: no scripts, no same-origin access.
    response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    return response


def _deliveries(meeting_ids: frozenset[str] | None):
    """The newest 500 mails, of the given meetings only unless ``meeting_ids`` is None (everything)."""
    query = sa.select(mails.c.id, mails.c.kind, mails.c.recipient, mails.c.status, mails.c.attempts,
                      mails.c.last_error, mails.c.meeting_id, mails.c.created_at,
                      mails.c.sent_at).order_by(mails.c.created_at.desc())
    if meeting_ids is not None:
        query = query.where(mails.c.meeting_id.in_(sorted(meeting_ids)))
    status = request.args.get("status")
    if status:
        query = query.where(mails.c.status == status)
    with _deps()["engine"].connect() as conn:
        rows = conn.execute(query.limit(500)).all()
    return jsonify(deliveries=[{**r._mapping, "created_at": r.created_at.isoformat(),
                                "sent_at": r.sent_at.isoformat() if r.sent_at else None} for r in rows])


@bp.get("/api/deliveries")
@organiser_required
def deliveries():
    principal = current_principal()
    return _deliveries(None if principal.is_admin() else principal.meeting_ids)


@bp.get("/api/meetings/<uuid:meeting_id>/deliveries")
def meeting_deliveries(meeting_id):
    require_meeting(meeting_id)
    return _deliveries(frozenset({str(meeting_id)}))
