"""A registration's life: registered (pending, double opt-in) → confirmed or waitlisted → promoted,
changed, cancelled; pending → expired. Each step is one transaction with its event (transactional outbox).

Places are taken under the meeting's row lock (see :mod:`.places`): a pending registration already holds its
place (or its waiting-list ticket), so the participant learns the outcome at once and an expired one frees
what it held. Whenever a place is freed, :func:`fill_free_places` gives it, in the same transaction, to the
first in line whose authority quota allows it, so each freed place is given exactly once.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from treffpunkt_shared.contracts import (REGISTRATION_CANCELLED, REGISTRATION_CONFIRMED, REGISTRATION_EXPIRED,
                                         REGISTRATION_LINK_REQUESTED, REGISTRATION_PROMOTED,
                                         REGISTRATION_RECEIVED, REGISTRATION_UPDATED, REGISTRATION_WAITLISTED)
from treffpunkt_shared.timeutil import as_utc, utcnow

from . import links
from .meetings import RegistrationClosed, meeting_as_dict, registration_problem
from .models import registration_rounds, registrations, rounds
from .places import (Busy, RoundFull, free_place, hold_rounds, lock_meeting, next_waitlist_ticket,
                     place_available, release_rounds, take_place, waitlist_position)
from .registration_events import chosen_rounds, emit, emit_state, registration_state

DUPLICATE_MESSAGE = "Mit dieser E-Mail-Adresse besteht bereits eine Anmeldung für dieses Treffen."

__all__ = ["Busy", "RoundFull", "RegistrationClosed"]


class MeetingUnknown(Exception):
    pass


class AlreadyRegistered(Exception):
    def __init__(self, registration_id: str | None):
        super().__init__(registration_id)
        self.registration_id = registration_id


class InvalidRoundChoice(Exception):
    """The rounds chosen do not fit the agenda; ``message`` is the German text for the field."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotPossible(Exception):
    """The step does not fit the registration's state; ``message`` is German text for the page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def email_key(email: str) -> str:
    return email.strip().lower()


def authority_key(name: str) -> str:
    """Authorities typed by hand differ in case and spacing; the quota counts them as one."""
    return " ".join(name.split()).casefold()


def _manage_links(tx, settings, registration_id: str, meeting: dict) -> dict:
    # Valid until the meeting's personal data is erased (from now, for a meeting already over: the demo's).
    expires = max(as_utc(meeting["ends_at"]), utcnow()) + timedelta(days=settings.retention_days)
    token = links.new_link(tx, registration_id, links.MANAGE, expires)
    base = settings.public_base_url
    return {"manage_url": links.manage_url(base, token), "calendar_url": links.calendar_url(base, token),
            "_token": token}


def _public(link_values: dict) -> dict:
    return {k: v for k, v in link_values.items() if not k.startswith("_")}


def _check_round_choice(tx, meeting_id: str, item_ids: list[str]) -> None:
    if not item_ids:
        return
    if len(set(item_ids)) != len(item_ids):
        raise InvalidRoundChoice("Bitte wählen Sie jede Runde nur einmal.")
    found = {r.item_id: r for r in tx.execute(sa.select(rounds.c.item_id, rounds.c.slot, rounds.c.status).where(
        rounds.c.meeting_id == meeting_id, rounds.c.item_id.in_(item_ids)))}
    if set(found) != set(item_ids) or any(r.status != "scheduled" for r in found.values()):
        raise InvalidRoundChoice("Diese Runde gibt es in diesem Programm nicht (mehr).")
    slots = [r.slot for r in found.values()]
    if len(set(slots)) != len(slots):
        raise InvalidRoundChoice("Bitte wählen Sie je Zeitfenster höchstens eine Runde.")


def _set_wishes(tx, meeting_id: str, registration_id: str, item_ids: list[str]) -> None:
    for item_id in sorted(item_ids):
        tx.execute(registration_rounds.insert().values(registration_id=registration_id, item_id=item_id,
                                                       meeting_id=meeting_id, held=False))


_EARLIER_SUBMISSION = sa.select(registrations.c.id).where(registrations.c.submission_key == sa.bindparam("key"))
_INSERT_REGISTRATION = registrations.insert()


def register(engine: sa.Engine, settings, meeting_id: str, data: dict, *, submission_key: str | None = None,
             correlation_id: str | None = None) -> dict:
    """Register; returns the new registration's state (status ``pending``: the opt-in mail is on its way)."""
    registration_id = str(uuid.uuid4())
    now = utcnow()
    chosen = list(data.get("rounds") or [])
    try:
        with engine.connect() as conn:
            if submission_key:
                earlier = conn.execute(_EARLIER_SUBMISSION, {"key": submission_key}).scalar()
                conn.rollback()
                if earlier:
                    # The same form posted again (a double click): the answer to the first post, nothing new.
                    return registration_state(conn, earlier)
            with conn.begin():
                return _register(conn, settings, meeting_id, registration_id, data, chosen, now,
                                 submission_key=submission_key, correlation_id=correlation_id)
    except sa.exc.IntegrityError as exc:
        text = str(exc.orig)
        if "submission_key" in text and submission_key:
            with engine.connect() as conn:
                earlier = conn.execute(_EARLIER_SUBMISSION, {"key": submission_key}).scalar()
                if earlier:
                    return registration_state(conn, earlier)
        if "uq_active_registration" in text or "registrations.meeting_id, registrations.email_key" in text:
            raise AlreadyRegistered(_active_registration_id(engine, meeting_id, data["email"])) from None
        raise


