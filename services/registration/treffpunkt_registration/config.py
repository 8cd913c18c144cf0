"""The registration service's settings, read from the environment in this one place."""
from __future__ import annotations

from dataclasses import dataclass

from treffpunkt_shared.config import DEFAULT_AMQP_URL, env_int, env_ints, env_str, environ, postgres_url


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
        )
