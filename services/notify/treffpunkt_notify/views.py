"""Notify's pages: captured mails (embedded mode) and the delivery log for organisers."""
from __future__ import annotations

import hmac
from email import policy
from email.parser import BytesParser

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from werkzeug.exceptions import Unauthorized

from .mailer import CapturingMailer
from .models import mails

bp = Blueprint("notify_pages", __name__)


def _deps():
    return current_app.extensions["treffpunkt"]


def _captured(name: str | None = None):
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


@bp.get("/api/deliveries")
def deliveries():
    token = current_app.config.get("ORGANISER_TOKEN") or ""
    given = request.headers.get("Authorization", "")
    if not token or not (given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode())):
        raise Unauthorized("Anmeldung als Organisator erforderlich. / Organiser sign-in required.")
    query = sa.select(mails.c.id, mails.c.kind, mails.c.recipient, mails.c.status, mails.c.attempts,
                      mails.c.last_error, mails.c.created_at, mails.c.sent_at).order_by(mails.c.created_at.desc())
    status = request.args.get("status")
    if status:
        query = query.where(mails.c.status == status)
    with _deps()["engine"].connect() as conn:
        rows = conn.execute(query.limit(500)).all()
    return jsonify(deliveries=[{**r._mapping, "created_at": r.created_at.isoformat(),
                                "sent_at": r.sent_at.isoformat() if r.sent_at else None} for r in rows])