def _register(tx, settings, meeting_id: str, registration_id: str, data: dict, chosen: list[str], now, *,
              submission_key, correlation_id) -> dict:
    meeting = lock_meeting(tx, meeting_id)
    if meeting is None:
        raise MeetingUnknown(meeting_id)
    meeting_dict = meeting_as_dict(meeting)
    problem = registration_problem(meeting_dict)
    if problem:
        raise RegistrationClosed(problem)
    _check_round_choice(tx, meeting_id, chosen)
    authority = authority_key(data["organisation"])
    gets_place = place_available(tx, meeting, authority)
    confirm_by = now + timedelta(hours=meeting.confirmation_hours)
    values = dict(
        id=registration_id, meeting_id=meeting_id, first_name=data["first_name"],
        last_name=data["last_name"], email=data["email"], email_key=email_key(data["email"]),
        organisation=data["organisation"], authority_key=authority, function=data.get("function", ""),
        phone=data.get("phone", ""), dietary_needs=data.get("dietary_needs", ""),
        accessibility_needs=data.get("accessibility_needs", ""), language=data.get("language", "de"),
        privacy_notice_version=settings.privacy_notice_version, privacy_consent_at=now,
        photo_consent=bool(data.get("photo_consent")),
        photo_consent_at=now if data.get("photo_consent") else None,
        status="pending", has_place=gets_place,
        waitlist_ticket=None if gets_place else next_waitlist_ticket(tx, meeting_id),
        sequence=1, created_at=now, confirm_by=confirm_by, submission_key=submission_key)
    tx.execute(_INSERT_REGISTRATION, values)
    _set_wishes(tx, meeting_id, registration_id, chosen)
    if gets_place:
        take_place(tx, meeting_id, authority)
        meeting_dict["seats_taken"] += 1
        if chosen:
            hold_rounds(tx, meeting_id, registration_id, strict=True)
    else:
        meeting_dict["waitlist_length"] = values["waitlist_ticket"]
    token = links.new_link(tx, registration_id, links.CONFIRM, confirm_by)
    # The state just written, from the values at hand rather than read back (one query fewer): the columns
    # not written are the ones a new registration leaves empty; the meeting row was read under the lock,
    # and its counters are the ones just changed.
    state = {column.name: None for column in registrations.c}
    state.update(values, meeting=meeting_dict,
                 waitlist_position=None if gets_place else waitlist_position(tx, meeting_id, values["waitlist_ticket"]),
                 rounds=chosen_rounds(tx, registration_id) if chosen else [])
    emit_state(tx, REGISTRATION_RECEIVED, state, correlation_id=correlation_id,
               links={"confirm_url": links.confirm_url(settings.public_base_url, token)})
    return state


def _active_registration_id(engine, meeting_id: str, email: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(registrations.c.id).where(
            registrations.c.meeting_id == meeting_id, registrations.c.email_key == email_key(email),
            registrations.c.status.in_(("pending", "confirmed", "waitlisted")))).scalar()


def _bump(tx, registration_id: str, **values) -> None:
    tx.execute(registrations.update().where(registrations.c.id == registration_id)
               .values(sequence=registrations.c.sequence + 1, **values))


