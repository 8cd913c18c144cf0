"""The counters behind "no overbooking, ever": meeting places, round places, authority quotas.

Every change of a place first locks the meeting's row (:func:`lock_meeting`); so all place changes of one
meeting are serialised, in one order (meeting → authority → rounds), and a round's or an authority's counter
is only ever changed by the holder of that lock. Round counters are conditional UPDATEs as well, so they
can never pass their capacity even if that rule were broken. On PostgreSQL the lock waits at most
``LOCK_TIMEOUT``, then the request is answered "try again" instead of hanging.
"""
from __future__ import annotations

import sqlalchemy as sa

from .models import authority_places, meetings, registration_rounds, registrations, rounds

LOCK_TIMEOUT = "3s"


class Busy(Exception):
    """The meeting's lock was not free in time: the caller should try again."""


class RoundFull(Exception):
    def __init__(self, item_id: str):
        super().__init__(item_id)
        self.item_id = item_id


# The statements of the registration path, built once: building and compiling a statement per call cost
# about as much CPU as running it.
_SET_LOCK_TIMEOUT = sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
_TOUCH_MEETING = (meetings.update().where(meetings.c.id == sa.bindparam("meeting_id"))
                  .values(seats_taken=meetings.c.seats_taken))
_LOCK_MEETING = sa.select(meetings).where(meetings.c.id == sa.bindparam("meeting_id")).with_for_update()
_AUTHORITY_PLACES_TAKEN = sa.select(authority_places.c.places_taken).where(
    authority_places.c.meeting_id == sa.bindparam("meeting_id"),
    authority_places.c.authority_key == sa.bindparam("key"))
_TAKE_PLACE = (meetings.update().where(meetings.c.id == sa.bindparam("meeting_id"),
                                       meetings.c.seats_taken < meetings.c.capacity)
               .values(seats_taken=meetings.c.seats_taken + 1))
# (An UPDATE's bind names must differ from its table's column names.)
_ADD_AUTHORITY_PLACES = (authority_places.update().where(
    authority_places.c.meeting_id == sa.bindparam("of_meeting"), authority_places.c.authority_key == sa.bindparam("key"))
    .values(places_taken=authority_places.c.places_taken + sa.bindparam("delta", type_=sa.Integer)))
_INSERT_AUTHORITY_PLACES = authority_places.insert()
_NEXT_TICKET = (meetings.update().where(meetings.c.id == sa.bindparam("meeting_id"))
                .values(waitlist_length=meetings.c.waitlist_length + 1).returning(meetings.c.waitlist_length))
_WAITLIST_POSITION = sa.select(sa.func.count()).select_from(registrations).where(
    registrations.c.meeting_id == sa.bindparam("meeting_id"), registrations.c.has_place.is_(False),
    registrations.c.status.in_(("pending", "waitlisted")), registrations.c.waitlist_ticket <= sa.bindparam("ticket"))


def lock_meeting(tx: sa.Connection, meeting_id: str):
    """Lock and return the meeting row (None if unknown)."""
    if tx.dialect.name == "postgresql":
        tx.execute(_SET_LOCK_TIMEOUT)
    else:
        # SQLite (embedded) has no row locks and ignores FOR UPDATE: a write as the transaction's first
        # statement takes its database-wide write lock now, before anything is read, so the reads below
        # cannot go stale (a stale read would fail the later write with "database is locked").
        tx.execute(_TOUCH_MEETING, {"meeting_id": meeting_id})
    try:
        return tx.execute(_LOCK_MEETING, {"meeting_id": meeting_id}).first()
    except sa.exc.OperationalError as exc:
        if "lock timeout" in str(exc.orig) or "canceling statement due to lock timeout" in str(exc.orig):
            raise Busy() from None
        raise


def authority_places_taken(tx: sa.Connection, meeting_id: str, authority_key: str) -> int:
    return tx.execute(_AUTHORITY_PLACES_TAKEN, {"meeting_id": meeting_id, "key": authority_key}).scalar() or 0


def place_available(tx: sa.Connection, meeting, authority_key: str) -> bool:
    """Whether a place may be given to someone of ``authority_key`` (caller holds the meeting lock)."""
    if meeting.seats_taken >= meeting.capacity:
        return False
    if meeting.authority_quota is not None and authority_key:
        return authority_places_taken(tx, meeting.id, authority_key) < meeting.authority_quota
    return True


