"""Erasing every trace of a participant in notify (``participant.erased``).

Gone afterwards: the participant's mails (delivery log rows, rendered messages, the source events kept
with them, pending ones too, so nothing is sent any more), the recipients row, warnings to organisers
about that participant's failed mails, organisers' digests that name them, and dead letters about their
mails still waiting in the outbox. Kept: the registration id in ``erased_registrations`` (no personal
data), so a late or redelivered event of that registration cannot bring a copy back.

Not reachable from here: dead letters already on the broker's ``<ns>.notify.dead`` queue (operators purge
them, see the README) and whatever the SMTP server and the mailboxes hold.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa

from treffpunkt_shared.logs import log_event
from treffpunkt_shared.timeutil import utcnow

from .models import erased_registrations, mails, outbox, recipients

log = logging.getLogger("treffpunkt.notify.erasure")

_ORGANISER_KINDS = ("organiser_digest", "organiser_mail_failed")


def erase_registration(tx: sa.Connection, registration_id: str, meeting_id: str) -> None:
    from .read_models import insert_ignore
    insert_ignore(tx, erased_registrations, {"registration_id": registration_id, "erased_at": utcnow()},
                  ["registration_id"])
    source_ids = {r.source_message_id for r in tx.execute(
        sa.select(mails.c.source_message_id).where(mails.c.registration_id == registration_id))}
    deleted = tx.execute(mails.delete().where(mails.c.registration_id == registration_id)).rowcount
    # Organisers' digests name the registrations they list in their source body (ids only).
    marker = registration_id.encode()
    digests = [r.id for r in tx.execute(sa.select(mails.c.id, mails.c.source_body).where(
        mails.c.meeting_id == meeting_id, mails.c.kind.in_(_ORGANISER_KINDS))) if marker in bytes(r.source_body)]
    if digests:
        deleted += tx.execute(mails.delete().where(mails.c.id.in_(digests))).rowcount
    tx.execute(recipients.delete().where(recipients.c.registration_id == registration_id))
    dead = []
    for row in tx.execute(sa.select(outbox.c.seq, outbox.c.headers, outbox.c.body)
                          .where(outbox.c.destination == "dead-letter")):
        original = (row.headers or {}).get("x-original-message-id")
        if original in source_ids or marker in bytes(row.body):
            dead.append(row.seq)
    if dead:
        tx.execute(outbox.delete().where(outbox.c.seq.in_(dead)))
    log_event(log, "participant_erased", registration_id=registration_id, mails_deleted=deleted,
              dead_letters_deleted=len(dead))
