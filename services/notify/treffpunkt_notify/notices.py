"""Mails to organisers about delivery: the warning when a participant's mail failed for good, and who of a
meeting's organisers may still get such mails (and the daily digest)."""
from __future__ import annotations

import json
import logging

import sqlalchemy as sa

from treffpunkt_shared.contracts import ADMINISTRATOR
from treffpunkt_shared.logs import log_event

from . import catalogue
from .emails import ORGANISER_KINDS
from .handlers import Source
from .handlers import queue_prepared
from .models import organiser_access
from .read_models import meeting_row

log = logging.getLogger("treffpunkt.notify.notices")

def current_organisers(conn: sa.Connection, meeting_id: str, organisers: list[dict]) -> list[dict]:
    """``organisers`` (the contacts of the meeting's last ``meeting.*`` event) without those whose access the
    agenda has taken away since: deactivated, or no longer assigned to the meeting (administrators see every
    meeting). These mails name participants, so the newer ``organiser_access`` is believed over the contact
    list. A contact without an account id (events before the agenda sent it) or without a kept state is
    mailed as before: nothing says otherwise. One primary-key look-up for all of them."""
    ids = sorted({str(o["organiser_id"]) for o in organisers if o.get("organiser_id")})
    if not ids:
        return list(organisers)
    access = {r.organiser_id: r for r in conn.execute(
        sa.select(organiser_access.c.organiser_id, organiser_access.c.active, organiser_access.c.role,
                  organiser_access.c.meeting_ids).where(organiser_access.c.organiser_id.in_(ids)))}
    kept = []
    for organiser in organisers:
        row = access.get(str(organiser.get("organiser_id")))
        if row is None or (row.active and (row.role == ADMINISTRATOR or str(meeting_id) in row.meeting_ids)):
            kept.append(organiser)
        else:
            # Ids only: which account was left out, and why, for an operator asking why no mail came.
            log_event(log, "organiser_not_mailed", meeting_id=str(meeting_id), organiser_id=row.organiser_id,
                      reason="deactivated" if not row.active else "not_assigned")
    return kept


def warn_organisers(settings):
    """``on_failed`` hook for :class:`~.mail_queue.MailSender`: queue one warning per organiser of the
    failed mail's meeting, in the transaction that records the failure (so exactly once with it). ``row``: the
    mail as recorded failed; ``attempts`` 0 if it could not even be rendered (no SMTP attempt)."""

    def on_failed(conn: sa.Connection, row, error: str) -> None:
        if row.kind in ORGANISER_KINDS or not row.meeting_id:
            return  # a warning about a warning would loop; a mail without a meeting has no organisers
        meeting = meeting_row(conn, row.meeting_id)
        if meeting is None or not meeting.organisers or not meeting.state:
            return
        failed = {"mail_id": row.id, "recipient": row.recipient, "kind": row.kind, "subject": row.subject,
                  "attempts": row.attempts, "error": error[:300], "registration_id": row.registration_id}
        for organiser in current_organisers(conn, row.meeting_id, meeting.organisers):
            prepared = catalogue.mail_failed_mail(settings, meeting.state, organiser, failed)
            body = json.dumps({"failed_mail_id": row.id, "registration_id": row.registration_id}).encode()
            queue_prepared(conn, prepared, Source(row.source_message_id, row.correlation_id, body))

    return on_failed
