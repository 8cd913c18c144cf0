"""Erasing every trace of a participant in notify (``participant.erased``), and keeping it erased.

Gone afterwards: the participant's mails (delivery log rows, rendered messages, the source events kept
with them, pending ones too, so nothing is sent any more), the recipients row, warnings to organisers
about that participant's failed mails, organisers' digests that name them, and dead letters about their
mails still waiting in the outbox. Kept: the registration id in ``erased_registrations`` (no personal
data), so a late or redelivered event of that registration cannot bring a copy back.

Transactions that began before the erasure committed can still write after it: a scheduler chunk or
reminder that had read the recipients row queues its mail, a second worker that had checked
:func:`~.read_models.is_erased` for the same registration's event writes the recipients row back and
queues its mail. Under READ COMMITTED the erasure cannot see those rows, so three things keep them harmless:

* the sender claims no mail of a tombstoned registration, and one it claimed just before the tombstone
  committed is deleted instead of being marked sent, its unfinished SMTP DATA abandoned
  (:mod:`.mail_queue`);
* :func:`sweep_erased`, run by the scheduler at the start of every round, deletes such mails and
  recipients rows (of the tombstones of the last ``RACE_WINDOW``; the first round after a start, of all);
* the erasure holds the meeting's read-model row locked, as the digest job does from reading the
  meeting's recipients to queuing its digests: a digest is either committed before the erasure looks
  for digests naming the participant, or built after the erasure, from recipients without the erased ones.

Until the sweep has run (one scheduler interval), such a row is in the database, and a recipients row
written back shows on the organisers' pages. A mail whose "sent" was committed before the erasure
committed has gone to SMTP and cannot be recalled (its delivery log row is deleted).

Dead letters already on the broker's ``<ns>.notify.dead`` are removed after the erasure committed, by
:func:`scrub_dead_letters` in the scheduler's next round (see
:mod:`treffpunkt_shared.messaging.dead_letters`). Not reachable from here: whatever the SMTP server and the
mailboxes hold.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

import sqlalchemy as sa
from kombu.exceptions import ChannelError

from treffpunkt_shared.logs import log_event
from treffpunkt_shared.messaging.dead_letters import remove_dead_letters
from treffpunkt_shared.messaging.topology import Topology
from treffpunkt_shared.timeutil import utcnow

from .emails import ORGANISER_KINDS
from .models import erased_registrations, mails, outbox, recipients

log = logging.getLogger("treffpunkt.notify.erasure")

_TOMBSTONED = sa.select(erased_registrations.c.registration_id)
# A transaction that races an erasure commits seconds after it (one chunk, one event): a day is ample. Sweeping
# only the day's tombstones keeps a round's sweep at a scan of the tombstones' ids and an index probe for each
# recent one, where all tombstones (every registration once its retention time is over) would cost a scan of
# the whole mails table each round.
RACE_WINDOW = timedelta(days=1)
_UNSCRUBBED = _TOMBSTONED.where(erased_registrations.c.dead_letters_scrubbed_at.is_(None))
SCRUB_BATCH = 1000  # tombstones per pass through the dead-letter queue (retention erases whole meetings)
_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def not_erased(registration_id: sa.ColumnElement) -> sa.ColumnElement:
    """True where ``registration_id`` has no tombstone (or is NULL): an anti-join on the tombstones'
    primary key, one index lookup per row."""
    return ~sa.exists().where(erased_registrations.c.registration_id == registration_id)


def erase_registration(tx: sa.Connection, registration_id: str, meeting_id: str) -> None:
    from .read_models import insert_ignore, meeting_row
    insert_ignore(tx, erased_registrations, {"registration_id": registration_id, "erased_at": utcnow()},
                  ["registration_id"])
    # Waits for a digest being built for this meeting (see the module docstring). Taken before any mails or
    # recipients row is locked, and no transaction that locks those waits for a meeting's row: no deadlock.
    meeting_row(tx, meeting_id, for_update=True)
    deleted_mails, _ = _delete_mails_and_recipients(tx, [registration_id])
    deleted = len(deleted_mails)
    # Organisers' digests name the registrations they list in their source body (ids only).
    marker = registration_id.encode()
    digests = [r.id for r in tx.execute(sa.select(mails.c.id, mails.c.source_body).where(
        mails.c.meeting_id == meeting_id, mails.c.kind.in_(ORGANISER_KINDS))) if marker in bytes(r.source_body)]
    if digests:
        deleted += tx.execute(mails.delete().where(mails.c.id.in_(digests))).rowcount
    # A dead letter of one of their mails names the registration in its body (the event's payload, or a
    # fan-out's or broadcast's mail record). Not by the original message id: for a fan-out or a broadcast that
    # is the job's, shared with every other recipient's dead letter.
    dead = [row.seq for row in tx.execute(sa.select(outbox.c.seq, outbox.c.body)
                                          .where(outbox.c.destination == "dead-letter"))
            if marker in bytes(row.body)]
    if dead:
        tx.execute(outbox.delete().where(outbox.c.seq.in_(dead)))
    log_event(log, "participant_erased", registration_id=registration_id, mails_deleted=deleted,
              dead_letters_deleted=len(dead))


def sweep_erased(tx: sa.Connection, *, erased_since: datetime | None = None) -> int:
    """Delete the mails (warnings about their failed mails included: they carry the registration id) and
    recipients rows of tombstoned registrations that transactions racing their erasure wrote after it; the
    number of rows deleted. ``erased_since``: only the tombstones from then on (None: all). One semi-join per
    table, probing ``ix_mails_registration`` and the recipients' primary key for each of those tombstones."""
    tombstoned = _TOMBSTONED if erased_since is None else _TOMBSTONED.where(
        erased_registrations.c.erased_at >= erased_since)
    deleted_mails, deleted_recipients = _delete_mails_and_recipients(tx, tombstoned)
    if deleted_mails or deleted_recipients:
        log_event(log, "erased_registrations_swept",
                  registration_ids=sorted({r.registration_id for r in deleted_mails + deleted_recipients}),
                  mails_deleted=len(deleted_mails), recipients_deleted=len(deleted_recipients))
    return len(deleted_mails) + len(deleted_recipients)


