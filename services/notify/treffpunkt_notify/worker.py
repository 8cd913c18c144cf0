"""The notify worker's parts: the event consumer, the mail sender and the outbox relay."""
from __future__ import annotations

import sqlalchemy as sa

from treffpunkt_shared.messaging.consumer import ServiceConsumer
from treffpunkt_shared.messaging.relay import OutboxRelay
from treffpunkt_shared.messaging.topology import topology_for

from .config import Settings
from .handlers import make_handler
from .mail_queue import MailSender
from .mailer import mailer_for
from .models import outbox


def worker_parts(settings: Settings, engine: sa.Engine, *, mailer=None) -> dict:
    topology = topology_for(settings)
    return {
        "consumer": ServiceConsumer(settings.amqp_url, topology, "notify", make_handler(engine, settings)),
        "sender": MailSender(engine, mailer or mailer_for(settings), sender_address=settings.mail_from,
                             retry_delays_s=settings.mail_retry_delays_s,
                             dead_letter_queue=topology.dead_letter_queue_name("notify")),
        "relay": OutboxRelay(engine, outbox, settings.amqp_url, topology),
    }
