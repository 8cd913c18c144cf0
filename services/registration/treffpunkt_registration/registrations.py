"""Registering a participant: a place taken atomically, the registration and its event in one transaction."""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from treffpunkt_shared.contracts import REGISTRATION_CONFIRMED, REGISTRATION_WAITLISTED
from treffpunkt_shared.messaging.tables import add_to_outbox
from treffpunkt_shared.timeutil import utcnow

from .meetings import RegistrationClosed, get_meeting, registration_problem, snapshot
from .models import meetings, outbox, registrations

PRODUCER = "registration"
DUPLICATE_MESSAGE = "Mit dieser E-Mail-Adresse besteht bereits eine Anmeldung für dieses Treffen."


class MeetingUnknown(Exception):
    pass


class AlreadyRegistered(Exception):
    pass


def email_key(email: str) -> str:
    return email.strip().lower()


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
            tx.execute(registrations.insert().values(
                id=registration_id, meeting_id=meeting_id, first_name=data["first_name"],
                last_name=data["last_name"], email=data["email"], email_key=email_key(data["email"]),
                organisation=data["organisation"], function=data["function"], language=data["language"],
                privacy_notice_version=privacy_notice_version, privacy_consent_at=now, status="confirmed",
                created_at=now))
            # Taking a place is one conditional UPDATE: the row lock it takes serialises concurrent
            # registrations for this meeting, so the count can never pass the capacity.
            took_seat = tx.execute(
                meetings.update().where(meetings.c.id == meeting_id,
                                        meetings.c.seats_taken < meetings.c.capacity)
                .values(seats_taken=meetings.c.seats_taken + 1)).rowcount == 1
            position = None
            if not took_seat:
                position = tx.execute(
                    meetings.update().where(meetings.c.id == meeting_id)
                    .values(waitlist_length=meetings.c.waitlist_length + 1)
                    .returning(meetings.c.waitlist_length)).scalar_one()
                tx.execute(registrations.update().where(registrations.c.id == registration_id)
                           .values(status="waitlisted", waitlist_position=position))
            status = "confirmed" if took_seat else "waitlisted"
            add_to_outbox(
                tx, outbox, REGISTRATION_CONFIRMED if took_seat else REGISTRATION_WAITLISTED,
                {"registration_id": registration_id, "status": status, "waitlist_position": position,
                 "meeting": snapshot(meeting),
                 "participant": {"first_name": data["first_name"], "last_name": data["last_name"],
                                 "email": data["email"], "organisation": data["organisation"],
                                 "function": data["function"], "language": data["language"]}},
                producer=PRODUCER, correlation_id=correlation_id)
    except sa.exc.IntegrityError as exc:
        if "uq_active_registration" in str(exc.orig) or "UNIQUE constraint failed: registrations" in str(exc.orig):
            raise AlreadyRegistered() from None
        raise
    return {"id": registration_id, "status": status, "waitlist_position": position}
