"""The registration worker's periodic jobs: expire unconfirmed registrations (freeing their places for the
waiting list), erase personal data past its retention time, sweep old rate-limit counters.

Each job is safe to run in several workers at once: every registration is changed under its meeting's lock
and re-checked there, so two workers expiring the same registration change it once, and two workers erasing a meeting's
personal data erase each registration once (see :mod:`.privacy`).
"""
from __future__ import annotations

import logging
import threading

import sqlalchemy as sa

from treffpunkt_shared.logs import log_event

from . import rate_limit
from .privacy import erase_past_retention
from .registrations import expire_overdue

log = logging.getLogger("treffpunkt.registration.housekeeping")


class Housekeeping:
    def __init__(self, engine: sa.Engine, settings, *, interval_s: float = 30.0, jobs=None):
        self.engine = engine
        self.settings = settings
        self.interval_s = interval_s
        self._stop = threading.Event()
        self.jobs = jobs if jobs is not None else default_jobs()

    def run_once(self) -> dict:
        done = {}
        for name, job in self.jobs.items():
            try:
                done[name] = job(self.engine, self.settings)
            except Exception as exc:  # a failing job must not stop the others, nor the worker
                log_event(log, "housekeeping_failed", logging.ERROR, job=name, error=repr(exc)[:300])
        if any(done.values()):
            log_event(log, "housekeeping_done", **{k: v for k, v in done.items() if v})
        return done

    def run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()


def _sweep(engine, settings) -> int:
    rate_limit.sweep(engine)
    return 0


def default_jobs() -> dict:
    return {"expire": expire_overdue, "retention": erase_past_retention, "rate_limits": _sweep}
