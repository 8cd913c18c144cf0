"""The notify worker's parts: the event consumer, the mail sender and the outbox relay."""
from __future__ import annotations

import sqlalchemy as sa

from treffpunkt_shared.messaging.consumer import ServiceConsumer
from treffpunkt_shared.messaging.relay import OutboxRelay
from treffpunkt_shared.messaging.topology import topology_for

from .config import Settings
from .handlers import make_handler
from .mail_queue import MailSender, RateLimit
from .mailer import mailer_for
from .models import outbox
from .notices import warn_organisers
from .scheduler import Scheduler


def worker_parts(settings: Settings, engine: sa.Engine, *, mailer=None, clock=None) -> dict:
    """The worker's threads. Each sender has its own mailer (its own SMTP connection); a ``mailer`` given
    here is used by a single sender."""
    topology = topology_for(settings)
    parts = {
        "consumer": ServiceConsumer(settings.amqp_url, topology, "notify", make_handler(engine, settings)),
        "relay": OutboxRelay(engine, outbox, settings.amqp_url, topology),
        "scheduler": Scheduler(engine, settings, **({"clock": clock} if clock else {})),
    }
    rate_limit = RateLimit(settings.mail_rate_per_s) if settings.mail_rate_per_s > 0 else None
    on_failed = warn_organisers(settings)
    # SQLite (embedded mode) ignores FOR UPDATE SKIP LOCKED, so there a second sender could claim the
    # same mail: only PostgreSQL gets more than one.
    senders = max(1, settings.mail_senders) if engine.dialect.name == "postgresql" and mailer is None else 1
    for i in range(senders):
        parts["sender" if i == 0 else f"sender-{i + 1}"] = MailSender(
            engine, mailer or mailer_for(settings), sender_address=settings.mail_from,
            retry_delays_s=settings.mail_retry_delays_s, dead_letter_queue=topology.dead_letter_queue_name("notify"),
            rate_limit=rate_limit, on_failed=on_failed)
    return parts
