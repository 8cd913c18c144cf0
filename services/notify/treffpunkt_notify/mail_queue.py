"""The queue of outgoing mails in the notify database, and the sender that works through it.

Consuming an event only *queues* a mail (in the transaction that records the
message as processed); sending happens here, off the broker connection, so a
slow SMTP server can never cost a consumer its acknowledgement. Several
senders run side by side (threads of the worker, or other workers): each
claims a mail with ``FOR UPDATE SKIP LOCKED`` and holds that lock while it
talks to the SMTP server, over its own SMTP connection, which it reuses. The
lock is what makes a second sender skip the mail; the commit of "sent" before
the final "." (see :mod:`.mailer`) is what makes a crash unable to send it twice.
No mail of an erased registration is claimed, and "sent" is only committed while the registration has no
tombstone: one erased after the claim is deleted instead and its DATA abandoned (see :mod:`.erasure`).
Sending is mostly waiting (SMTP and database round trips), so a few senders
multiply the mail rate.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from treffpunkt_shared.contracts import NOTIFICATION_FAILED, NOTIFICATION_SENT
from treffpunkt_shared.logs import log_event
from treffpunkt_shared.messaging.tables import add_dead_letter_to_outbox, add_to_outbox
from treffpunkt_shared.timeutil import utcnow

from .erasure import not_erased
from .mailer import MailWithdrawn, PermanentMailError, TemporaryMailError
from .mime import checked_sender
from .models import mails, outbox

log = logging.getLogger("treffpunkt.notify.sender")
PRODUCER = "notify"


_INSERT_MAIL = {
    # One statement instead of "look, then insert": the unique logical key decides, and a concurrent
    # second insert of the same key waits for the first and then does nothing.
    # RETURNING tells whether a row went in: psycopg reports rowcount -1 for this statement.
    name: dialect_insert(mails).on_conflict_do_nothing(index_elements=[mails.c.logical_key]).returning(mails.c.id)
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
# A transaction that raced an erasure can queue a mail for the erased registration after the erasure
# committed: such a mail is never due (the scheduler's sweep deletes it).
_NOT_ERASED = not_erased(mails.c.registration_id)
_DUE = sa.and_(mails.c.status == "pending", mails.c.next_attempt_at <= sa.bindparam("now"), _NOT_ERASED)
_CLAIM_DUE = sa.select(mails).where(_DUE).order_by(mails.c.next_attempt_at).limit(1).with_for_update(skip_locked=True)
_HAS_DUE = sa.select(mails.c.id).where(_DUE).limit(1)
_ASYNC_COMMIT = sa.text("SET LOCAL synchronous_commit = off")
# No row when the registration was erased after the claim: checked in the statement that marks the mail, so
# it costs no round trip and sees every erasure committed before that statement. One committed between it and
# the final "." (a round trip) is too late for the mail; its row goes in the sweep.
_MARK_SENT = (mails.update().where(mails.c.id == sa.bindparam("mail_id"), _NOT_ERASED)
              .values(status="sent", sent_at=sa.bindparam("now"), attempts=sa.bindparam("attempt"), last_error=None))
# The failed mail as recorded, for the warning to the organisers (not the message: it can be large).
_MARK_FAILED = (mails.update().where(mails.c.id == sa.bindparam("mail_id"), _NOT_ERASED)
                .values(status="failed", attempts=sa.bindparam("attempt"), last_error=sa.bindparam("error"))
                .returning(mails.c.id, mails.c.kind, mails.c.recipient, mails.c.subject, mails.c.attempts,
                           mails.c.meeting_id, mails.c.registration_id, mails.c.source_message_id,
                           mails.c.correlation_id))
_DELETE_MAIL = mails.delete().where(mails.c.id == sa.bindparam("mail_id"))


def queue_mail(tx: sa.Connection, *, logical_key: str, kind: str, source_message_id: str, source_body: bytes,
               correlation_id: str | None, recipient: str, message: bytes, meeting_id: str | None = None,
               registration_id: str | None = None, subject: str | None = None) -> bool:
    """Queue a mail unless one with the same logical key exists; True if queued."""
    return _insert_mail(tx, "pending", logical_key=logical_key, kind=kind, source_message_id=source_message_id,
                        source_body=source_body, correlation_id=correlation_id, recipient=recipient,
                        message=message, meeting_id=meeting_id, registration_id=registration_id,
                        subject=subject) is not None


def record_unrendered_mail(tx: sa.Connection, *, logical_key: str, kind: str, source_message_id: str,
                           source_body: bytes, correlation_id: str | None, recipient: str, meeting_id: str | None,
                           registration_id: str | None, subject: str | None, error: str, dead_letter_queue: str,
                           on_failed=None) -> bool:
    """A mail that could not even be rendered (``error``: why), recorded as failed for good with no message and
    no attempt, and all that follows such a failure (:func:`fail_for_good`): so it is in the delivery log, on
    the broker and in the organisers' mailbox, not only in the worker's log. False if the logical key was
    taken already, or the registration was erased meanwhile."""
    mail_id = _insert_mail(tx, "failed", logical_key=logical_key, kind=kind, source_message_id=source_message_id,
                           source_body=source_body, correlation_id=correlation_id, recipient=recipient[:254],
                           message=b"", meeting_id=meeting_id, registration_id=registration_id, subject=subject)
    if mail_id is None:
        return False
    row = tx.execute(sa.select(mails).where(mails.c.id == mail_id)).one()
    # The delivery log shows last_error to organisers: German first.
    return fail_for_good(tx, row, attempts=0, error=f"Nicht erstellt / not rendered: {error}",
                         reason=f"not rendered: {error}", dead_letter_queue=dead_letter_queue, on_failed=on_failed)


def _insert_mail(tx: sa.Connection, status: str, *, subject: str | None, **values) -> str | None:
    """The new mail's id, None if its logical key is taken."""
    now = utcnow()
    mail_id = str(uuid.uuid4())
    inserted = tx.execute(_INSERT_MAIL[tx.dialect.name], dict(
        values, id=mail_id, subject=(subject or "")[:500] or None, status=status, attempts=0, next_attempt_at=now,
        last_error=None, created_at=now, sent_at=None)).first()
    return mail_id if inserted is not None else None


