"""Registering a participant: a place taken atomically, the registration and its event in one transaction.

The meeting row is the lock every registration for that meeting queues on, and a row lock is held until
the transaction's commit has been flushed. So everything that does not depend on the outcome (reading the
meeting, the duplicate check by inserting the registration, building and writing the event) happens
*before* the capacity UPDATE, and the UPDATE is the last statement before COMMIT in the common case: the
lock is held for one UPDATE and the commit, not for the whole request.
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from treffpunkt_shared.contracts import REGISTRATION_CONFIRMED, REGISTRATION_WAITLISTED
from treffpunkt_shared.messaging.tables import add_to_outbox, outbox_message
from treffpunkt_shared.timeutil import utcnow

from .meetings import RegistrationClosed, get_meeting, registration_problem, snapshot
from .models import meetings, outbox, registrations

PRODUCER = "registration"
DUPLICATE_MESSAGE = "Mit dieser E-Mail-Adresse besteht bereits eine Anmeldung für dieses Treffen."


class MeetingUnknown(Exception):
    pass


class AlreadyRegistered(Exception):
    pass


# Statements built once: building a Core statement per call (and its cache key) cost more CPU than
# executing it, and CPU is what limits a small machine under load.
_INSERT_REGISTRATION = registrations.insert()
_TAKE_SEAT = (meetings.update()
              .where(meetings.c.id == sa.bindparam("meeting_id"), meetings.c.seats_taken < meetings.c.capacity)
              .values(seats_taken=meetings.c.seats_taken + 1))
_JOIN_WAITLIST = (meetings.update().where(meetings.c.id == sa.bindparam("meeting_id"))
                  .values(waitlist_length=meetings.c.waitlist_length + 1)
                  .returning(meetings.c.waitlist_length))
_MARK_WAITLISTED = (registrations.update().where(registrations.c.id == sa.bindparam("registration_id"))
                    .values(status="waitlisted", waitlist_position=sa.bindparam("position")))
_REWRITE_EVENT = (outbox.update().where(outbox.c.message_id == sa.bindparam("event_id"))
                  .values(routing_key=sa.bindparam("new_routing_key"), body=sa.bindparam("new_body")))


def email_key(email: str) -> str:
    return email.strip().lower()


def _event_payload(registration_id: str, meeting: dict, data: dict, position: int | None) -> dict:
    return {"registration_id": registration_id, "status": "waitlisted" if position else "confirmed",
            "waitlist_position": position, "meeting": snapshot(meeting),
            "participant": {"first_name": data["first_name"], "last_name": data["last_name"],
                            "email": data["email"], "organisation": data["organisation"],
                            "function": data["function"], "language": data["language"]}}


def register(engine: sa.Engine, meeting_id: str, data: dict, *, privacy_notice_version: str,
             correlation_id: str | None = None) -> dict:
    """Register; returns ``{"id", "status", "waitlist_position"}``."""
    registration_id = str(uuid.uuid4())
    now = utcnow()
    try:
        with engine.begin() as tx:
            meeting = get_meeting(tx, meeting_id)
            if meeting is None:
                raise MeetingUnknown(meeting_id)
            problem = registration_problem(meeting)
            if problem:
                raise RegistrationClosed(problem)
            # The insert comes first: a duplicate fails on the unique index before any place is locked.
            tx.execute(_INSERT_REGISTRATION, dict(
                id=registration_id, meeting_id=meeting_id, first_name=data["first_name"],
                last_name=data["last_name"], email=data["email"], email_key=email_key(data["email"]),
                organisation=data["organisation"], function=data["function"], language=data["language"],
                privacy_notice_version=privacy_notice_version, privacy_consent_at=now, status="confirmed",
                waitlist_position=None, created_at=now))
            # The event is written as "confirmed" before the lock, too; should no place be left it is
            # rewritten below, still in this transaction, so no consumer ever sees the provisional one.
            event_id = add_to_outbox(tx, outbox, REGISTRATION_CONFIRMED,
                                     _event_payload(registration_id, meeting, data, None),
                                     producer=PRODUCER, correlation_id=correlation_id)
            # Taking a place is one conditional UPDATE: the row lock it takes serialises concurrent
            # registrations for this meeting, so the count can never pass the capacity. It comes last.
            took_seat = tx.execute(_TAKE_SEAT, {"meeting_id": meeting_id}).rowcount == 1
            position = None
            if not took_seat:
                # Full: the next waiting-list position, counted under the same row lock (1..k, no gaps:
                # a rolled-back registration rolls its increment back before the next one can read it).
                position = tx.execute(_JOIN_WAITLIST, {"meeting_id": meeting_id}).scalar_one()
                tx.execute(_MARK_WAITLISTED, {"registration_id": registration_id, "position": position})
                event = outbox_message(REGISTRATION_WAITLISTED,
                                       _event_payload(registration_id, meeting, data, position),
                                       producer=PRODUCER, correlation_id=correlation_id, message_id=event_id)
                tx.execute(_REWRITE_EVENT, {"event_id": event_id, "new_routing_key": event["routing_key"],
                                            "new_body": event["body"]})
    except sa.exc.IntegrityError as exc:
        if "uq_active_registration" in str(exc.orig) or "UNIQUE constraint failed: registrations" in str(exc.orig):
            raise AlreadyRegistered() from None
        raise
    return {"id": registration_id, "status": "confirmed" if took_seat else "waitlisted",
            "waitlist_position": position}
