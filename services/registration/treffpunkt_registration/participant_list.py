"""What organisers see of a meeting's registrations: the list with search and filters, counts per authority
and per round, the waiting list in order. Read-only queries; every change goes through :mod:`.registrations`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from treffpunkt_shared.timeutil import as_utc

from .models import ACTIVE_STATUSES, authority_places, registration_rounds, registrations, rounds

STATUSES = ("pending", "confirmed", "waitlisted", "cancelled", "expired")
STATUS_LABELS = {"pending": "unbestätigt", "confirmed": "bestätigt", "waitlisted": "Warteliste",
                 "cancelled": "storniert", "expired": "abgelaufen"}
SEARCH_MAX = 100


@dataclass(frozen=True)
class Filters:
    """The list's search and filters; empty strings mean "all"."""
    q: str = ""
    status: str = ""
    authority: str = ""  # an authority_key
    round: str = ""  # a round's item_id

    def as_args(self) -> dict:
        return {k: v for k, v in (("q", self.q), ("status", self.status), ("authority", self.authority),
                                  ("round", self.round)) if v}


INVALID_STATUS = "Diesen Status gibt es nicht."
TOO_LONG = "Bitte höchstens 100 Zeichen eingeben."


def parse_filters(args) -> tuple[Filters, dict[str, list[str]]]:
    """Filters from query arguments, and German messages per argument for those that make no sense."""
    errors: dict[str, list[str]] = {}
    values = {}
    for name in ("q", "status", "authority", "round"):
        value = args.get(name, "")
        value = " ".join(value.split()) if isinstance(value, str) else ""
        if len(value) > (SEARCH_MAX if name == "q" else 200):
            errors[name] = [TOO_LONG]
            value = ""
        values[name] = value
    if values["status"] and values["status"] not in STATUSES:
        errors["status"] = [INVALID_STATUS]
        values["status"] = ""
    return Filters(**values), errors


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filtered(meeting_id: str, f: Filters):
    query = sa.select(registrations).where(registrations.c.meeting_id == meeting_id)
    if f.status:
        query = query.where(registrations.c.status == f.status)
    if f.authority:
        query = query.where(registrations.c.authority_key == f.authority)
    if f.round:
        chose = sa.select(registration_rounds.c.registration_id).where(
            registration_rounds.c.meeting_id == meeting_id, registration_rounds.c.item_id == f.round)
        query = query.where(registrations.c.id.in_(chose))
    if f.q:
        for word in f.q.split():
            pattern = _like(word)
            query = query.where(sa.or_(
                registrations.c.first_name.ilike(pattern, escape="\\"),
                registrations.c.last_name.ilike(pattern, escape="\\"),
                registrations.c.email.ilike(pattern, escape="\\"),
                registrations.c.organisation.ilike(pattern, escape="\\")))
    return query