def fail_for_good(conn: sa.Connection, row, *, attempts: int, error: str, reason: str, dead_letter_queue: str,
                  on_failed=None) -> bool:
    """Record the mail ``row`` as failed for good, in the caller's transaction and with it: ``notification.failed``,
    a dead letter of its source event with ``reason``, and ``on_failed(conn, failed, error)`` with the mail as
    recorded (notify warns the meeting's organisers, see :mod:`.notices`). False if its registration was
    erased meanwhile: then the mail is deleted instead, with no dead letter (it holds the source event) and
    no warning."""
    failed = conn.execute(_MARK_FAILED, {"mail_id": row.id, "attempt": attempts, "error": error[:1000]}).first()
    if failed is None:
        _withdraw(conn, row)
        return False
    add_to_outbox(conn, outbox, NOTIFICATION_FAILED,
                  {"notification_id": row.id, "kind": row.kind, "source_message_id": row.source_message_id,
                   "reason": reason[:500]},
                  producer=PRODUCER, correlation_id=row.correlation_id)
    add_dead_letter_to_outbox(conn, outbox, dead_letter_queue=dead_letter_queue, body=row.source_body,
                              message_id=row.source_message_id, reason=reason, correlation_id=row.correlation_id)
    if on_failed is not None:
        try:
            # In a savepoint: a warning that cannot be built must not undo the "failed" record (a claimed
            # mail would then be pending again and sent again).
            with conn.begin_nested():
                on_failed(conn, failed, error)
        except Exception as exc:
            log_event(log, "failure_warning_not_queued", logging.ERROR, mail_id=row.id, error=repr(exc)[:300])
    return True


def _withdraw(conn: sa.Connection, row) -> None:
    """The mail of a registration erased since it was claimed or read: deleted instead of recorded as sent or
    failed."""
    conn.execute(_DELETE_MAIL, {"mail_id": row.id})
    log_event(log, "mail_withdrawn", mail_id=row.id, kind=row.kind, registration_id=row.registration_id,
              correlation_id=row.correlation_id)


class RateLimit:
    """At most ``per_second`` mails per second from the senders that share this object (one worker
    process's sender threads). A token bucket: bursts up to one second's worth, then an even pace.
    ``per_second`` <= 0: no limit. The limit is per worker process; with W workers the SMTP server sees
    at most W × ``per_second`` (set MAIL_RATE_PER_S accordingly, see the README)."""

    def __init__(self, per_second: float, *, clock=time.monotonic, sleep=time.sleep):
        self.per_second = per_second
        self.clock, self.sleep = clock, sleep
        self._tokens = max(per_second, 1.0)
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self, stopped: threading.Event | None = None) -> None:
        if self.per_second <= 0:
            return
        while True:
            with self._lock:
                now = self.clock()
                self._tokens = min(max(self.per_second, 1.0), self._tokens + (now - self._last) * self.per_second)
                self._last = now
                if self._tokens >= 1 - 1e-9:  # float sums of elapsed times land a hair below 1
                    self._tokens = max(self._tokens - 1, 0.0)
                    return
                wait = (1 - self._tokens) / self.per_second
            if stopped is not None and stopped.wait(wait):
                return
            if stopped is None:
                self.sleep(wait)


