"""The organisers' pages of one meeting (German, English with ``?lang=en``):

* ``/meetings/<id>``: what notify did for the meeting (mails by status) and where to go from here;
* ``/meetings/<id>/rundschreiben``: the meeting's broadcasts with their status and counts; ``…/neu`` the form
  (audience, subject, text), ``POST …/rundschreiben`` stores a draft and leads to its preview
  (``…/rundschreiben/<bid>``: the mail as its first recipient gets it, German and English, and the number
  of recipients), whose "send" form (``POST …/<bid>/senden``, CSRF-protected) hands it to the scheduler once;
* ``/meetings/<id>/zustellungen[?status=failed]``: the delivery log per participant.

Access is checked by the blueprint's ``before_request`` hook, before any view runs or reads input: anonymous
callers are sent to the sign-in (401 for JSON), organisers not assigned to the meeting get 403. The broadcast
logic is :mod:`.broadcast_drafts`, shared with the JSON API.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from treffpunkt_shared.auth import current_principal, require_meeting
from treffpunkt_shared.timeutil import as_utc

from . import broadcast_drafts as drafts
from .emails import ORGANISER_KINDS
from .models import mails, recipients
from .organiser_views import sandboxed_html
from .page_texts import (AUTHORITY_UNKNOWN, BROADCAST_UNKNOWN, MEETING_UNKNOWN, ROUND_UNKNOWN, catalog)

bp = Blueprint("notify_meeting_pages", __name__)
LOG_LIMIT = 2000  # rows of the delivery log shown at once
MAIL_STATUS_FILTERS = ("failed", "pending", "sent")


@bp.before_request
def _check_access():
    meeting_id = (request.view_args or {}).get("meeting_id")
    require_meeting(meeting_id)  # every route here names a meeting


@bp.after_request
def _private(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _deps():
    return current_app.extensions["treffpunkt"]


def _t(text: str) -> str:
    return catalog.gettext(text, g.get("lang", "de"))


def _meeting(conn, meeting_id) -> dict:
    """The meeting as notify knows it; a stand-in while no event about it has arrived."""
    state = drafts.meeting_state(conn, meeting_id)
    return {"meeting_id": str(meeting_id), "known": state is not None,
            "title": (state or {}).get("title") or _t("Treffen"), "timezone": (state or {}).get("timezone")
            or "Europe/Berlin"}


@bp.app_template_filter("local_time")
def _local_time(value, zone: str = "Europe/Berlin") -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = as_utc(value).astimezone(ZoneInfo(zone))
    return f"{local:%d.%m.%Y, %H:%M}" + (" Uhr" if g.get("lang", "de") == "de" else "")


def _counts(conn, meeting_id, *, kind: str | None = None) -> dict:
    query = sa.select(mails.c.status, sa.func.count()).where(mails.c.meeting_id == str(meeting_id))
    if kind:
        query = query.where(mails.c.kind == kind)
    return dict(conn.execute(query.group_by(mails.c.status)).all())


# ------------------------------------------------------------------------------------------ index
@bp.get("/meetings/<uuid:meeting_id>")
def meeting_index(meeting_id):
    with _deps()["engine"].connect() as conn:
        meeting = _meeting(conn, meeting_id)
        counts = _counts(conn, meeting_id)
        broadcast_count = len(drafts.of_meeting(conn, meeting_id))
    return render_template("pages/meeting.html", meeting=meeting, counts=counts, broadcast_count=broadcast_count,
                           current="index")


# ------------------------------------------------------------------------------------------ broadcasts
def _broadcast_mail_counts(conn, meeting_id) -> dict:
    rows = conn.execute(sa.select(mails.c.source_message_id, mails.c.status, sa.func.count())
                        .where(mails.c.meeting_id == str(meeting_id), mails.c.kind == "broadcast")
                        .group_by(mails.c.source_message_id, mails.c.status)).all()
    out: dict = {}
    for broadcast_id, status, n in rows:
        out.setdefault(broadcast_id, {})[status] = n
    return out


@bp.get("/meetings/<uuid:meeting_id>/rundschreiben")
def broadcasts_page(meeting_id):
    with _deps()["engine"].connect() as conn:
        meeting = _meeting(conn, meeting_id)
        rows = drafts.of_meeting(conn, meeting_id)
        mail_counts = _broadcast_mail_counts(conn, meeting_id)
        listed = [{"row": b, "mails": mail_counts.get(b.id, {}),
                   "recipients": len(drafts.audience(conn, b)) if b.status == "draft" else b.recipient_count}
                  for b in rows]
        options = _options(conn, meeting_id)
    return render_template("pages/broadcasts.html", meeting=meeting, broadcasts=listed, current="broadcasts",
                           audience_text=lambda b: _audience_text(b, options))


def _options(conn, meeting_id) -> dict:
    return {"rounds": drafts.rounds_of(conn, meeting_id), "authorities": drafts.authorities_of(conn, meeting_id)}


def _audience_text(b, options) -> str:
    if b.audience == "round":
        title = next((r["title"] for r in options["rounds"] if r["item_id"] == b.audience_value), b.audience_value)
        return f"{_t('Teilnehmende der Runde')} „{title}“"
    if b.audience == "authority":
        return f"{_t('Teilnehmende der Behörde')} „{b.audience_value}“"
    if b.audience == "waitlist":
        return _t("Warteliste")
    return _t("Alle Teilnehmenden des Treffens")


def _form_page(meeting_id, *, values: dict, errors: dict | None = None, status: int = 200):
    with _deps()["engine"].connect() as conn:
        meeting = _meeting(conn, meeting_id)
        if not meeting["known"]:
            abort(404, _t(MEETING_UNKNOWN))
        options = _options(conn, meeting_id)
    return render_template("pages/broadcast_form.html", meeting=meeting, values=values, errors=errors or {},
                           options=options, current="broadcasts"), status


@bp.get("/meetings/<uuid:meeting_id>/rundschreiben/neu")
def broadcast_form(meeting_id):
    values = {"audience": "meeting"}
    based_on = request.args.get("von", "")
    if based_on:
        with _deps()["engine"].connect() as conn:
            b = drafts.find(conn, meeting_id, based_on) if _is_uuid(based_on) else None
        if b is not None:
            values = {"audience": b.audience, "subject": b.subject, "body": b.body,
                      "round": b.audience_value if b.audience == "round" else "",
                      "authority": b.audience_value if b.audience == "authority" else ""}
    return _form_page(meeting_id, values=values)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _read_form(conn, meeting_id) -> tuple[dict, dict, dict]:
    """(data for :class:`~.broadcast_drafts.BroadcastInput`, the values to show again, errors by form field)."""
    form = request.form
    shown = {name: form.get(name, "") for name in ("audience", "round", "authority", "subject", "body")}
    audience = shown["audience"]
    value_field = audience if audience in ("round", "authority") else None
    data = {"audience": audience or None, "subject": shown["subject"], "body": shown["body"],
            "audience_value": shown[value_field] if value_field else None}
    errors: dict[str, list[str]] = {}
    try:
        data = drafts.BroadcastInput().load(data)
    except ValidationError as exc:
        for name, messages in exc.messages.items():
            field = value_field if name == "audience_value" else name
            if field not in shown:
                field = "audience"
            errors.setdefault(field, []).extend(messages if isinstance(messages, list) else [str(messages)])
    if not errors.get(value_field or "") and value_field == "round":
        if shown["round"] not in {r["item_id"] for r in drafts.rounds_of(conn, meeting_id)}:
            errors["round"] = [ROUND_UNKNOWN]
    if not errors.get(value_field or "") and value_field == "authority":
        known = {a.lower(): a for a in drafts.authorities_of(conn, meeting_id)}
        if shown["authority"].strip().lower() not in known:
            errors["authority"] = [AUTHORITY_UNKNOWN]
    return data, shown, {k: [_t(m) for m in v] for k, v in errors.items()}


@bp.post("/meetings/<uuid:meeting_id>/rundschreiben")
def broadcast_create(meeting_id):
    principal = current_principal()
    engine = _deps()["engine"]
    with engine.connect() as conn:
        if not _meeting(conn, meeting_id)["known"]:
            abort(404, _t(MEETING_UNKNOWN))
        data, shown, errors = _read_form(conn, meeting_id)
    if errors:
        return _form_page(meeting_id, values=shown, errors=errors, status=422)
    with engine.begin() as tx:
        try:
            broadcast_id = drafts.create_draft(tx, meeting_id, data, principal.name or principal.email)
        except drafts.UnknownMeeting:
            abort(404, _t(MEETING_UNKNOWN))
    return redirect(url_for(".broadcast_page", meeting_id=meeting_id, broadcast_id=broadcast_id, lang=g.lang), 303)


@bp.get("/meetings/<uuid:meeting_id>/rundschreiben/<uuid:broadcast_id>")
def broadcast_page(meeting_id, broadcast_id):
    with _deps()["engine"].connect() as conn:
        meeting = _meeting(conn, meeting_id)
        b = drafts.find(conn, meeting_id, broadcast_id)
        if b is None:
            abort(404, _t(BROADCAST_UNKNOWN))
        people = drafts.audience(conn, b) if b.status == "draft" else []
        mail, sample = drafts.rendered(conn, _deps()["settings"], b, people=people)
        mail_counts = _broadcast_mail_counts(conn, meeting_id).get(b.id, {})
        options = _options(conn, meeting_id)
    return render_template("pages/broadcast.html", meeting=meeting, b=b, mail=mail, sample=sample,
                           recipient_count=len(people) if b.status == "draft" else b.recipient_count,
                           mail_counts=mail_counts, audience=_audience_text(b, options),
                           done=request.args.get("done"), current="broadcasts")


@bp.get("/meetings/<uuid:meeting_id>/rundschreiben/<uuid:broadcast_id>/vorschau.html")
def broadcast_preview_html(meeting_id, broadcast_id):
    with _deps()["engine"].connect() as conn:
        b = drafts.find(conn, meeting_id, broadcast_id)
        if b is None:
            abort(404, _t(BROADCAST_UNKNOWN))
        mail, _ = drafts.rendered(conn, _deps()["settings"], b)
    return sandboxed_html(mail["html"] if mail else "")


@bp.post("/meetings/<uuid:meeting_id>/rundschreiben/<uuid:broadcast_id>/senden")
def broadcast_send(meeting_id, broadcast_id):
    with _deps()["engine"].begin() as tx:
        try:
            found = drafts.queue_for_sending(tx, meeting_id, broadcast_id)
            done = "sent"
        except drafts.AlreadySent:
            found, done = True, "already"
    if not found:
        abort(404, _t(BROADCAST_UNKNOWN))
    return redirect(url_for(".broadcast_page", meeting_id=meeting_id, broadcast_id=broadcast_id, done=done,
                            lang=g.lang), 303)


# ------------------------------------------------------------------------------------------ delivery log
@bp.get("/meetings/<uuid:meeting_id>/zustellungen")
def deliveries_page(meeting_id):
    status = request.args.get("status", "")
    status = status if status in MAIL_STATUS_FILTERS else ""
    query = (sa.select(mails.c.id, mails.c.kind, mails.c.subject, mails.c.recipient, mails.c.status,
                       mails.c.attempts, mails.c.last_error, mails.c.created_at, mails.c.sent_at,
                       mails.c.registration_id, recipients.c.participant)
             .select_from(mails.outerjoin(recipients, recipients.c.registration_id == mails.c.registration_id))
             .where(mails.c.meeting_id == str(meeting_id)))
    if status:
        query = query.where(mails.c.status == status)
    with _deps()["engine"].connect() as conn:
        meeting = _meeting(conn, meeting_id)
        rows = conn.execute(query.order_by(mails.c.created_at).limit(LOG_LIMIT + 1)).all()
        counts = _counts(conn, meeting_id)
    truncated = len(rows) > LOG_LIMIT
    groups: dict = {}
    for r in rows[:LOG_LIMIT]:
        key = r.registration_id if r.kind not in ORGANISER_KINDS else None
        group = groups.setdefault(key, {"registration_id": key, "name": None, "email": r.recipient, "mails": []})
        if key is not None and r.participant:
            group["name"] = f"{r.participant.get('first_name', '')} {r.participant.get('last_name', '')}".strip()
            group["email"] = r.participant.get("email") or r.recipient
        group["mails"].append(r)
    people = sorted((grp for k, grp in groups.items() if k is not None),
                    key=lambda grp: ((grp["name"] or grp["email"]).lower(), grp["email"]))
    return render_template("pages/deliveries.html", meeting=meeting, people=people, organisers=groups.get(None),
                           status=status, counts=counts, truncated=truncated, limit=LOG_LIMIT,
                           current="deliveries")
