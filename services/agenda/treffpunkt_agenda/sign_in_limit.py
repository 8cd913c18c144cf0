"""How often sign-in may fail: counted in the agenda database, so every gunicorn worker and every agenda
process shares one limit (in-process counters would multiply it by the number of workers).

Three counters over a sliding window (15 minutes):

* email + client address (5): the limit a guesser meets first. Keyed on both, so someone guessing one
  account from one place is stopped, and the account holder signing in from elsewhere is not.
* email (20): one account guessed from many addresses.
* client address (100): one address trying many accounts. High on purpose: a ministry's offices share
  one outgoing address, and honest colleagues mistyping must never lock each other out.

Each attempt is written before the password is checked and counted after it is committed, so parallel
attempts cannot slip past the limit between "count" and "write"; a successful sign-in forgets the
attempts of its email (and the successful attempt itself). Keys are SHA-256 digests: the table holds no email address or IP in clear.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import sqlalchemy as sa

from treffpunkt_shared.timeutil import as_utc, utcnow

from .models import sign_in_attempts


@dataclass(frozen=True)
class SignInLimits:
    window_s: int = 15 * 60
    per_email_and_address: int = 5
    per_email: int = 20
    per_address: int = 100


def _key(kind: str, value: str) -> str:
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()}"


class SignInLimiter:
    def __init__(self, engine: sa.Engine, limits: SignInLimits = SignInLimits(),
                 clock: Callable = utcnow):
        self.engine = engine
        self.limits = limits
        self.clock = clock

    def _keys(self, email: str, address: str) -> dict[str, int]:
        email = email.strip().lower()
        return {_key("email+address", f"{email}|{address}"): self.limits.per_email_and_address,
                _key("email", email): self.limits.per_email,
                _key("address", address): self.limits.per_address}

    def _wait_s(self, conn, keys: dict[str, int], now, *, including_own: bool) -> int | None:
        """Seconds until another attempt is allowed, or None when this one is."""
        window = timedelta(seconds=self.limits.window_s)
        waits = []
        for key, limit in keys.items():
            times = [as_utc(t) for t in conn.execute(
                sa.select(sign_in_attempts.c.attempted_at)
                .where(sign_in_attempts.c.key == key, sign_in_attempts.c.attempted_at > now - window)
                .order_by(sign_in_attempts.c.attempted_at)).scalars()]
            if len(times) > limit if including_own else len(times) >= limit:
                # Allowed again once enough of these attempts have left the window.
                frees_at = times[len(times) - limit] + window
                waits.append(max(int((frees_at - now).total_seconds()) + 1, 1))
        return max(waits) if waits else None

    def attempt(self, email: str, address: str) -> "Attempt":
        """Record an attempt, unless the limit is reached (then ``wait_s`` says for how long)."""
        keys = self._keys(email, address)
        now = self.clock()
        cutoff = now - timedelta(seconds=self.limits.window_s)
        with self.engine.begin() as tx:
            tx.execute(sign_in_attempts.delete().where(sign_in_attempts.c.key.in_(list(keys)),
                                                       sign_in_attempts.c.attempted_at <= cutoff))
            wait = self._wait_s(tx, keys, now, including_own=False)
            if wait is not None:
                return Attempt(keys=tuple(keys), at=now, wait_s=wait)
            tx.execute(sign_in_attempts.insert(), [{"key": k, "attempted_at": now} for k in keys])
        # Counted again after the commit: of several parallel attempts, the ones beyond the limit see
        # all the others' rows and are refused.
        with self.engine.connect() as conn:
            return Attempt(keys=tuple(keys), at=now, wait_s=self._wait_s(conn, keys, now, including_own=True))

    def succeeded(self, attempt: "Attempt") -> None:
        """A right password: forget the account's failures and this attempt (and every expired row)."""
        personal = [k for k in attempt.keys if not k.startswith("address:")]
        own = [k for k in attempt.keys if k.startswith("address:")]
        cutoff = self.clock() - timedelta(seconds=self.limits.window_s)
        with self.engine.begin() as tx:
            tx.execute(sign_in_attempts.delete().where(sign_in_attempts.c.key.in_(personal)))
            tx.execute(sign_in_attempts.delete().where(sign_in_attempts.c.key.in_(own),
                                                       sign_in_attempts.c.attempted_at == attempt.at))
            tx.execute(sign_in_attempts.delete().where(sign_in_attempts.c.attempted_at <= cutoff))


@dataclass(frozen=True)
class Attempt:
    keys: tuple[str, ...]
    at: object  # the datetime it was recorded with
    wait_s: int | None  # None: it may go ahead

    @property
    def allowed(self) -> bool:
        return self.wait_s is None
