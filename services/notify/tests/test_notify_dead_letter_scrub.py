"""An erased participant's dead letters leave the broker too: the scheduler goes once through
``<ns>.notify.dead`` for the registrations erased since its last pass, drops what names them and puts
everything else back as it was (headers, ids), on the real RabbitMQ."""
from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa
from kombu import Connection

from notify_events import MEETING_ID, registration
from treffpunkt_notify.erasure import scrub_dead_letters
from treffpunkt_notify.handlers import make_handler
from treffpunkt_notify.models import erased_registrations
from treffpunkt_notify.scheduler import Scheduler
from treffpunkt_shared.contracts import (ENVELOPE_CONTENT_TYPE, PARTICIPANT_ERASED, REGISTRATION_CONFIRMED, encode,
                                         make_envelope, parse_envelope)
from treffpunkt_shared.messaging.topology import topology_for
from treffpunkt_shared.timeutil import utcnow


@pytest.fixture
def topology(notify_settings):
    topology = topology_for(notify_settings)
    with Connection(notify_settings.amqp_url) as conn:
        topology.declare(conn.default_channel)
    return topology


def dead_letter(broker, topology, body: bytes, reason: str, **props) -> str:
    # The consumer dead-letters with content_encoding "utf-8" (py-amqp then hands the body over as a str);
    # ``props`` gives that where it matters.
    message_id = str(uuid.uuid4())
    broker.publish_raw(topology.direct.name, topology.dead_letter_queue_name("notify"), body,
                       content_type=ENVELOPE_CONTENT_TYPE, message_id=message_id, **props,
                       headers={"x-dead-reason": reason, "x-original-routing-key": "registration.confirmed"})
    return message_id


def erase(engine, settings, registration_id: str) -> None:
    envelope = make_envelope(PARTICIPANT_ERASED, {"registration_id": registration_id, "meeting_id": MEETING_ID,
                                                  "erased_at": utcnow().isoformat(), "reason": "request"},
                             producer="test")
    make_handler(engine, settings)(*parse_envelope(encode(envelope), ENVELOPE_CONTENT_TYPE))


def event_body(payload: dict) -> bytes:
    return encode(make_envelope(REGISTRATION_CONFIRMED, payload, producer="registration"))


def test_the_erased_participants_dead_letters_are_removed_and_every_other_one_is_kept_as_it_was(
        notify_settings, notify_engine, broker, topology):
    erased, other = registration(email="erased@example.org"), registration(email="other@example.org")
    dead_letter(broker, topology, event_body(erased), "invalid payload", content_encoding="utf-8")
    # A mail that failed for good: its dead letter names the registration in a compact body.
    dead_letter(broker, topology, json.dumps({"source_type": "broadcast", "kind": "broadcast",
                                              "registration_id": erased["registration_id"]}).encode(),
                "permanent SMTP failure")
    kept_ids = [dead_letter(broker, topology, event_body(other), "invalid payload", content_encoding="utf-8"),
                dead_letter(broker, topology, b"\xff not json", "not JSON")]
    erase(notify_engine, notify_settings, erased["registration_id"])

    assert Scheduler(notify_engine, notify_settings).scrub_dead_letters() == 2

    left = broker.drain(topology.dead_letter_queue_name("notify"))
    assert [props.message_id for _, props, _ in left] == kept_ids
    assert [props.headers["x-dead-reason"] for _, props, _ in left] == ["invalid payload", "not JSON"]
    assert all(b"erased@example.org" not in body for _, _, body in left)
    assert b"other@example.org" in left[0][2] and left[1][2] == b"\xff not json"
    with notify_engine.connect() as conn:
        assert conn.execute(sa.select(erased_registrations.c.dead_letters_scrubbed_at)).scalar() is not None


def test_without_new_erasures_the_scrub_does_not_touch_the_broker(notify_settings, notify_engine, topology):
    unreachable = "amqp://guest:guest@127.0.0.1:1//"
    assert scrub_dead_letters(notify_engine, unreachable, topology) == 0
    erase(notify_engine, notify_settings, str(uuid.uuid4()))
    assert scrub_dead_letters(notify_engine, notify_settings.amqp_url, topology) == 0  # an empty queue
    assert scrub_dead_letters(notify_engine, unreachable, topology) == 0  # marked: not looked at again


def test_an_unreachable_broker_leaves_the_erasure_unscrubbed_so_the_next_round_tries_again(
        notify_settings, notify_engine, broker, topology):
    erased = registration(email="erased@example.org")
    dead_letter(broker, topology, event_body(erased), "invalid payload")
    erase(notify_engine, notify_settings, erased["registration_id"])
    with pytest.raises(Exception):
        scrub_dead_letters(notify_engine, "amqp://guest:guest@127.0.0.1:1//", topology)
    assert broker.count(topology.dead_letter_queue_name("notify")) == 1
    assert scrub_dead_letters(notify_engine, notify_settings.amqp_url, topology) == 1
    assert broker.count(topology.dead_letter_queue_name("notify")) == 0


def test_erasing_one_recipient_of_a_broadcast_keeps_the_other_recipients_dead_letters_still_in_the_outbox(
        notify_settings, notify_engine):
    from treffpunkt_notify.models import outbox
    from treffpunkt_shared.messaging.tables import add_dead_letter_to_outbox
    job_id = str(uuid.uuid4())  # a broadcast's or fan-out's mails share their job's id as source
    erased, other = registration(email="erased@example.org"), registration(email="other@example.org")
    with notify_engine.begin() as tx:
        from treffpunkt_notify.mail_queue import queue_mail
        for reg in (erased, other):
            queue_mail(tx, logical_key=f"broadcast:{job_id}:{reg['registration_id']}", kind="broadcast",
                       source_message_id=job_id, source_body=b"{}", correlation_id=None,
                       recipient=reg["participant"]["email"], message=b"x", meeting_id=MEETING_ID,
                       registration_id=reg["registration_id"], subject="Rundmail")
            add_dead_letter_to_outbox(tx, outbox, dead_letter_queue="x.notify.dead", message_id=job_id,
                                      reason="permanent SMTP failure",
                                      body=json.dumps({"source_message_id": job_id, "kind": "broadcast",
                                                       "registration_id": reg["registration_id"]}).encode())
    erase(notify_engine, notify_settings, erased["registration_id"])
    with notify_engine.connect() as conn:
        bodies = [json.loads(bytes(r.body)) for r in conn.execute(
            sa.select(outbox.c.body).where(outbox.c.destination == "dead-letter"))]
    assert [b["registration_id"] for b in bodies] == [other["registration_id"]]
