"""Organisers' broadcasts before the scheduler takes over: validate, store a draft, show it with its rendered
preview and number of recipients, and queue it for sending (once). The JSON API (``organiser_views``) and the
organisers' pages (``organiser_pages``) both call these functions; the expansion into one mail per recipient
is the scheduler's (``Scheduler.expand_broadcasts``).
"""
from __future__ import annotations

import logging
import uuid
from email import policy
from email.parser import BytesParser

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from treffpunkt_shared.logs import log_event
from treffpunkt_shared.timeutil import utcnow

from . import catalogue, demo
from .models import broadcasts, meetings, recipients
from .scheduler import audience_filter, audience_query

log = logging.getLogger("treffpunkt.notify.broadcasts")
# A recipient whose data cannot be rendered must not take the preview (and the organiser's page) down with it:
# the next ones are tried, then the demo recipient. Sending records such a mail as failed, with the reason.
PREVIEW_TRIES = 3

AUDIENCES = ("meeting", "round", "authority", "waitlist")

AUDIENCE_MISSING = "Bitte wählen Sie aus, an wen die Nachricht gehen soll."
VALUE_MISSING = "Bitte Runde bzw. Behörde angeben."
SUBJECT_MISSING = "Bitte geben Sie einen Betreff ein."
SUBJECT_TOO_LONG = "Bitte höchstens 200 Zeichen eingeben."
BODY_MISSING = "Bitte geben Sie einen Text ein."
BODY_TOO_LONG = "Bitte höchstens 20.000 Zeichen eingeben."
VALUE_TOO_LONG = "Bitte höchstens 300 Zeichen eingeben."
# PostgreSQL cannot store NUL in text: unchecked it was a DataError and a 500.
NUL_NOT_ALLOWED = "Das Zeichen NUL ist nicht erlaubt."


class BroadcastInput(Schema):
    audience = fields.String(required=True, validate=validate.OneOf(AUDIENCES, error=AUDIENCE_MISSING),
                             error_messages={"required": AUDIENCE_MISSING, "null": AUDIENCE_MISSING,
                                             "invalid": AUDIENCE_MISSING})
    audience_value = fields.String(load_default=None, allow_none=True,
                                   validate=validate.Length(max=300, error=VALUE_TOO_LONG))
    subject = fields.String(required=True, validate=validate.Length(max=200, error=SUBJECT_TOO_LONG),
                            error_messages={"required": SUBJECT_MISSING, "null": SUBJECT_MISSING})
    body = fields.String(required=True, validate=validate.Length(max=20000, error=BODY_TOO_LONG),
                         error_messages={"required": BODY_MISSING, "null": BODY_MISSING})

    @validates_schema(skip_on_field_errors=False)
    def _value_for_round_and_authority(self, data, **kwargs):
        """Also when other fields failed, so that a form shows every error at once."""
        errors = {}
        if data.get("audience") in ("round", "authority") and not (data.get("audience_value") or "").strip():
            errors["audience_value"] = [VALUE_MISSING]
        for name, message in (("subject", SUBJECT_MISSING), ("body", BODY_MISSING)):
            if name in data and not (data[name] or "").strip():  # absent: the field's own error says so
                errors[name] = [message]
        for name in ("audience_value", "subject", "body"):
            if "\x00" in (data.get(name) or ""):
                errors[name] = [NUL_NOT_ALLOWED]
        if errors:
            raise ValidationError(errors)


class AlreadySent(Exception):
    """The broadcast was queued or sent before: a second send does nothing."""


class UnknownMeeting(Exception):
    """notify has no state of this meeting yet (no ``meeting.*`` or ``agenda.*`` event seen)."""


def parts(message: bytes) -> dict:
    """Subject, recipient, the plain text and HTML parts of a rendered message, and whether it invites."""
    msg = BytesParser(policy=policy.default).parsebytes(message)
    text, html = msg.get_body(preferencelist=("plain",)), msg.get_body(preferencelist=("html",))
    return {"subject": str(msg["Subject"]), "to": str(msg["To"]), "text": text.get_content() if text else "",
            "html": html.get_content() if html else "",
            "calendar": any(p.get_content_type() == "text/calendar" for p in msg.walk())}


def meeting_state(conn, meeting_id) -> dict | None:
    row = conn.execute(sa.select(meetings.c.state).where(meetings.c.meeting_id == str(meeting_id))).first()
    return row.state if row is not None and row.state else None


def audience(conn, b) -> list:
    """The recipients rows a broadcast (draft or stored row) goes to, in the scheduler's order."""
    wanted = audience_filter(b.audience, b.audience_value)
    return [r for r in conn.execute(audience_query(str(b.meeting_id), b.audience, b.audience_value)
                                    .order_by(sa.text("registration_id"))) if wanted(r)]


