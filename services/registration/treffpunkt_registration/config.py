"""The registration service's settings, read from the environment in this one place."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from treffpunkt_shared.auth import DEFAULT_MAX_AGE_S
from treffpunkt_shared.config import (DEFAULT_AMQP_URL, env_flag, env_int, env_ints, env_str, environ,
                                      postgres_url)
from treffpunkt_shared.cookies import secure_cookies


@dataclass(frozen=True)
class Settings:
    database_url: str = postgres_url("treffpunkt_registration")
    amqp_url: str = DEFAULT_AMQP_URL
    namespace: str = "treffpunkt"
    public_base_url: str = "http://127.0.0.1:8002"
    privacy_notice_version: str = "2026-11-01"
    delivery_limit: int = 5
    retry_delays_ms: tuple[int, ...] = (1000, 5000, 30000)
    db_pool_size: int = 5
    # The agenda's sign-in, honoured here (see treffpunkt_shared.auth): the same SESSION_SECRET as the agenda.
    session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    session_max_age_s: int = DEFAULT_MAX_AGE_S
    cookie_secure: bool = True  # from PUBLIC_BASE_URL and COOKIE_SECURE, see treffpunkt_shared.cookies
    sign_in_url: str = "http://127.0.0.1:8001/anmelden"
    # Personal data of a meeting is erased this many days after it ends (and personal links stop working).
    retention_days: int = 90
    # Registrations per client address and per email address within RATE_WINDOW_S. The address limit is
    # high on purpose: the offices of one authority often share one outgoing address.
    rate_limit_per_address: int = 120
    rate_limit_per_email: int = 10
    rate_window_s: int = 600
    # Where organisers find notify's delivery log (a link only; never called on a request's path). "": no link.
    notify_base_url: str = ""

    @classmethod
    def from_env(cls, env=None) -> "Settings":
        env = environ() if env is None else env
        base = cls()
        return cls(
            database_url=env_str(env, "DATABASE_URL", base.database_url),
            amqp_url=env_str(env, "AMQP_URL", base.amqp_url),
            namespace=env_str(env, "TREFFPUNKT_NAMESPACE", base.namespace),
            public_base_url=env_str(env, "PUBLIC_BASE_URL", base.public_base_url),
            privacy_notice_version=env_str(env, "PRIVACY_NOTICE_VERSION", base.privacy_notice_version),
            delivery_limit=env_int(env, "DELIVERY_LIMIT", base.delivery_limit),
            retry_delays_ms=env_ints(env, "RETRY_DELAYS_MS", base.retry_delays_ms),
            db_pool_size=env_int(env, "DB_POOL_SIZE", base.db_pool_size),
            session_secret=env_str(env, "SESSION_SECRET", base.session_secret),
            cookie_secure=secure_cookies(env_str(env, "PUBLIC_BASE_URL", base.public_base_url),
                                         env_flag(env, "COOKIE_SECURE", None)),
            sign_in_url=env_str(env, "SIGN_IN_URL", base.sign_in_url),
            retention_days=env_int(env, "RETENTION_DAYS", base.retention_days),
            rate_limit_per_address=env_int(env, "RATE_LIMIT_PER_ADDRESS", base.rate_limit_per_address),
            rate_limit_per_email=env_int(env, "RATE_LIMIT_PER_EMAIL", base.rate_limit_per_email),
            rate_window_s=env_int(env, "RATE_WINDOW_S", base.rate_window_s),
            notify_base_url=env_str(env, "NOTIFY_BASE_URL", base.notify_base_url),
        )
