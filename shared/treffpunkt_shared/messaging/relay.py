"""The outbox relay: publishes outbox rows with publisher confirms, then deletes them.

A crash between the broker's confirm and the delete publishes a row twice;
consumers deduplicate by message id, so that is harmless. A crash before the
confirm leaves the row in place and it is published on the next pass. Two
relays side by side claim disjoint rows with ``FOR UPDATE SKIP LOCKED``.
"""
from __future__ import annotations

import logging
import threading
import time

import sqlalchemy as sa
from kombu import Producer

from ..contracts import ENVELOPE_CONTENT_TYPE
from ..logs import log_event
from .connection import CONFIRM_TIMEOUT_SECONDS, connect
from .topology import Topology

log = logging.getLogger("treffpunkt.relay")


class OutboxRelay:
    def __init__(self, engine: sa.Engine, outbox: sa.Table, amqp_url: str, topology: Topology, *,
                 batch_size: int = 200, idle_seconds: float = 0.05, max_backoff_seconds: float = 5.0):
        self.engine = engine
        self.outbox = outbox
        self.amqp_url = amqp_url
        self.topology = topology
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.stopped = threading.Event()
        self._connection = None
        self._producer = None

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            self._connection = connect(self.amqp_url)
            self._connection.ensure_connection(max_retries=1, timeout=5)
            self.topology.declare(self._connection.default_channel)
            self._producer = Producer(self._connection.default_channel)
        return self._producer

    def _drop_connection(self) -> None:
        try:
            if self._connection is not None:
                self._connection.release()
        except Exception:
            pass
        self._connection = self._producer = None

    def publish_pending(self) -> int:
        """Publish one batch; returns how many rows were published (and deleted)."""
        producer = self._ensure_producer()
        with self.engine.begin() as tx:
            rows = tx.execute(
                sa.select(self.outbox).order_by(self.outbox.c.seq).limit(self.batch_size)
                .with_for_update(skip_locked=True)).all()
            for row in rows:
                exchange = self.topology.direct if row.destination == "dead-letter" else self.topology.events
                producer.publish(
                    row.body, exchange=exchange, routing_key=row.routing_key, headers=row.headers or {},
                    content_type=ENVELOPE_CONTENT_TYPE, content_encoding="utf-8", serializer=None,
                    delivery_mode=2, message_id=row.message_id, correlation_id=row.correlation_id,
                    type=row.routing_key, retry=False, confirm_timeout=CONFIRM_TIMEOUT_SECONDS)
            if rows:
                tx.execute(self.outbox.delete().where(self.outbox.c.seq.in_([r.seq for r in rows])))
        for row in rows:
            log_event(log, "event_published", message_id=row.message_id, routing_key=row.routing_key,
                      correlation_id=row.correlation_id)
        return len(rows)

    def run(self) -> None:
        backoff = 0.2
        log_event(log, "relay_started", namespace=self.topology.namespace)
        while not self.stopped.is_set():
            try:
                published = self.publish_pending()
                backoff = 0.2
                if published < self.batch_size:
                    self.stopped.wait(self.idle_seconds)
            except Exception as exc:  # broker or database away: wait, reconnect, try again; never die
                log_event(log, "relay_retrying", logging.WARNING, error=repr(exc), backoff_seconds=backoff)
                self._drop_connection()
                self.stopped.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff_seconds)
        self._drop_connection()

    def stop(self) -> None:
        self.stopped.set()
