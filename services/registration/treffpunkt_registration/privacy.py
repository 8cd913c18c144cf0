"""Data protection in the registration service (DSGVO Art. 15, 17, 5(1)(e)): a participant's data as JSON,
erasure on request, and erasure of a meeting's personal data once its retention time is over.

Erasure, in one transaction under the meeting's lock (the lock order of :mod:`.places`):

1. an active registration is cancelled first with :func:`.registrations.cancel_locked`, so its place and
   round places are freed and the first in line moves up, exactly as after a cancellation;
2. the registration's personal fields are overwritten (the row stays, without anything personal, so the
   meeting's counters, the waiting-list order and the counts per authority and status stay right);
3. its personal links, attendance, round choices and rate-limit counters are deleted;
4. outbox rows not yet relayed that carry the registration (its ``registration.*`` events, among them the
   cancellation just written in step 1) are deleted: they must *not* go out any more. An event still
   waiting would hand notify a fresh copy of the name and email (and make it mail the participant, who asked
   to be forgotten) only for notify to delete it again when ``participant.erased`` arrives. Events of other
   registrations written in the same transaction (the promotion of the next in line) do go out. An event the
   relay is publishing at this moment is waited for (row lock): it reaches notify before
   ``participant.erased``, whose row is written later, and notify erases it with the rest;
5. ``participant.erased`` (registration id, meeting id, time, reason; nothing personal) goes into the outbox.

Kept after erasure: the registration id, meeting, status and its timestamps, whether it held a place and its
waiting-list ticket, the privacy notice version and consent times (they name nobody any more), and the
authority (``organisation``, ``authority_key``): the figures per authority that the reporting of publicly
funded meetings needs. Except an authority typed by this participant alone (not on the organisers' list, named
by no other registration): such a text may itself name a person ("Kanzlei Dr. Weiß"), so it is erased too,
with the meeting's quota counter for it.

Retention (:func:`erase_past_retention`) erases every registration of a meeting ``retention_days`` after
its end, without cancelling (the meeting is over: nobody moves up, nobody is mailed), and records the time
in ``meetings.personal_data_erased_at``. Several workers may run it at once: each batch is erased under the
meeting's lock and only registrations not yet erased are touched, so a second worker finds nothing left.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from treffpunkt_shared.contracts import PARTICIPANT_ERASED
from treffpunkt_shared.logs import log_event
from treffpunkt_shared.messaging.tables import add_to_outbox
from treffpunkt_shared.timeutil import as_utc, utcnow

from . import rate_limit
from . import registrations as journey
from .models import (ACTIVE_STATUSES, attendance, authorities, authority_places, meetings, outbox, rate_limits,
                     registration_links, registration_rounds, registrations)
from .places import Busy, lock_meeting
from .registration_events import PRODUCER, registration_state

log = logging.getLogger("treffpunkt.registration.privacy")

REQUEST, RETENTION = "request", "retention"
EXPORT_FORMAT = "treffpunkt.registration.export/1"
RETENTION_BATCH = 200

# The values an erased registration's personal fields are overwritten with (NOT NULL columns get "").
_ERASED_FIELDS = {"first_name": "", "last_name": "", "email": "", "function": "", "phone": "",
                  "dietary_needs": "", "accessibility_needs": "", "submission_key": None}


class AlreadyErased(Exception):
    pass


def _iso(value):
    return as_utc(value).isoformat() if value is not None else None


# ------------------------------------------------------------------ export (Art. 15, 20)

def export(conn: sa.Connection, registration_id: str) -> dict | None:
    """Everything this service holds about the registration, as JSON-ready data (None if unknown)."""
    state = registration_state(conn, registration_id)
    if state is None:
        return None
    meeting = state["meeting"]
    link_rows = conn.execute(sa.select(registration_links).where(
        registration_links.c.registration_id == registration_id)
        .order_by(registration_links.c.created_at)).all()
    days = conn.execute(sa.select(attendance).where(attendance.c.registration_id == registration_id)
                        .order_by(attendance.c.day)).all()
    return {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow().isoformat(),
        "controller_note": "Daten, die der Anmeldedienst zu dieser Anmeldung gespeichert hat. / "
                           "The data the registration service holds about this registration.",
        "registration": {"id": state["id"], "status": state["status"], "has_place": state["has_place"],
                         "waitlist_position": state["waitlist_position"],
                         "waitlist_ticket": state["waitlist_ticket"], "sequence": state["sequence"]},
        "meeting": {"id": meeting["id"], "title": meeting["title"], "starts_at": _iso(meeting["starts_at"]),
                    "ends_at": _iso(meeting["ends_at"]), "venue": meeting["venue_name"]},
        "person": {k: state[k] for k in ("first_name", "last_name", "email", "organisation", "function",
                                         "phone", "dietary_needs", "accessibility_needs", "language")},
        "consents": {
            "privacy_notice": {"version": state["privacy_notice_version"],
                               "given_at": _iso(state["privacy_consent_at"])},
            "photographs": {"given": state["photo_consent"], "given_at": _iso(state["photo_consent_at"])},
        },
        "history": {k: _iso(state[k]) for k in ("created_at", "confirm_by", "confirmed_at", "cancelled_at",
                                                "erased_at")} | {"cancelled_by": state["cancelled_by"]},
        "rounds": [{"item_id": r["item_id"], "title": r["title"], "kind": r["kind"],
                    "starts_at": _iso(r["starts_at"]), "ends_at": _iso(r["ends_at"]), "room": r["room"],
                    "place_held": r["held"], "round_status": r["status"]} for r in state["rounds"]],
        "attendance": [{"day": d.day.isoformat(), "checked_in_at": _iso(d.checked_in_at)} for d in days],
        # Only the purpose and times: the links themselves exist only in the participant's emails.
        "personal_links": [{"purpose": link.purpose, "created_at": _iso(link.created_at),
                            "expires_at": _iso(link.expires_at), "revoked_at": _iso(link.revoked_at)}
                           for link in link_rows],
    }


# ------------------------------------------------------------------ erasure (Art. 17)

def _contains(column, needle: str, dialect: str):
    if dialect == "postgresql":
        return sa.func.position(sa.literal(needle.encode(), sa.LargeBinary).op("IN")(column)) > 0
    return sa.func.instr(column, needle) > 0


def _purge_outbox(tx: sa.Connection, registration_id: str) -> int:
    """Delete the outbox rows not yet relayed that carry this registration (see the module's docstring)."""
    dialect = tx.dialect.name
    query = sa.select(outbox.c.seq).where(_contains(outbox.c.body, registration_id, dialect))
    if dialect == "postgresql":
        query = query.with_for_update()  # waits for a relay publishing one of them right now
    seqs = tx.execute(query).scalars().all()
    if seqs:
        tx.execute(outbox.delete().where(outbox.c.seq.in_(seqs)))
    return len(seqs)


def _erase_locked(tx: sa.Connection, row, *, reason: str, correlation_id: str | None) -> dict:
    """Erase one registration; the caller holds the meeting's lock and has cancelled it if needed."""
    now = utcnow()
    registration_id = row.id
    if row.email_key:
        tx.execute(rate_limits.delete().where(rate_limits.c.key == rate_limit.key("email", row.email_key)))
    tx.execute(registration_links.delete().where(registration_links.c.registration_id == registration_id))
    tx.execute(attendance.delete().where(attendance.c.registration_id == registration_id))
    tx.execute(registration_rounds.delete().where(registration_rounds.c.registration_id == registration_id))
    authority = {} if _authority_kept(tx, row) else {"organisation": "", "authority_key": ""}
    if authority and row.authority_key:
        tx.execute(authority_places.delete().where(authority_places.c.meeting_id == row.meeting_id,
                                                   authority_places.c.authority_key == row.authority_key))
    tx.execute(registrations.update().where(registrations.c.id == registration_id).values(
        **_ERASED_FIELDS, **authority, email_key=f"erased:{registration_id}", erased_at=now,
        sequence=registrations.c.sequence + 1))
    purged = _purge_outbox(tx, registration_id)
    add_to_outbox(tx, outbox, PARTICIPANT_ERASED,
                  {"registration_id": registration_id, "meeting_id": row.meeting_id, "erased_at": now,
                   "reason": reason}, producer=PRODUCER, correlation_id=correlation_id)
    return {"registration_id": registration_id, "erased_at": now, "outbox_rows_purged": purged}


def _authority_kept(tx: sa.Connection, row) -> bool:
    """Whether the registration's authority stays after its erasure: it is on the organisers' list, or another
    registration names it too (then it names an office, not this person)."""
    if not row.authority_key:
        return True
    listed = sa.exists().where(authorities.c.authority_key == row.authority_key)
    shared = sa.exists().where(registrations.c.authority_key == row.authority_key, registrations.c.id != row.id)
    return bool(tx.execute(sa.select(sa.or_(listed, shared))).scalar())


def _lock_timeout(exc: sa.exc.OperationalError) -> bool:
    return "lock timeout" in str(exc.orig)


def erase(engine: sa.Engine, settings, registration_id: str, *, reason: str = REQUEST, by: str = "participant",
          correlation_id: str | None = None) -> dict:
    """Erase a registration's personal data on request; an active one is cancelled first (in the same
    transaction). Raises :class:`AlreadyErased`, :class:`.registrations.NotPossible` (unknown) or
    :class:`.places.Busy`."""
    try:
        with engine.begin() as tx:
            _meeting, row = journey.locked_registration(tx, registration_id)
            if row.erased_at is not None:
                raise AlreadyErased(registration_id)
            if row.status in ACTIVE_STATUSES:
                journey.cancel_locked(tx, settings, registration_id, by=by, correlation_id=correlation_id)
                row = tx.execute(sa.select(registrations).where(registrations.c.id == registration_id)).first()
            done = _erase_locked(tx, row, reason=reason, correlation_id=correlation_id)
    except sa.exc.OperationalError as exc:
        if _lock_timeout(exc):
            raise Busy() from None
        raise
    log_event(log, "participant_erased", registration_id=registration_id, meeting_id=row.meeting_id,
              reason=reason, by=by, outbox_rows_purged=done["outbox_rows_purged"], correlation_id=correlation_id)
    return done


# ------------------------------------------------------------------ retention (Art. 5(1)(e))

def _due_meetings(conn: sa.Connection, cutoff) -> list[str]:
    unerased = sa.exists().where(registrations.c.meeting_id == meetings.c.id, registrations.c.erased_at.is_(None))
    return conn.execute(sa.select(meetings.c.id).where(
        meetings.c.ends_at < cutoff, sa.or_(meetings.c.personal_data_erased_at.is_(None), unerased))
        .order_by(meetings.c.ends_at)).scalars().all()


def _erase_meeting_batch(engine: sa.Engine, meeting_id: str, cutoff) -> tuple[int, bool]:
    """Erase up to RETENTION_BATCH registrations of the meeting; returns (erased, meeting finished)."""
    with engine.begin() as tx:
        meeting = lock_meeting(tx, meeting_id)
        if meeting is None or as_utc(meeting.ends_at) >= cutoff:
            return 0, True  # moved to a later date meanwhile
        rows = tx.execute(sa.select(registrations).where(
            registrations.c.meeting_id == meeting_id, registrations.c.erased_at.is_(None))
            .order_by(registrations.c.created_at, registrations.c.id).limit(RETENTION_BATCH)).all()
        for row in rows:
            _erase_locked(tx, row, reason=RETENTION, correlation_id=None)
        finished = len(rows) < RETENTION_BATCH
        if finished:
            tx.execute(meetings.update().where(meetings.c.id == meeting_id)
                       .values(personal_data_erased_at=utcnow()))
        return len(rows), finished


def erase_past_retention(engine: sa.Engine, settings) -> int:
    """The housekeeping job: erase the personal data of every meeting that ended more than
    ``settings.retention_days`` ago. Returns how many registrations were erased."""
    cutoff = utcnow() - timedelta(days=settings.retention_days)
    with engine.connect() as conn:
        due = _due_meetings(conn, cutoff)
    erased = 0
    for meeting_id in due:
        while True:
            try:
                count, finished = _erase_meeting_batch(engine, meeting_id, cutoff)
            except (Busy, sa.exc.OperationalError) as exc:
                if isinstance(exc, sa.exc.OperationalError) and not _lock_timeout(exc):
                    raise
                break  # another worker holds the meeting: it is erasing it, or the next run will
            erased += count
            if count:
                log_event(log, "meeting_retention_erased", meeting_id=meeting_id, registrations=count)
            if finished:
                break
    return erased
