"""Broker connections with the settings the reliability guide asks for."""
from __future__ import annotations

from kombu import Connection

HEARTBEAT_SECONDS = 15
CONFIRM_TIMEOUT_SECONDS = 5


def connect(amqp_url: str, *, heartbeat: int = HEARTBEAT_SECONDS, confirm_each_publish: bool = True) -> Connection:
    """A broker connection. ``confirm_each_publish=False`` is only for a caller that puts its channel in
    confirm mode itself and waits for the confirms of a whole batch (:class:`.confirms.BatchPublisher`)."""
    if amqp_url.startswith("memory://"):
        return Connection(amqp_url, transport_options={"polling_interval": 0.02})
    # kombu's default heartbeat is 0 (a dead peer goes unnoticed for minutes) and it publishes without
    # confirms unless told to: a publish without confirms is not a publish.
    return Connection(amqp_url, heartbeat=heartbeat, connect_timeout=5,
                      transport_options={"confirm_publish": confirm_each_publish})


def is_broker_reachable(amqp_url: str) -> bool:
    try:
        with connect(amqp_url) as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
            return True
    except Exception:
        return False
