"""Putting a message back on the broker as it was (retries, dead letters), and working through dead letters.

Dead letters are kept for operators: they list them, replay the ones a fixed bug or an ended outage made fail
(:mod:`.dead_letter_command`), drop the rest; and a dead-lettered registration event or failed mail holds the
participant's name and address, so an erasure removes those (:func:`remove_dead_letters`). All of it is one
pass (:func:`pass_through`) through a dead-letter queue: each message is kept (published again, with its
headers and properties, to the same queue), replayed (published to the service's work queue) or removed,
and only after that publish is confirmed is the old copy acknowledged. A crash in between can leave a message
twice (replays are safe: consumers record what they handled), never none. Only the messages on the queue when
the pass starts are looked at, so those put back at the tail are not seen twice.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from kombu import Exchange, Producer, Queue

from ..logs import mask_emails
from .connection import CONFIRM_TIMEOUT_SECONDS, connect


def raw_body(message) -> bytes:
    """The body as bytes. py-amqp decodes a body whose message names a content encoding (as every message
    republished here does) into a str before kombu sees it."""
    body = message.body
    return body.encode(message.content_encoding or "utf-8") if isinstance(body, str) else bytes(body or b"")


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


KEEP, REMOVE, REPLAY = "keep", "remove", "replay"


def pass_through(amqp_url: str, exchange: Exchange, queue_name: str, decide: Callable[[object], str], *,
                 replay_to: str | None = None) -> dict[str, int]:
    """One pass through the dead letters on ``queue_name`` when it starts: ``decide(message)`` says for each
    whether it is kept (published back to the queue's tail, so the order stays), removed, or replayed
    (published to ``replay_to``, the service's work queue, with its retry count reset). Every publish is
    confirmed before the old copy is acknowledged. Returns the count of each."""
    counts = {KEEP: 0, REMOVE: 0, REPLAY: 0}
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
                action = decide(message)
                if action == KEEP:
                    republish(producer, message, exchange, queue_name, {})
                elif action == REPLAY:
                    republish(producer, message, exchange, replay_to,
                              {"x-attempt": 0, "x-replayed-at": datetime.now(timezone.utc).isoformat()})
                counts[action] += 1
                message.ack()
        finally:
            channel.close()
    return counts


def remove_dead_letters(amqp_url: str, exchange: Exchange, queue_name: str,
                        is_to_remove: Callable[[bytes], bool]) -> tuple[int, int]:
    """Drop the dead letters whose body ``is_to_remove`` says so, keep the rest. Returns (removed, kept)."""
    counts = pass_through(amqp_url, exchange, queue_name,
                          lambda message: REMOVE if is_to_remove(raw_body(message)) else KEEP)
    return counts[REMOVE], counts[KEEP]


def describe(message) -> dict:
    """What an operator may see of a dead letter without its body (the body can hold personal data; so can the
    reason, where an SMTP server's answer quotes the address: masked as in the logs)."""
    headers = message.headers or {}
    reason = headers.get("x-dead-reason")
    return {"message_id": message.properties.get("message_id"), "type": message.properties.get("type"),
            "original_routing_key": headers.get("x-original-routing-key"),
            "reason": mask_emails(str(reason)) if reason is not None else None,
            "dead_lettered_at": headers.get("x-dead-lettered-at"),
            "dead_lettered_by": headers.get("x-dead-lettered-by"), "attempts": headers.get("x-attempt"),
            "bytes": len(raw_body(message))}