def _locked_registration(tx, registration_id: str):
    """Lock the registration's meeting, then read the registration (the lock order of :mod:`.places`)."""
    meeting_id = tx.execute(sa.select(registrations.c.meeting_id).where(
        registrations.c.id == registration_id)).scalar()
    if meeting_id is None:
        raise NotPossible("Diese Anmeldung gibt es nicht.")
    meeting = lock_meeting(tx, meeting_id)
    row = tx.execute(sa.select(registrations).where(registrations.c.id == registration_id)).first()
    return meeting, row


# For the other modules that change a registration in their own transaction (:mod:`.privacy`).
locked_registration = _locked_registration


def confirm(engine: sa.Engine, settings, registration_id: str, *, correlation_id: str | None = None) -> dict:
    """The double opt-in (or an organiser's confirmation): pending → confirmed (with a place) or waitlisted.
    Returns the state with ``manage_token`` (None when it was confirmed before: nothing changes then)."""
    with engine.begin() as tx:
        meeting, row = _locked_registration(tx, registration_id)
        if row.status != "pending":
            state = registration_state(tx, registration_id)
            state["manage_token"] = None
            return state
        status = "confirmed" if row.has_place else "waitlisted"
        _bump(tx, registration_id, status=status, confirmed_at=utcnow(), confirm_by=None)
        links.revoke(tx, registration_id, links.CONFIRM)
        link_values = _manage_links(tx, settings, registration_id, meeting_as_dict(meeting))
        contract = REGISTRATION_CONFIRMED if status == "confirmed" else REGISTRATION_WAITLISTED
        state = emit(tx, contract, registration_id, links=_public(link_values), previous_status="pending",
                     correlation_id=correlation_id)
        state["manage_token"] = link_values["_token"]
        return state


def change(engine: sa.Engine, settings, registration_id: str, *, rounds_chosen: list[str] | None = None,
           needs: dict | None = None, correlation_id: str | None = None) -> dict:
    """Change the rounds (a place in each new one is taken now, or :class:`RoundFull`) and the needs."""
    with engine.begin() as tx:
        meeting, row = _locked_registration(tx, registration_id)
        if row.status not in ("pending", "confirmed", "waitlisted"):
            raise NotPossible("Diese Anmeldung kann nicht mehr geändert werden.")
        problem = _change_problem(meeting)
        if problem:
            raise NotPossible(problem)
        values = {k: v for k, v in (needs or {}).items()
                  if k in ("phone", "dietary_needs", "accessibility_needs", "function")}
        if rounds_chosen is not None:
            _check_round_choice(tx, row.meeting_id, rounds_chosen)
            release_rounds(tx, row.meeting_id, registration_id)
            tx.execute(registration_rounds.delete().where(registration_rounds.c.registration_id == registration_id))
            _set_wishes(tx, row.meeting_id, registration_id, rounds_chosen)
            if row.has_place:
                hold_rounds(tx, row.meeting_id, registration_id, strict=True)
        _bump(tx, registration_id, **values)
        return emit(tx, REGISTRATION_UPDATED, registration_id, previous_status=row.status,
                    correlation_id=correlation_id)


def _change_problem(meeting) -> str | None:
    if meeting.status == "cancelled":
        return "Dieses Treffen wurde abgesagt."
    if as_utc(meeting.starts_at) <= utcnow():
        return "Das Treffen hat bereits begonnen; Änderungen sind nicht mehr möglich."
    return None


def _release(tx, row) -> None:
    if row.has_place:
        release_rounds(tx, row.meeting_id, row.id)
        free_place(tx, row.meeting_id, row.authority_key)


def cancel(engine: sa.Engine, settings, registration_id: str, *, by: str = "participant",
           correlation_id: str | None = None) -> dict:
    """Cancel; the freed place goes to the first in line, in the same transaction."""
    with engine.begin() as tx:
        _locked_registration(tx, registration_id)
        return cancel_locked(tx, settings, registration_id, by=by, correlation_id=correlation_id)