class MailSender:
    def __init__(self, engine: sa.Engine, mailer, *, sender_address: str, retry_delays_s: tuple[int, ...],
                 dead_letter_queue: str, idle_seconds: float = 0.05, rate_limit: RateLimit | None = None,
                 on_failed=None):
        """``on_failed(conn, mail, error)``: called in the transaction that marks a mail failed for good, with
        the mail as recorded (notify warns the meeting's organisers there, see :mod:`.notices`)."""
        self.rate_limit = rate_limit
        self.on_failed = on_failed
        self.engine = engine
        self.mailer = mailer
        self.sender_address = sender_address
        # Checked here, at start: an unusable MAIL_FROM stops the worker instead of failing every mail.
        self.envelope_sender = checked_sender(sender_address)
        self.retry_delays_s = retry_delays_s
        self.dead_letter_queue = dead_letter_queue
        self.idle_seconds = idle_seconds
        self.stopped = threading.Event()

    def send_next(self, conn: sa.Connection | None = None) -> bool:
        """Send one due mail; False if none was due. ``conn``: a connection to reuse, else one from the pool."""
        if conn is None:
            with self.engine.connect() as own:
                return self.send_next(own)
        if self.rate_limit is not None and not self._has_due(conn):
            return False
        if self.rate_limit is not None:
            # Before the claim: a sender waiting for its turn holds no mail's lock.
            self.rate_limit.acquire(self.stopped)
        tx = conn.begin()
        row = conn.execute(_CLAIM_DUE, {"now": utcnow()}).first()
        if row is None:
            tx.rollback()
            return False

        def commit_sent():
            marked = conn.execute(_MARK_SENT, {"mail_id": row.id, "now": utcnow(), "attempt": row.attempts + 1})
            if marked.rowcount == 0:
                _withdraw(conn, row)
                tx.commit()
                raise MailWithdrawn(row.id)  # the mailer abandons the DATA: the server discards the message
            add_to_outbox(conn, outbox, NOTIFICATION_SENT,
                          {"notification_id": row.id, "kind": row.kind,
                           "source_message_id": row.source_message_id},
                          producer=PRODUCER, correlation_id=row.correlation_id)
            if conn.dialect.name == "postgresql":
                # A worker killed after PostgreSQL made "sent" durable but before the final "." went out loses
                # the mail; with a synchronous commit that window is the whole WAL flush (milliseconds, and
                # SIGKILL tests hit it). Without the wait it is one round trip. The price: a crash of the
                # PostgreSQL *server* within ~0.6 s of a commit can forget "sent" and send that mail again,
                # a far rarer event than a worker being killed (deploys, OOM).
                conn.execute(_ASYNC_COMMIT)
            tx.commit()

        try:
            self.mailer.send(self.envelope_sender, row.recipient, row.message, commit_sent)
        except TemporaryMailError as exc:
            self._after_failure(conn, tx, row, str(exc), permanent=False)
        except PermanentMailError as exc:
            self._after_failure(conn, tx, row, str(exc), permanent=True)
        except MailWithdrawn:
            pass  # deleted and logged in commit_sent
        else:
            log_event(log, "mail_sent", mail_id=row.id, kind=row.kind, message_id=row.source_message_id,
                      correlation_id=row.correlation_id, attempt=row.attempts + 1)
        return True

    def _has_due(self, conn: sa.Connection) -> bool:
        # Without it an idle sender would take a token for every empty poll.
        with conn.begin():
            return conn.execute(_HAS_DUE, {"now": utcnow()}).first() is not None

    def _after_failure(self, conn: sa.Connection, tx, row, error: str, *, permanent: bool) -> None:
        attempts = row.attempts + 1
        gave_up = permanent or attempts > len(self.retry_delays_s)
        # The failure is written in the transaction that still holds the mail's row lock. Rolling back
        # first would free the mail for another sender, which could send it while this one then resets it
        # to "pending" (a second copy). Only a mail already committed as sent (the server refused the
        # finished message) has no lock left; no sender claims a sent mail, so a new transaction is safe.
        with (tx if tx.is_active else conn.begin()):
            if gave_up:
                reason = f"{'permanent' if permanent else 'temporary'} SMTP failure, attempt {attempts}: {error}"
                if not fail_for_good(conn, row, attempts=attempts, error=error, reason=reason,
                                     dead_letter_queue=self.dead_letter_queue, on_failed=self.on_failed):
                    return  # erased since the claim
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
                # One database connection for as long as it works: a checkout per mail costs a ping.
                with self.engine.connect() as conn:
                    while not self.stopped.is_set():
                        if not self.send_next(conn):
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