def take_place(tx: sa.Connection, meeting_id: str, authority_key: str) -> None:
    taken = tx.execute(_TAKE_PLACE, {"meeting_id": meeting_id}).rowcount
    if taken != 1:
        raise RuntimeError("take_place without a free place (the caller checks under the meeting lock)")
    # Counted whether or not the meeting has a quota: an organiser may set one later.
    _add_authority_place(tx, meeting_id, authority_key, +1)


def free_place(tx: sa.Connection, meeting_id: str, authority_key: str) -> None:
    tx.execute(meetings.update().where(meetings.c.id == meeting_id)
               .values(seats_taken=meetings.c.seats_taken - 1))
    tx.execute(authority_places.update().where(authority_places.c.meeting_id == meeting_id,
                                               authority_places.c.authority_key == authority_key,
                                               authority_places.c.places_taken > 0)
               .values(places_taken=authority_places.c.places_taken - 1))


def _add_authority_place(tx, meeting_id: str, authority_key: str, delta: int) -> None:
    updated = tx.execute(_ADD_AUTHORITY_PLACES, {"of_meeting": meeting_id, "key": authority_key,
                                                 "delta": delta}).rowcount
    if not updated:
        tx.execute(_INSERT_AUTHORITY_PLACES, {"meeting_id": meeting_id, "authority_key": authority_key,
                                              "places_taken": max(delta, 0)})


def next_waitlist_ticket(tx: sa.Connection, meeting_id: str) -> int:
    return tx.execute(_NEXT_TICKET, {"meeting_id": meeting_id}).scalar_one()


def waitlist_position(conn: sa.Connection, meeting_id: str, ticket: int | None) -> int | None:
    """The rank of ``ticket`` among those still waiting (1 = next in line)."""
    if ticket is None:
        return None
    return conn.execute(_WAITLIST_POSITION, {"meeting_id": meeting_id, "ticket": ticket}).scalar_one()


def take_round(tx: sa.Connection, meeting_id: str, item_id: str) -> bool:
    """Take a place in a round if one is left; False when it is full."""
    return tx.execute(rounds.update().where(
        rounds.c.meeting_id == meeting_id, rounds.c.item_id == item_id, rounds.c.status == "scheduled",
        sa.or_(rounds.c.capacity.is_(None), rounds.c.places_taken < rounds.c.capacity))
        .values(places_taken=rounds.c.places_taken + 1)).rowcount == 1


def free_round(tx: sa.Connection, meeting_id: str, item_id: str) -> None:
    tx.execute(rounds.update().where(rounds.c.meeting_id == meeting_id, rounds.c.item_id == item_id,
                                     rounds.c.places_taken > 0)
               .values(places_taken=rounds.c.places_taken - 1))


def hold_rounds(tx: sa.Connection, meeting_id: str, registration_id: str, *, strict: bool) -> None:
    """Turn a registration's round wishes into held places, in item order. ``strict``: a full round raises
    :class:`RoundFull` (the participant is choosing now and should choose again); otherwise it stays a wish."""
    wishes = tx.execute(sa.select(registration_rounds.c.item_id).where(
        registration_rounds.c.registration_id == registration_id, registration_rounds.c.held.is_(False))
        .order_by(registration_rounds.c.item_id)).scalars().all()
    for item_id in wishes:
        if take_round(tx, meeting_id, item_id):
            tx.execute(registration_rounds.update().where(
                registration_rounds.c.registration_id == registration_id,
                registration_rounds.c.item_id == item_id).values(held=True))
        elif strict:
            raise RoundFull(item_id)


def release_rounds(tx: sa.Connection, meeting_id: str, registration_id: str) -> None:
    """Give back the round places a registration holds; its choices stay, as wishes."""
    held = tx.execute(sa.select(registration_rounds.c.item_id).where(
        registration_rounds.c.registration_id == registration_id,
        registration_rounds.c.held.is_(True))).scalars().all()
    for item_id in held:
        free_round(tx, meeting_id, item_id)
    if held:
        tx.execute(registration_rounds.update().where(registration_rounds.c.registration_id == registration_id)
                   .values(held=False))