def cancel_locked(tx: sa.Connection, settings, registration_id: str, *, by: str = "participant",
                  correlation_id: str | None = None) -> dict:
    """:func:`cancel` inside the caller's transaction, which already holds the meeting's lock (the erasure
    cancels and erases in one transaction, see :mod:`.privacy`)."""
    row = tx.execute(sa.select(registrations).where(registrations.c.id == registration_id)).first()
    if row is None or row.status not in ("pending", "confirmed", "waitlisted"):
        raise NotPossible("Diese Anmeldung ist bereits storniert.")
    _release(tx, row)
    _bump(tx, registration_id, status="cancelled", has_place=False, cancelled_at=utcnow(), cancelled_by=by,
          confirm_by=None)
    links.revoke(tx, registration_id, links.CONFIRM)
    state = emit(tx, REGISTRATION_CANCELLED, registration_id, previous_status=row.status,
                 correlation_id=correlation_id)
    fill_free_places(tx, settings, row.meeting_id, correlation_id=correlation_id)
    return state


def cancel_all_for_cancelled_meeting(tx: sa.Connection, meeting_id: str) -> int:
    """The meeting was cancelled: every active registration is cancelled (``cancelled_by`` says why), in the
    caller's transaction, so each participant gets the cancellation mail exactly once."""
    lock_meeting(tx, meeting_id)
    active = tx.execute(sa.select(registrations).where(
        registrations.c.meeting_id == meeting_id,
        registrations.c.status.in_(("pending", "confirmed", "waitlisted")))).all()
    for row in active:
        _release(tx, row)
        _bump(tx, row.id, status="cancelled", has_place=False, cancelled_at=utcnow(),
              cancelled_by="meeting_cancelled", confirm_by=None)
        links.revoke(tx, row.id, links.CONFIRM)
        emit(tx, REGISTRATION_CANCELLED, row.id, previous_status=row.status)
    return len(active)


def move_to_waitlist(engine: sa.Engine, settings, registration_id: str, *,
                     correlation_id: str | None = None) -> dict:
    """An organiser's step: the registration gives up its place and joins the end of the waiting list;
    the place goes to whoever is first in line (not back to this registration in the same step)."""
    with engine.begin() as tx:
        meeting, row = _locked_registration(tx, registration_id)
        if row.status not in ("pending", "confirmed") or not row.has_place:
            raise NotPossible("Nur Anmeldungen mit Platz können auf die Warteliste gesetzt werden.")
        _release(tx, row)
        status = "waitlisted" if row.status == "confirmed" else "pending"
        _bump(tx, registration_id, status=status, has_place=False,
              waitlist_ticket=next_waitlist_ticket(tx, row.meeting_id))
        state = emit(tx, REGISTRATION_WAITLISTED, registration_id, previous_status=row.status,
                     correlation_id=correlation_id) if status == "waitlisted" else registration_state(tx, row.id)
        fill_free_places(tx, settings, row.meeting_id, exclude=registration_id, correlation_id=correlation_id)
        return state


def promote(engine: sa.Engine, settings, registration_id: str, *, correlation_id: str | None = None) -> dict:
    """An organiser's step: give this waiting registration a free place, out of turn. Never overbooks."""
    with engine.begin() as tx:
        meeting, row = _locked_registration(tx, registration_id)
        if row.status not in ("pending", "waitlisted") or row.has_place:
            raise NotPossible("Nur Anmeldungen auf der Warteliste können nachrücken.")
        if not place_available(tx, meeting, row.authority_key):
            raise NotPossible("Es ist kein Platz frei (oder das Kontingent der Behörde ist ausgeschöpft).")
        _give_place(tx, settings, meeting, row, correlation_id)
        return registration_state(tx, registration_id)


def _give_place(tx, settings, meeting, row, correlation_id) -> None:
    take_place(tx, row.meeting_id, row.authority_key)
    if row.status == "waitlisted":
        _bump(tx, row.id, status="confirmed", has_place=True)
        hold_rounds(tx, row.meeting_id, row.id, strict=False)
        link_values = _manage_links(tx, settings, row.id, meeting_as_dict(meeting))
        emit(tx, REGISTRATION_PROMOTED, row.id, links=_public(link_values), previous_status="waitlisted",
             correlation_id=correlation_id)
    else:
        # Not yet opted in: the place is held for them; their confirmation will say "confirmed".
        tx.execute(registrations.update().where(registrations.c.id == row.id).values(has_place=True))
        hold_rounds(tx, row.meeting_id, row.id, strict=False)


