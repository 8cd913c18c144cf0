"""The consume loop every service shares: decode, check the contract, handle once, retry, dead-letter.

The handler is a plain function ``handler(envelope, contract, payload)`` that
does its work in its own database transaction, together with the inbox record
(:func:`process_once`). This loop only decides what happens to the message:

* handled (or already handled before)      → ack
* :class:`RejectedMessage` (bad, unknown)  → dead-letter with the reason, ack
* any other error (database down, …)       → a copy waits in a retry queue for
  the next delay of the ladder, ack; after the last step it is dead-lettered.

kombu's own decoding is bypassed (``on_message`` receives the raw body):
its ``on_decode_error`` would acknowledge and drop an undecodable message.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from typing import Callable

import sqlalchemy as sa
from kombu import Producer
from kombu.mixins import ConsumerMixin

from ..contracts import Contract, Envelope, RejectedMessage, parse_envelope
from ..logs import log_event
from .connection import connect
from .dead_letters import republish
from .tables import insert_statement
from .topology import Topology, supports_broker_features

log = logging.getLogger("treffpunkt.consumer")

Handler = Callable[[Envelope, Contract, dict], None]


def process_once(engine: sa.Engine, inbox: sa.Table, envelope: Envelope,
                 work: Callable[[sa.Connection], None]) -> bool:
    """Run ``work`` and record the message id in one transaction; False if the id was processed before."""
    try:
        with engine.begin() as tx:
            # Insert first: a second worker holding the same message waits on this key and then fails it.
            tx.execute(insert_statement(inbox), {"message_id": str(envelope.id), "type": envelope.type,
                                              "processed_at": datetime.now(timezone.utc)})
            work(tx)
        return True
    except sa.exc.IntegrityError:
        with engine.connect() as conn:
            seen = conn.execute(sa.select(inbox.c.message_id)
                                .where(inbox.c.message_id == str(envelope.id))).first()
        if seen:
            return False
        raise


class ServiceConsumer(ConsumerMixin):
    def __init__(self, amqp_url: str, topology: Topology, service: str, handler: Handler, *,
                 prefetch_count: int = 20):
        self.amqp_url = amqp_url
        self.connection = connect(amqp_url)
        self.topology = topology
        self.service = service
        self.handler = handler
        self.prefetch_count = prefetch_count
        self.broker_features = supports_broker_features(self.connection)
        self.ready = threading.Event()

    # --- kombu ConsumerMixin -------------------------------------------------------------
    def get_consumers(self, Consumer, channel):
        self.topology.declare(channel)
        self._producer = Producer(channel)
        queue = self.topology.work_queue(self.service, quorum=self.broker_features)
        # prefetch_count goes to the Consumer itself: a qos() call after consuming started is silently ignored.
        return [Consumer(queues=[queue], on_message=self.on_message, prefetch_count=self.prefetch_count,
                         no_ack=False)]

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        self.ready.set()
        log_event(log, "consumer_ready", service=self.service, queue=self.topology.queue_name(self.service))

    def on_connection_error(self, exc, interval):
        self.ready.clear()
        log_event(log, "consumer_reconnecting", logging.WARNING, service=self.service, error=repr(exc),
                  retry_in_seconds=interval)

    # --- message handling ----------------------------------------------------------------
    def on_message(self, message) -> None:
        props = message.properties
        message_id = props.get("message_id")
        correlation_id = props.get("correlation_id")
        try:
            envelope, contract, payload = parse_envelope(message.body, message.content_type)
            message_id, correlation_id = str(envelope.id), envelope.correlation_id
            self.handler(envelope, contract, payload)
        except RejectedMessage as exc:
            self.dead_letter(message, str(exc))
            return
        except Exception as exc:
            self.retry_later(message, exc)
            return
        message.ack()
        log_event(log, "message_handled", service=self.service, message_id=message_id,
                  correlation_id=correlation_id, type=envelope.type)

    def _republish(self, message, routing_key: str, extra_headers: dict) -> None:
        republish(self._producer, message, self.topology.direct, routing_key, extra_headers)

    def dead_letter(self, message, reason: str) -> None:
        routing_key = message.delivery_info.get("routing_key")
        original = (message.headers or {}).get("x-original-routing-key", routing_key)
        self._republish(message, self.topology.dead_letter_queue_name(self.service), {
            "x-dead-reason": reason[:2000],
            "x-original-routing-key": original,
            "x-dead-lettered-at": datetime.now(timezone.utc).isoformat(),
            "x-dead-lettered-by": self.service,
        })
        message.ack()
        log_event(log, "message_dead_lettered", logging.WARNING, service=self.service,
                  message_id=message.properties.get("message_id"), reason=reason[:500])

    def retry_later(self, message, exc: Exception) -> None:
        headers = message.headers or {}
        attempt = int(headers.get("x-attempt", 0)) + 1
        delays = self.topology.retry_delays_ms
        if attempt > len(delays):
            self.dead_letter(message, f"gave up after {len(delays)} retries: {exc!r}")
            return
        delay_ms = delays[attempt - 1]
        original = headers.get("x-original-routing-key", message.delivery_info.get("routing_key"))
        extra = {"x-attempt": attempt, "x-last-error": repr(exc)[:500], "x-original-routing-key": original}
        if self.broker_features:
            self._republish(message, self.topology.retry_queue_name(self.service, delay_ms), extra)
        else:
            # kombu's memory transport has no TTL or dead-letter exchange: wait here instead (embedded only).
            time.sleep(min(delay_ms / 1000, 2))
            self._republish(message, self.topology.queue_name(self.service), extra)
        message.ack()
        log_event(log, "message_retry_scheduled", logging.WARNING, service=self.service,
                  message_id=message.properties.get("message_id"), attempt=attempt, delay_ms=delay_ms,
                  error=repr(exc)[:300])

    def stop(self) -> None:
        self.should_stop = True
