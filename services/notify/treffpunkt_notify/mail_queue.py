"""The queue of outgoing mails in the notify database, and the sender that works through it.

Consuming an event only *queues* a mail (in the transaction that records the
message as processed); sending happens here, off the broker connection, so a
slow SMTP server can never cost a consumer its acknowledgement. Several
senders can run side by side: each claims a mail with ``FOR UPDATE SKIP LOCKED``
and holds that lock while it talks to the SMTP server.
"""
from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta
from email.utils import parseaddr

import sqlalchemy as sa

from treffpunkt_shared.contracts import NOTIFICATION_FAILED, NOTIFICATION_SENT
from treffpunkt_shared.logs import log_event
from treffpunkt_shared.messaging.tables import add_dead_letter_to_outbox, add_to_outbox
from treffpunkt_shared.timeutil import utcnow

from .mailer import PermanentMailError, TemporaryMailError
from .models import mails, outbox

log = logging.getLogger("treffpunkt.notify.sender")
PRODUCER = "notify"


def queue_mail(tx: sa.Connection, *, logical_key: str, kind: str, source_message_id: str, source_body: bytes,
               correlation_id: str | None, recipient: str, message: bytes, meeting_id: str | None = None) -> bool:
    """Queue a mail unless one with the same logical key exists; True if queued."""
    exists = tx.execute(sa.select(mails.c.id).where(mails.c.logical_key == logical_key)).first()
    if exists:
        return False
    now = utcnow()
    tx.execute(mails.insert().values(
        id=str(uuid.uuid4()), logical_key=logical_key, kind=kind, source_message_id=source_message_id,
        source_body=source_body, correlation_id=correlation_id, recipient=recipient, message=message,
        meeting_id=meeting_id, status="pending", attempts=0, next_attempt_at=now, created_at=now))
    return True


class MailSender:
    def __init__(self, engine: sa.Engine, mailer, *, sender_address: str, retry_delays_s: tuple[int, ...],
                 dead_letter_queue: str, idle_seconds: float = 0.05):
        self.engine = engine
        self.mailer = mailer
        self.sender_address = sender_address
        self.retry_delays_s = retry_delays_s
        self.dead_letter_queue = dead_letter_queue
        self.idle_seconds = idle_seconds
        self.stopped = threading.Event()

    def send_next(self) -> bool:
        """Send one due mail; False if none was due."""
        with self.engine.connect() as conn:
            tx = conn.begin()
            row = conn.execute(
                sa.select(mails).where(mails.c.status == "pending", mails.c.next_attempt_at <= utcnow())
                .order_by(mails.c.next_attempt_at).limit(1).with_for_update(skip_locked=True)).first()
            if row is None:
                tx.rollback()
                return False

            def commit_sent():
                conn.execute(mails.update().where(mails.c.id == row.id).values(
                    status="sent", sent_at=utcnow(), attempts=row.attempts + 1, last_error=None))
                add_to_outbox(conn, outbox, NOTIFICATION_SENT,
                              {"notification_id": row.id, "kind": row.kind,
                               "source_message_id": row.source_message_id},
                              producer=PRODUCER, correlation_id=row.correlation_id)
                tx.commit()

            try:
                self.mailer.send(self._envelope_sender(), row.recipient, row.message, commit_sent)
            except TemporaryMailError as exc:
                self._after_failure(conn, tx, row, str(exc), permanent=False)
            except PermanentMailError as exc:
                self._after_failure(conn, tx, row, str(exc), permanent=True)
            else:
                log_event(log, "mail_sent", mail_id=row.id, kind=row.kind, message_id=row.source_message_id,
                          correlation_id=row.correlation_id, attempt=row.attempts + 1)
        return True

    def _envelope_sender(self) -> str:
        return parseaddr(self.sender_address)[1]

    def _after_failure(self, conn: sa.Connection, tx, row, error: str, *, permanent: bool) -> None:
        if tx.is_active:
            tx.rollback()
        attempts = row.attempts + 1
        gave_up = permanent or attempts > len(self.retry_delays_s)
        with conn.begin():
            if gave_up:
                reason = f"{'permanent' if permanent else 'temporary'} SMTP failure, attempt {attempts}: {error}"
                conn.execute(mails.update().where(mails.c.id == row.id).values(
                    status="failed", attempts=attempts, last_error=error[:1000]))
                add_to_outbox(conn, outbox, NOTIFICATION_FAILED,
                              {"notification_id": row.id, "kind": row.kind,
                               "source_message_id": row.source_message_id, "reason": reason[:500]},
                              producer=PRODUCER, correlation_id=row.correlation_id)
                add_dead_letter_to_outbox(conn, outbox, dead_letter_queue=self.dead_letter_queue,
                                          body=row.source_body, message_id=row.source_message_id,
                                          reason=reason, correlation_id=row.correlation_id)
            else:
                delay = self.retry_delays_s[attempts - 1]
                conn.execute(mails.update().where(mails.c.id == row.id).values(
                    status="pending", attempts=attempts, last_error=error[:1000],
                    next_attempt_at=utcnow() + timedelta(seconds=delay)))
        log_event(log, "mail_failed" if gave_up else "mail_retry_scheduled", logging.WARNING, mail_id=row.id,
                  kind=row.kind, message_id=row.source_message_id, correlation_id=row.correlation_id,
                  attempt=attempts, error=error[:300])

    def run(self) -> None:
        backoff = 0.2
        while not self.stopped.is_set():
            try:
                if not self.send_next():
                    self.stopped.wait(self.idle_seconds)
                backoff = 0.2
            except Exception as exc:  # database away: wait and try again, never die
                log_event(log, "sender_retrying", logging.WARNING, error=repr(exc), backoff_seconds=backoff)
                self.mailer.close()
                self.stopped.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self.mailer.close()

    def stop(self) -> None:
        self.stopped.set()
