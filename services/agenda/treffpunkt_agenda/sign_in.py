"""Signing in with email and password: the rate limit first, then the password, then the principal."""
from __future__ import annotations

import logging
import secrets

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from treffpunkt_shared.auth import Principal, sign_in_time
from treffpunkt_shared.logs import log_event

from . import accounts
from .sign_in_limit import SignInLimiter

log = logging.getLogger("treffpunkt.agenda.sign_in")


class TooManyAttempts(Exception):
    def __init__(self, wait_s: int):
        super().__init__(f"wait {wait_s}s")
        self.wait_s = wait_s


class SignInRefused(Exception):
    """Wrong email or password, or a deactivated account: deliberately not told apart."""


class SignIn:
    def __init__(self, engine: sa.Engine, limiter: SignInLimiter):
        self.engine = engine
        self.limiter = limiter
        # Checked against when the email is unknown, so that the answer takes as long as for a known one
        # and the timing does not tell which addresses have an account.
        self._decoy_hash = generate_password_hash(secrets.token_urlsafe(24), method=accounts.PASSWORD_METHOD)

    def __call__(self, email: str, password: str, address: str) -> Principal:
        attempt = self.limiter.attempt(email, address)
        if not attempt.allowed:
            log_event(log, "sign_in_rate_limited", wait_s=attempt.wait_s)
            raise TooManyAttempts(attempt.wait_s)
        with self.engine.connect() as conn:
            row = accounts.find_for_sign_in(conn, email)
        password_ok = accounts.check_password(row.password_hash if row else self._decoy_hash, password)
        if row is None or not password_ok:
            log_event(log, "sign_in_refused", known_account=row is not None)
            raise SignInRefused()
        self.limiter.succeeded(attempt)
        with self.engine.connect() as conn:
            principal = accounts.principal_for(conn, row.id, signed_in_at=sign_in_time(row.tokens_not_before))
        if principal is None:  # deactivated in the meantime
            raise SignInRefused()
        log_event(log, "signed_in", organiser_id=principal.id, role=principal.role)
        return principal
