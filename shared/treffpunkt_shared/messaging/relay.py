"""The outbox relay: publishes outbox rows with publisher confirms, then deletes them.

A crash between the broker's confirm and the delete publishes a row twice;
consumers deduplicate by message id, so that is harmless. A crash before the
confirm leaves the row in place and it is published on the next pass. Two
relays side by side claim disjoint rows with ``FOR UPDATE SKIP LOCKED``.

A batch of rows is published in one go and the relay then waits once for all
confirms (:mod:`.confirms`); only rows the broker acknowledged are deleted, in
the transaction that claimed them. A nacked row stays for the next pass; when
the outcome of any row is unknown (timeout, lost connection) nothing is deleted.
"""
from __future__ import annotations

import logging
import socket
import threading
import time

import sqlalchemy as sa

from ..contracts import ENVELOPE_CONTENT_TYPE
from ..logs import log_event
from .confirms import BatchPublisher
from .connection import CONFIRM_TIMEOUT_SECONDS, connect
from .topology import Topology

log = logging.getLogger("treffpunkt.relay")


class BrokerRefused(Exception):
    """The broker nacked some messages: back off before the next try."""


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
        self._publisher: BatchPublisher | None = None
        self._claim = (sa.select(outbox).order_by(outbox.c.seq).limit(batch_size)
                       .with_for_update(skip_locked=True))
        self._delete = outbox.delete().where(outbox.c.seq.in_(sa.bindparam("seqs", expanding=True)))
        self.nacked = 0

    def _ensure_publisher(self) -> BatchPublisher:
        if self._publisher is None:
            # Confirm mode is switched on by the BatchPublisher for its channel (and checked by a test).
            self._connection = connect(self.amqp_url, confirm_each_publish=False)
            self._connection.ensure_connection(max_retries=1, timeout=5)
            self.topology.declare(self._connection.default_channel)
            self._publisher = BatchPublisher(self._connection, confirm_timeout=CONFIRM_TIMEOUT_SECONDS)
        return self._publisher

    def _drop_connection(self) -> None:
        try:
            if self._connection is not None:
                self._connection.release()
        except Exception:
            pass
        self._connection = self._publisher = None

    def _message(self, row) -> dict:
        exchange = self.topology.direct if row.destination == "dead-letter" else self.topology.events
        return dict(body=row.body, exchange=exchange, routing_key=row.routing_key, headers=row.headers or {},
                    content_type=ENVELOPE_CONTENT_TYPE, content_encoding="utf-8", serializer=None,
                    delivery_mode=2, message_id=row.message_id, correlation_id=row.correlation_id,
                    type=row.routing_key, retry=False)

    def publish_pending(self) -> int:
        """Publish one batch; returns how many rows were confirmed (and deleted)."""
        publisher = self._ensure_publisher()
        with self.engine.begin() as tx:
            rows = tx.execute(self._claim).all()
            if not rows:
                return 0
            acked = publisher.publish_batch([self._message(row) for row in rows])
            published = [row for row, ok in zip(rows, acked) if ok]
            if published:
                tx.execute(self._delete, {"seqs": [row.seq for row in published]})
        for row in published:
            log_event(log, "event_published", message_id=row.message_id, routing_key=row.routing_key,
                      correlation_id=row.correlation_id)
        nacked = len(rows) - len(published)
        if nacked:
            self.nacked += nacked
            log_event(log, "events_nacked", logging.WARNING, count=nacked,
                      message_ids=[row.message_id for row, ok in zip(rows, acked) if not ok][:20])
            raise BrokerRefused(f"broker refused {nacked} of {len(rows)} messages; they stay in the outbox")
        return len(published)

    def _keep_connection_alive(self) -> None:
        # An idle relay must still answer heartbeats, or the broker drops its connection after 2 intervals.
        # Reading what the broker sent (its heartbeats) and sending ours when due does exactly that.
        if self._connection is not None and self._publisher is not None and self._publisher.confirms:
            try:
                self._connection.drain_events(timeout=0)
            except socket.timeout:
                pass
            except Exception:
                self._drop_connection()
                return
            try:
                self._connection.heartbeat_check()
            except Exception:
                self._drop_connection()

    def run(self) -> None:
        backoff = 0.2
        log_event(log, "relay_started", namespace=self.topology.namespace)
        while not self.stopped.is_set():
            try:
                published = self.publish_pending()
                backoff = 0.2
                if published < self.batch_size:
                    self._keep_connection_alive()
                    self.stopped.wait(self.idle_seconds)
            except Exception as exc:  # broker or database away: wait, reconnect, try again; never die
                log_event(log, "relay_retrying", logging.WARNING, error=repr(exc), backoff_seconds=backoff)
                self._drop_connection()
                self.stopped.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff_seconds)
        self._drop_connection()

    def stop(self) -> None:
        self.stopped.set()