def fill_free_places(tx: sa.Connection, settings, meeting_id: str, *, exclude: str | None = None,
                     correlation_id: str | None = None) -> int:
    """Give free places to those waiting, in ticket order, skipping those whose authority's quota is used
    up. The caller holds the meeting lock. Returns how many were given a place."""
    given = 0
    while True:
        meeting = lock_meeting(tx, meeting_id)
        if meeting.status != "open" or meeting.seats_taken >= meeting.capacity:
            return given
        waiting = tx.execute(sa.select(registrations).where(
            registrations.c.meeting_id == meeting_id, registrations.c.has_place.is_(False),
            registrations.c.status.in_(("pending", "waitlisted")))
            .order_by(registrations.c.waitlist_ticket)).all()
        nxt = next((r for r in waiting if r.id != exclude and place_available(tx, meeting, r.authority_key)),
                   None)
        if nxt is None:
            return given
        _give_place(tx, settings, meeting, nxt, correlation_id)
        given += 1


def expire_overdue(engine: sa.Engine, settings, *, limit: int = 200) -> int:
    """Pending registrations whose confirmation time is over expire and free what they held."""
    now = utcnow()
    with engine.connect() as conn:
        overdue = conn.execute(sa.select(registrations.c.id).where(
            registrations.c.status == "pending", registrations.c.confirm_by < now)
            .order_by(registrations.c.confirm_by).limit(limit)).scalars().all()
    expired = 0
    for registration_id in overdue:
        with engine.begin() as tx:
            meeting, row = _locked_registration(tx, registration_id)
            if row.status != "pending" or as_utc(row.confirm_by) >= utcnow():
                continue  # confirmed (or changed) meanwhile
            _release(tx, row)
            _bump(tx, registration_id, status="expired", has_place=False)
            links.revoke(tx, registration_id)
            emit(tx, REGISTRATION_EXPIRED, registration_id, previous_status="pending")
            fill_free_places(tx, settings, row.meeting_id)
            expired += 1
    return expired


LINK_RESEND_INTERVAL = timedelta(minutes=2)


def send_link_again(engine: sa.Engine, settings, registration_id: str, *, revoke_old: bool = False,
                    correlation_id: str | None = None) -> bool:
    """Mail the personal link again (someone registered again with the same address, or the participant
    renews the link). At most once per ``LINK_RESEND_INTERVAL`` unless ``revoke_old``, so the form cannot be
    used to flood somebody's mailbox. A pending registration gets its confirmation link instead."""
    from .models import registration_links
    with engine.begin() as tx:
        meeting, row = _locked_registration(tx, registration_id)
        if row.status not in ("pending", "confirmed", "waitlisted"):
            return False
        purpose = links.CONFIRM if row.status == "pending" else links.MANAGE
        latest = tx.execute(sa.select(sa.func.max(registration_links.c.created_at)).where(
            registration_links.c.registration_id == registration_id,
            registration_links.c.purpose == purpose)).scalar()
        if not revoke_old and latest is not None and as_utc(latest) > utcnow() - LINK_RESEND_INTERVAL:
            return False
        if revoke_old:
            links.revoke(tx, registration_id, purpose)
        if purpose == links.CONFIRM:
            token = links.new_link(tx, registration_id, links.CONFIRM, as_utc(row.confirm_by))
            link_values = {"confirm_url": links.confirm_url(settings.public_base_url, token)}
        else:
            link_values = _public(_manage_links(tx, settings, registration_id, meeting_as_dict(meeting)))
        emit(tx, REGISTRATION_LINK_REQUESTED, registration_id, links=link_values, previous_status=row.status,
             correlation_id=correlation_id)
        return True


def renew_manage_link(engine: sa.Engine, settings, registration_id: str, *,
                      correlation_id: str | None = None) -> str:
    """Revoke every personal link and give a new one (mailed too); returns the new token."""
    with engine.begin() as tx:
        meeting, row = _locked_registration(tx, registration_id)
        if row.status not in ("confirmed", "waitlisted"):
            raise NotPossible("Für diese Anmeldung kann kein neuer Link erstellt werden.")
        links.revoke(tx, registration_id, links.MANAGE)
        link_values = _manage_links(tx, settings, registration_id, meeting_as_dict(meeting))
        emit(tx, REGISTRATION_LINK_REQUESTED, registration_id, links=_public(link_values),
             previous_status=row.status, correlation_id=correlation_id)
        return link_values["_token"]
