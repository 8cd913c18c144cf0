"""Putting a message back on the broker as it was (retries, dead letters), and taking dead letters off again.

Dead letters are kept for operators, and a dead-lettered registration event or failed mail holds the
participant's name and address. When a participant is erased, :func:`remove_dead_letters` goes once through
a dead-letter queue: what matches is acknowledged and so gone; everything else is published again, with its
headers and properties, to the same queue (confirmed) before its old copy is acknowledged. A crash in between
can leave a kept dead letter twice, never none. Only the messages on the queue when the pass starts are
looked at, so those put back (at the tail) are not seen twice.
"""
from __future__ import annotations

from typing import Callable

from kombu import Exchange, Producer, Queue

from .connection import CONFIRM_TIMEOUT_SECONDS, connect


def republish(producer: Producer, message, exchange: Exchange, routing_key: str, extra_headers: dict) -> None:
    """``message`` (as received, undecoded) published again with its properties, headers updated."""
    headers = dict(message.headers or {})
    headers.update(extra_headers)
    props = message.properties
    producer.publish(
        message.body, exchange=exchange, routing_key=routing_key,
        content_type=message.content_type, content_encoding=message.content_encoding or "utf-8",
        serializer=None, headers=headers, delivery_mode=2, message_id=props.get("message_id"),
        correlation_id=props.get("correlation_id"), type=props.get("type"), retry=False,
        confirm_timeout=CONFIRM_TIMEOUT_SECONDS)


def remove_dead_letters(amqp_url: str, exchange: Exchange, queue_name: str,
                        is_to_remove: Callable[[bytes], bool]) -> tuple[int, int]:
    """One pass through ``queue_name``: dead letters whose body ``is_to_remove`` says so are dropped, the rest
    put back. Returns (removed, kept)."""
    removed = kept = 0
    with connect(amqp_url) as conn:
        channel = conn.channel()
        try:
            queue = Queue(queue_name, exchange=exchange, routing_key=queue_name, channel=channel, no_declare=True)
            _, waiting, _ = channel.queue_declare(queue=queue_name, passive=True)
            producer = Producer(channel)
            for _ in range(waiting):
                message = queue.get(no_ack=False)
                if message is None:
                    break  # someone else (an operator) took messages meanwhile
                if is_to_remove(message.body):
                    removed += 1
                else:
                    republish(producer, message, exchange, queue_name, {})
                    kept += 1
                message.ack()
        finally:
            channel.close()
    return removed, kept