def _rounds_of(conn, registration_ids: list[str]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {i: [] for i in registration_ids}
    if not registration_ids:
        return out
    rows = conn.execute(
        sa.select(registration_rounds.c.registration_id, registration_rounds.c.item_id, registration_rounds.c.held,
                  rounds.c.title, rounds.c.starts_at)
        .join(rounds, sa.and_(rounds.c.meeting_id == registration_rounds.c.meeting_id,
                              rounds.c.item_id == registration_rounds.c.item_id))
        .where(registration_rounds.c.registration_id.in_(registration_ids))
        .order_by(rounds.c.starts_at, rounds.c.title))
    for r in rows:
        out[r.registration_id].append({"item_id": r.item_id, "title": r.title, "held": r.held})
    return out


def _positions(conn, meeting_id: str) -> dict[str, int]:
    """registration id → waiting-list position (1 = next in line), for everyone waiting."""
    waiting = conn.execute(sa.select(registrations.c.id).where(
        registrations.c.meeting_id == meeting_id, registrations.c.has_place.is_(False),
        registrations.c.status.in_(("pending", "waitlisted")))
        .order_by(registrations.c.waitlist_ticket)).scalars().all()
    return {rid: n for n, rid in enumerate(waiting, start=1)}


def _as_entry(row, positions, rounds_of) -> dict:
    entry = dict(row._mapping)
    for key in ("created_at", "confirmed_at", "cancelled_at", "confirm_by", "privacy_consent_at",
                "photo_consent_at", "erased_at"):
        entry[key] = as_utc(entry[key])
    entry["waitlist_position"] = positions.get(row.id)
    entry["rounds"] = rounds_of.get(row.id, [])
    return entry


def participants(conn: sa.Connection, meeting_id: str, f: Filters = Filters()) -> list[dict]:
    """The registrations that match ``f``, sorted by name, each with its rounds and waiting-list position."""
    rows = conn.execute(_filtered(meeting_id, f).order_by(
        sa.func.lower(registrations.c.last_name), sa.func.lower(registrations.c.first_name),
        registrations.c.created_at)).all()
    positions = _positions(conn, meeting_id)
    rounds_of = _rounds_of(conn, [r.id for r in rows])
    return [_as_entry(r, positions, rounds_of) for r in rows]


def participant(conn: sa.Connection, meeting_id: str, registration_id: str) -> dict | None:
    row = conn.execute(sa.select(registrations).where(registrations.c.id == registration_id,
                                                      registrations.c.meeting_id == meeting_id)).first()
    if row is None:
        return None
    return _as_entry(row, _positions(conn, meeting_id), _rounds_of(conn, [row.id]))


def waiting_list(conn: sa.Connection, meeting_id: str) -> list[dict]:
    """Everyone waiting for a place, in the order they will get one (quota permitting)."""
    rows = conn.execute(sa.select(registrations).where(
        registrations.c.meeting_id == meeting_id, registrations.c.has_place.is_(False),
        registrations.c.status.in_(("pending", "waitlisted")))
        .order_by(registrations.c.waitlist_ticket)).all()
    rounds_of = _rounds_of(conn, [r.id for r in rows])
    return [_as_entry(r, {r.id: n for n, r in enumerate(rows, start=1)}, rounds_of) for r in rows]


def authority_counts(conn: sa.Connection, meeting_id: str) -> list[dict]:
    """Per authority (as the quota counts them): registrations by status, and places held."""
    rows = conn.execute(
        sa.select(registrations.c.authority_key, sa.func.min(registrations.c.organisation).label("name"),
                  registrations.c.status, registrations.c.has_place, sa.func.count().label("n"))
        .where(registrations.c.meeting_id == meeting_id, registrations.c.status.in_(ACTIVE_STATUSES))
        .group_by(registrations.c.authority_key, registrations.c.status, registrations.c.has_place)).all()
    out: dict[str, dict] = {}
    for r in rows:
        entry = out.setdefault(r.authority_key, {"authority_key": r.authority_key, "name": r.name,
                                                 "confirmed": 0, "pending": 0, "waitlisted": 0, "places": 0,
                                                 "total": 0})
        entry["name"] = min(entry["name"], r.name)
        if r.status == "pending" and not r.has_place:
            entry["waitlisted"] += r.n  # not yet opted in, but waiting: counted as waiting
        else:
            entry[r.status] += r.n
        entry["places"] += r.n if r.has_place else 0
        entry["total"] += r.n
    return sorted(out.values(), key=lambda e: e["name"].casefold())


def authority_places_held(conn: sa.Connection, meeting_id: str) -> dict[str, int]:
    return dict(conn.execute(sa.select(authority_places.c.authority_key, authority_places.c.places_taken)
                             .where(authority_places.c.meeting_id == meeting_id)).all())


def round_counts(conn: sa.Connection, meeting_id: str) -> list[dict]:
    """Per round: its capacity, the places held, and the wishes of those without a place in it."""
    wishes = dict(conn.execute(
        sa.select(registration_rounds.c.item_id, sa.func.count())
        .join(registrations, registrations.c.id == registration_rounds.c.registration_id)
        .where(registration_rounds.c.meeting_id == meeting_id, registration_rounds.c.held.is_(False),
               registrations.c.status.in_(ACTIVE_STATUSES))
        .group_by(registration_rounds.c.item_id)).all())
    out = []
    for r in conn.execute(sa.select(rounds).where(rounds.c.meeting_id == meeting_id)
                          .order_by(rounds.c.starts_at, rounds.c.title)):
        out.append({"item_id": r.item_id, "title": r.title, "status": r.status, "capacity": r.capacity,
                    "starts_at": as_utc(r.starts_at), "held": r.places_taken, "wishes": wishes.get(r.item_id, 0)})
    return out


def meeting_days(meeting: dict) -> list[date]:
    """The calendar days of the meeting, in its own time zone."""
    zone = ZoneInfo(meeting["timezone"])
    first = as_utc(meeting["starts_at"]).astimezone(zone).date()
    last = as_utc(meeting["ends_at"]).astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
