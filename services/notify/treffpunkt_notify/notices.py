"""Mails to organisers about delivery: the warning when a participant's mail failed for good."""
from __future__ import annotations

import json

import sqlalchemy as sa

from . import catalogue
from .handlers import Source
from .handlers import queue_prepared
from .read_models import meeting_row

ORGANISER_KINDS = ("organiser_digest", "organiser_mail_failed")


def warn_organisers(settings):
    """``on_failed`` hook for :class:`~.mail_queue.MailSender`: queue one warning per organiser of the
    failed mail's meeting, in the transaction that records the failure (so exactly once with it)."""

    def on_failed(conn: sa.Connection, row, error: str) -> None:
        if row.kind in ORGANISER_KINDS or not row.meeting_id:
            return  # a warning about a warning would loop; a mail without a meeting has no organisers
        meeting = meeting_row(conn, row.meeting_id)
        if meeting is None or not meeting.organisers or not meeting.state:
            return
        failed = {"mail_id": row.id, "recipient": row.recipient, "kind": row.kind, "subject": row.subject,
                  "attempts": row.attempts + 1, "error": error[:300], "registration_id": row.registration_id}
        for organiser in meeting.organisers:
            prepared = catalogue.mail_failed_mail(settings, meeting.state, organiser, failed)
            body = json.dumps({"failed_mail_id": row.id, "registration_id": row.registration_id}).encode()
            queue_prepared(conn, prepared, Source(row.source_message_id, row.correlation_id, body))

    return on_failed
