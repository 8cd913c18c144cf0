"""What the notify worker does with each event: queue the right email for it."""
from __future__ import annotations

import sqlalchemy as sa

from treffpunkt_shared.contracts import (REGISTRATION_CONFIRMED, REGISTRATION_WAITLISTED, Contract, Envelope,
                                         encode, json_ready)
from treffpunkt_shared.messaging.consumer import process_once

from .emails import build_message, render
from .mail_queue import queue_mail
from .models import inbox

MAIL_KIND = {
    REGISTRATION_CONFIRMED.type: "registration_confirmed",
    REGISTRATION_WAITLISTED.type: "registration_waitlisted",
}


def make_handler(engine: sa.Engine, settings):
    def handle(envelope: Envelope, contract: Contract, payload: dict) -> None:
        kind = MAIL_KIND.get(contract.type)
        if kind is None:
            return  # an event notify has no email for: acknowledged, nothing to do
        participant = payload["participant"]
        # Rendering happens before the transaction: bad template data is rejected, never half-sent.
        subject, text, html = render(kind, payload)
        message = build_message(
            sender=settings.mail_from, recipient_name=f"{participant['first_name']} {participant['last_name']}",
            recipient_email=participant["email"], subject=subject, text=text, html=html).as_bytes()
        source_body = encode({"id": str(envelope.id), "type": envelope.type, "version": envelope.version,
                              "occurred_at": envelope.occurred_at.isoformat(), "producer": envelope.producer,
                              "correlation_id": envelope.correlation_id, "payload": json_ready(payload)})
        process_once(engine, inbox, envelope, lambda tx: queue_mail(
            tx, logical_key=f"{kind}:{payload['registration_id']}", kind=kind,
            source_message_id=str(envelope.id), source_body=source_body,
            correlation_id=envelope.correlation_id, recipient=participant["email"], message=message,
            meeting_id=str(payload["meeting"]["meeting_id"])))

    return handle
