"""The ``registration.*`` events, built from a registration's stored state and written to the outbox in the
transaction that changed it. Every event carries the whole state (event-carried state): notify needs no
lookup, and a late or repeated event is harmless."""
from __future__ import annotations

import sqlalchemy as sa

from treffpunkt_shared.contracts import Contract
from treffpunkt_shared.messaging.tables import add_to_outbox
from treffpunkt_shared.timeutil import as_utc

from .meetings import meeting_as_dict, snapshot
from .models import meetings, outbox, registration_rounds, registrations, rounds
from .places import waitlist_position

PRODUCER = "registration"


def chosen_rounds(conn: sa.Connection, registration_id: str) -> list[dict]:
    rows = conn.execute(
        sa.select(rounds.c.item_id, rounds.c.title, rounds.c.kind, rounds.c.starts_at, rounds.c.ends_at,
                  rounds.c.room, rounds.c.slot, rounds.c.status, registration_rounds.c.held)
        .join(rounds, sa.and_(rounds.c.meeting_id == registration_rounds.c.meeting_id,
                              rounds.c.item_id == registration_rounds.c.item_id))
        .where(registration_rounds.c.registration_id == registration_id)
        .order_by(rounds.c.starts_at)).all()
    return [{"item_id": r.item_id, "title": r.title, "kind": r.kind, "starts_at": as_utc(r.starts_at),
             "ends_at": as_utc(r.ends_at), "room": r.room, "held": r.held, "slot": r.slot,
             "status": r.status} for r in rows]


def registration_state(conn: sa.Connection, registration_id: str, *, meeting=None,
                       with_rounds: bool = True) -> dict | None:
    """The registration with its meeting, waiting-list position and rounds, as the pages and events need it.
    A caller that has just read the meeting row under its lock passes it (``meeting``), and one that knows
    there are no rounds says so (``with_rounds=False``): two queries fewer on the registration path."""
    row = conn.execute(sa.select(registrations).where(registrations.c.id == registration_id)).first()
    if row is None:
        return None
    state = dict(row._mapping)
    for key in ("created_at", "confirm_by", "confirmed_at", "cancelled_at", "privacy_consent_at",
                "photo_consent_at", "erased_at"):
        state[key] = as_utc(state[key])
    state["meeting"] = meeting_as_dict(meeting if meeting is not None else conn.execute(
        sa.select(meetings).where(meetings.c.id == row.meeting_id)).first())
    state["waitlist_position"] = (waitlist_position(conn, row.meeting_id, row.waitlist_ticket)
                                  if not row.has_place and row.status in ("pending", "waitlisted") else None)
    state["rounds"] = chosen_rounds(conn, registration_id) if with_rounds else []
    return state


def emit(tx: sa.Connection, contract: Contract, registration_id: str, *, links: dict | None = None,
         previous_status: str | None = None, correlation_id: str | None = None, meeting=None,
         with_rounds: bool = True) -> dict:
    """Write ``contract``'s event for the registration's current state; returns that state (``meeting`` and
    ``with_rounds`` as in :func:`registration_state`)."""
    state = registration_state(tx, registration_id, meeting=meeting, with_rounds=with_rounds)
    emit_state(tx, contract, state, links=links, previous_status=previous_status, correlation_id=correlation_id)
    return state


def emit_state(tx: sa.Connection, contract: Contract, state: dict, *, links: dict | None = None,
               previous_status: str | None = None, correlation_id: str | None = None) -> None:
    """Write ``contract``'s event for ``state`` (as :func:`registration_state` returns it), for a caller that
    has just written that state and holds it already."""
    payload = {
        "registration_id": state["id"], "sequence": state["sequence"], "status": state["status"],
        "waitlist_position": state["waitlist_position"], "meeting": snapshot(state["meeting"]),
        "participant": {"first_name": state["first_name"], "last_name": state["last_name"],
                        "email": state["email"], "organisation": state["organisation"],
                        "function": state["function"], "language": state["language"]},
        "rounds": [{k: r[k] for k in ("item_id", "title", "kind", "starts_at", "ends_at", "room", "held")}
                   for r in state["rounds"] if r["status"] == "scheduled"],
        "links": links or {}, "confirm_by": state["confirm_by"] if state["status"] == "pending" else None,
        "cancelled_by": state["cancelled_by"] if state["status"] == "cancelled" else None,
        "previous_status": previous_status,
    }
    add_to_outbox(tx, outbox, contract, payload, producer=PRODUCER, correlation_id=correlation_id)