def _delete_mails_and_recipients(tx: sa.Connection, registration_ids) -> tuple[list, list]:
    """``registration_ids``: a list, or a select of them. The registration ids of the deleted mails and of the
    deleted recipients rows."""
    deleted_mails = tx.execute(mails.delete().where(mails.c.registration_id.in_(registration_ids))
                               .returning(mails.c.registration_id)).all()
    deleted_recipients = tx.execute(recipients.delete().where(recipients.c.registration_id.in_(registration_ids))
                                    .returning(recipients.c.registration_id)).all()
    return deleted_mails, deleted_recipients


def scrub_dead_letters(engine: sa.Engine, amqp_url: str, topology: Topology) -> int:
    """Remove from the broker's ``<ns>.notify.dead`` the dead letters of registrations erased since the last
    pass (a dead-lettered registration event, a mail that failed for good: both name the registration id in
    their body, and hold the participant's name and address); the number removed. Nothing to do, no broker
    connection. A tombstone is marked only after its pass, so a broker outage just delays it."""
    with engine.connect() as conn:
        pending = {r.registration_id for r in conn.execute(_UNSCRUBBED.limit(SCRUB_BATCH))}
    if not pending:
        return 0
    markers = {registration_id.encode() for registration_id in pending}
    try:
        removed, kept = remove_dead_letters(
            amqp_url, topology.direct, topology.dead_letter_queue_name("notify"),
            lambda body: not markers.isdisjoint(_UUID.findall(body.lower())))
    except ChannelError as exc:
        if "NOT_FOUND" not in str(exc) and "no queue" not in str(exc).lower():
            raise
        removed, kept = 0, 0  # no dead-letter queue (yet): no dead letters
    with engine.begin() as tx:
        tx.execute(erased_registrations.update().where(erased_registrations.c.registration_id.in_(pending))
                   .values(dead_letters_scrubbed_at=utcnow()))
    log_event(log, "dead_letters_scrubbed", registrations=len(pending), removed=removed, kept=kept)
    return removed