def rendered(conn, settings, b, *, people: list | None = None) -> tuple[dict | None, object | None]:
    """(the mail's parts, the recipient it was rendered for) as the first recipient will get it; the demo
    recipient when there is none; (None, None) while notify knows nothing of the meeting."""
    state = meeting_state(conn, b.meeting_id)
    if state is None:
        return None, None
    people = audience(conn, b) if people is None else people
    for sample in people[:PREVIEW_TRIES]:
        try:
            return parts(catalogue.broadcast_mail(settings, state, b, sample).message), sample
        except Exception as exc:
            log_event(log, "preview_not_rendered", logging.WARNING, broadcast_id=b.id,
                      registration_id=sample.registration_id, error=f"{type(exc).__name__}: {exc}"[:300])
    return parts(catalogue.broadcast_mail(settings, state, b, demo.RECIPIENT).message), demo.RECIPIENT


def show(conn, settings, b) -> dict:
    """A broadcast as the API answers it: its fields, recipients (counted now for a draft) and preview."""
    people = audience(conn, b) if b.status == "draft" else []
    preview, _ = rendered(conn, settings, b, people=people)
    return {"id": b.id, "meeting_id": b.meeting_id, "audience": b.audience, "audience_value": b.audience_value,
            "subject": b.subject, "body": b.body, "status": b.status, "created_by": b.created_by,
            "created_at": b.created_at.isoformat(),
            "recipient_count": len(people) if b.status == "draft" else b.recipient_count, "preview": preview}


def find(conn, meeting_id, broadcast_id, *, for_update: bool = False):
    """The broadcast of this meeting, or None."""
    query = sa.select(broadcasts).where(broadcasts.c.id == str(broadcast_id),
                                        broadcasts.c.meeting_id == str(meeting_id))
    return conn.execute(query.with_for_update() if for_update else query).first()


def of_meeting(conn, meeting_id) -> list:
    return conn.execute(sa.select(broadcasts).where(broadcasts.c.meeting_id == str(meeting_id))
                        .order_by(broadcasts.c.created_at.desc())).all()


def create_draft(tx, meeting_id, data: dict, created_by: str) -> str:
    """Store a validated (:class:`BroadcastInput`) draft; raises :class:`UnknownMeeting`."""
    if meeting_state(tx, meeting_id) is None:
        raise UnknownMeeting(str(meeting_id))
    broadcast_id = str(uuid.uuid4())
    tx.execute(broadcasts.insert().values(
        id=broadcast_id, meeting_id=str(meeting_id), audience=data["audience"],
        audience_value=(data.get("audience_value") or "").strip() or None, subject=data["subject"],
        body=data["body"], created_by=created_by, created_at=utcnow(), status="draft"))
    return broadcast_id


def queue_for_sending(tx, meeting_id, broadcast_id) -> bool:
    """Hand a draft to the scheduler. False if there is no such broadcast; :class:`AlreadySent` if it was
    queued before (the row is locked, so two clicks at once queue it once)."""
    b = find(tx, meeting_id, broadcast_id, for_update=True)
    if b is None:
        return False
    if b.status != "draft":
        raise AlreadySent(b.id)
    tx.execute(broadcasts.update().where(broadcasts.c.id == b.id).values(status="queued", queued_at=utcnow()))
    return True


def rounds_of(conn, meeting_id) -> list[dict]:
    """The meeting's discussion rounds and workshops as notify knows them from the agenda: [{item_id, title}]."""
    row = conn.execute(sa.select(meetings.c.agenda).where(meetings.c.meeting_id == str(meeting_id))).first()
    items = ((row.agenda if row is not None else None) or {}).get("items") or []
    return [{"item_id": i["item_id"], "title": i.get("title") or i["item_id"], "starts_at": i.get("starts_at")}
            for i in items if i.get("kind") in ("discussion_round", "workshop") and i.get("status") != "cancelled"]


def authorities_of(conn, meeting_id) -> list[str]:
    """The authorities (organisations) of the meeting's confirmed and waiting participants, one spelling each."""
    names = conn.execute(sa.select(recipients.c.organisation).where(
        recipients.c.meeting_id == str(meeting_id), recipients.c.status.in_(("confirmed", "waitlisted")))).scalars()
    seen = {}
    for name in names:
        key = (name or "").strip().lower()
        if key and key not in seen:
            seen[key] = " ".join(name.split())
    return sorted(seen.values(), key=str.lower)
