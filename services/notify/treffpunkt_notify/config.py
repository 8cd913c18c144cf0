"""The notify service's settings, read from the environment in this one place."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from treffpunkt_shared.auth import DEFAULT_MAX_AGE_S
from treffpunkt_shared.config import (DEFAULT_AMQP_URL, DEFAULT_SMTP_HOST, DEFAULT_SMTP_PORT, env_flag, env_int,
                                      env_ints, env_str, environ, postgres_url)
from treffpunkt_shared.cookies import secure_cookies


@dataclass(frozen=True)
class Settings:
    database_url: str = postgres_url("treffpunkt_notify")
    amqp_url: str = DEFAULT_AMQP_URL
    namespace: str = "treffpunkt"
    public_base_url: str = "http://127.0.0.1:8003"
    registration_base_url: str = "http://127.0.0.1:8002"
    # SMTP_HOST=capture keeps mails in files under MAIL_CAPTURE_DIR instead of sending them (embedded mode).
    smtp_host: str = DEFAULT_SMTP_HOST
    smtp_port: int = DEFAULT_SMTP_PORT
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_security: str = "none"  # none | starttls | tls
    # A CA bundle (PEM) to verify the SMTP server's certificate by, for servers with an in-house CA;
    # empty: the system's CAs. The certificate and host name are always verified.
    smtp_ca_file: str = ""
    smtp_timeout_seconds: int = 30
    mail_from: str = "treffpunkt <noreply@treffpunkt.invalid>"
    mail_capture_dir: str = "var/mail"
    # Waits after a temporary SMTP failure (4xx, connection lost); after the last one the mail has failed.
    mail_retry_delays_s: tuple[int, ...] = (10, 60, 300, 1800, 7200)
    # Sender threads, each with its own SMTP connection; sending is mostly waiting on round trips.
    mail_senders: int = 2
    # At most this many mails per second per worker process (0: no limit).
    mail_rate_per_s: int = 0
    # Scheduled work (scheduler.py): how often it looks; agenda edits are grouped until none came for
    # AGENDA_CHANGE_QUIET_S, but mailed at the latest AGENDA_CHANGE_MAX_DELAY_S after the first.
    scheduler_interval_s: int = 5
    agenda_change_quiet_s: int = 300
    agenda_change_max_delay_s: int = 1800
    reminder_days: tuple[int, ...] = (7, 1)
    # Organisers' daily digest at this hour in the meeting's time zone (-1: no digests); empty days send none.
    digest_hour: int = 7
    digest_when_empty: bool = False
    broadcast_chunk: int = 500
    # Done fan-out jobs (agenda published, round results) are deleted this many days after (-1: kept).
    fanout_keep_days: int = 30
    delivery_limit: int = 5
    retry_delays_ms: tuple[int, ...] = (1000, 5000, 30000)
    # The agenda's sign-in, honoured here (see treffpunkt_shared.auth): the same SESSION_SECRET as the agenda.
    session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    session_max_age_s: int = DEFAULT_MAX_AGE_S
    cookie_secure: bool = True  # from PUBLIC_BASE_URL and COOKIE_SECURE, see treffpunkt_shared.cookies
    sign_in_url: str = "http://127.0.0.1:8001/anmelden"

    @classmethod
    def from_env(cls, env=None) -> "Settings":
        env = environ() if env is None else env
        base = cls()
        return cls(
            database_url=env_str(env, "DATABASE_URL", base.database_url),
            amqp_url=env_str(env, "AMQP_URL", base.amqp_url),
            namespace=env_str(env, "TREFFPUNKT_NAMESPACE", base.namespace),
            public_base_url=env_str(env, "PUBLIC_BASE_URL", base.public_base_url),
            registration_base_url=env_str(env, "REGISTRATION_BASE_URL", base.registration_base_url),
            smtp_host=env_str(env, "SMTP_HOST", base.smtp_host),
            smtp_port=env_int(env, "SMTP_PORT", base.smtp_port),
            smtp_username=env_str(env, "SMTP_USERNAME", base.smtp_username),
            smtp_password=env_str(env, "SMTP_PASSWORD", base.smtp_password),
            smtp_security=env_str(env, "SMTP_SECURITY", base.smtp_security),
            smtp_ca_file=env_str(env, "SMTP_CA_FILE", base.smtp_ca_file),
            smtp_timeout_seconds=env_int(env, "SMTP_TIMEOUT_SECONDS", base.smtp_timeout_seconds),
            mail_from=env_str(env, "MAIL_FROM", base.mail_from),
            mail_capture_dir=env_str(env, "MAIL_CAPTURE_DIR", base.mail_capture_dir),
            mail_retry_delays_s=env_ints(env, "MAIL_RETRY_DELAYS_S", base.mail_retry_delays_s),
            mail_senders=env_int(env, "MAIL_SENDERS", base.mail_senders),
            mail_rate_per_s=env_int(env, "MAIL_RATE_PER_S", base.mail_rate_per_s),
            scheduler_interval_s=env_int(env, "SCHEDULER_INTERVAL_S", base.scheduler_interval_s),
            agenda_change_quiet_s=env_int(env, "AGENDA_CHANGE_QUIET_S", base.agenda_change_quiet_s),
            agenda_change_max_delay_s=env_int(env, "AGENDA_CHANGE_MAX_DELAY_S", base.agenda_change_max_delay_s),
            reminder_days=env_ints(env, "REMINDER_DAYS", base.reminder_days),
            digest_hour=env_int(env, "DIGEST_HOUR", base.digest_hour),
            digest_when_empty=bool(env_flag(env, "DIGEST_WHEN_EMPTY", base.digest_when_empty)),
            broadcast_chunk=env_int(env, "BROADCAST_CHUNK", base.broadcast_chunk),
            fanout_keep_days=env_int(env, "FANOUT_KEEP_DAYS", base.fanout_keep_days),
            delivery_limit=env_int(env, "DELIVERY_LIMIT", base.delivery_limit),
            retry_delays_ms=env_ints(env, "RETRY_DELAYS_MS", base.retry_delays_ms),
            session_secret=env_str(env, "SESSION_SECRET", base.session_secret),
            cookie_secure=secure_cookies(env_str(env, "PUBLIC_BASE_URL", base.public_base_url),
                                         env_flag(env, "COOKIE_SECURE", None)),
            sign_in_url=env_str(env, "SIGN_IN_URL", base.sign_in_url),
        )
