"""The agenda service's settings, read from the environment in this one place."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from treffpunkt_shared.auth import DEFAULT_MAX_AGE_S
from treffpunkt_shared.config import (DEFAULT_AMQP_URL, env_flag, env_int, env_ints, env_str, environ,
                                      postgres_url)
from treffpunkt_shared.cookies import secure_cookies


@dataclass(frozen=True)
class Settings:
    database_url: str = postgres_url("treffpunkt_agenda")
    amqp_url: str = DEFAULT_AMQP_URL
    namespace: str = "treffpunkt"
    public_base_url: str = "http://127.0.0.1:8001"
    # Signs the organiser sign-in (cookie and bearer token) and the CSRF tokens. All three services need the
    # same value. Unset, each process invents its own: safe, but then a sign-in counts only in that process.
    session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    session_max_age_s: int = DEFAULT_MAX_AGE_S
    cookie_secure: bool = True  # from PUBLIC_BASE_URL and COOKIE_SECURE, see treffpunkt_shared.cookies
    delivery_limit: int = 5
    retry_delays_ms: tuple[int, ...] = (1000, 5000, 30000)

    @classmethod
    def from_env(cls, env=None) -> "Settings":
        env = environ() if env is None else env
        base = cls()
        return cls(
            database_url=env_str(env, "DATABASE_URL", base.database_url),
            amqp_url=env_str(env, "AMQP_URL", base.amqp_url),
            namespace=env_str(env, "TREFFPUNKT_NAMESPACE", base.namespace),
            public_base_url=env_str(env, "PUBLIC_BASE_URL", base.public_base_url),
            session_secret=env_str(env, "SESSION_SECRET", base.session_secret),
            cookie_secure=secure_cookies(env_str(env, "PUBLIC_BASE_URL", base.public_base_url),
                                         env_flag(env, "COOKIE_SECURE", None)),
            delivery_limit=env_int(env, "DELIVERY_LIMIT", base.delivery_limit),
            retry_delays_ms=env_ints(env, "RETRY_DELAYS_MS", base.retry_delays_ms),
        )
