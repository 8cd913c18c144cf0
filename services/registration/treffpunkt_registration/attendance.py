"""Check-in on the day: who was there, per meeting day, and the attendance figures per authority afterwards
(for the reporting of publicly funded meetings). Only confirmed registrations can be checked in."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from treffpunkt_shared.timeutil import utcnow

from .models import attendance, registrations


class NotCheckable(Exception):
    """``message``: German text for the page."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


NOT_CONFIRMED = "Nur bestätigte Anmeldungen können als anwesend markiert werden."
UNKNOWN = "Diese Anmeldung gibt es nicht."


def mark(engine: sa.Engine, meeting_id: str, registration_id: str, day: date, attended: bool) -> bool:
    """Mark (or, with ``attended=False``, unmark) a participant present on ``day``. Idempotent: returns
    whether anything changed."""
    with engine.begin() as tx:
        status = tx.execute(sa.select(registrations.c.status).where(
            registrations.c.id == registration_id, registrations.c.meeting_id == meeting_id)).scalar()
        if status is None:
            raise NotCheckable(UNKNOWN)
        where = sa.and_(attendance.c.registration_id == registration_id, attendance.c.day == day)
        if not attended:
            return tx.execute(attendance.delete().where(where)).rowcount > 0
        if status != "confirmed":
            raise NotCheckable(NOT_CONFIRMED)
        if tx.execute(sa.select(attendance.c.day).where(where)).first() is not None:
            return False
        try:
            with tx.begin_nested():
                tx.execute(attendance.insert().values(registration_id=registration_id, day=day,
                                                      checked_in_at=utcnow()))
        except sa.exc.IntegrityError:
            return False  # checked in at the same moment from a second device
        return True


def present_on(conn: sa.Connection, meeting_id: str, day: date) -> set[str]:
    return set(conn.execute(sa.select(attendance.c.registration_id)
                            .join(registrations, registrations.c.id == attendance.c.registration_id)
                            .where(registrations.c.meeting_id == meeting_id, attendance.c.day == day)).scalars())


def figures(conn: sa.Connection, meeting_id: str, days: list[date]) -> dict:
    """Per authority: confirmed registrations, present per day, present on at least one day; and the totals."""
    confirmed = conn.execute(sa.select(registrations.c.id, registrations.c.authority_key,
                                       registrations.c.organisation)
                             .where(registrations.c.meeting_id == meeting_id,
                                    registrations.c.status == "confirmed")).all()
    present = conn.execute(sa.select(attendance.c.registration_id, attendance.c.day)
                           .join(registrations, registrations.c.id == attendance.c.registration_id)
                           .where(registrations.c.meeting_id == meeting_id)).all()
    by_registration: dict[str, set[date]] = {}
    for p in present:
        by_registration.setdefault(p.registration_id, set()).add(p.day)
    rows: dict[str, dict] = {}
    total = {"confirmed": 0, "per_day": {d: 0 for d in days}, "any_day": 0}
    for r in confirmed:
        entry = rows.setdefault(r.authority_key, {"authority_key": r.authority_key, "name": r.organisation,
                                                  "confirmed": 0, "per_day": {d: 0 for d in days},
                                                  "any_day": 0})
        entry["name"] = min(entry["name"], r.organisation)
        attended = by_registration.get(r.id, set())
        for target in (entry, total):
            target["confirmed"] += 1
            for d in attended:
                if d in target["per_day"]:
                    target["per_day"][d] += 1
            target["any_day"] += 1 if attended else 0
    return {"authorities": sorted(rows.values(), key=lambda e: e["name"].casefold()), "total": total}
