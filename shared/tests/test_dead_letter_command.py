"""The operators' dead-letter commands against the real RabbitMQ: a message dead-lettered while its cause
lasted is replayed and handled once; listing shows why without the body; dropping removes exactly one."""
import io
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from treffpunkt_shared.messaging import dead_letter_command
from treffpunkt_shared.testing import wait_until

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from test_messaging import db, handled_ids, make_consumer, publish_event, run_in_thread, topology  # noqa: E402,F401


@pytest.fixture
def settings(amqp_url, topology):  # noqa: F811
    return SimpleNamespace(amqp_url=amqp_url, namespace=topology.namespace, delivery_limit=topology.delivery_limit,
                           retry_delays_ms=topology.retry_delays_ms)


def command(settings, *argv) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = dead_letter_command.run(list(argv), settings, "notify", out=out)
    return code, out.getvalue().splitlines()


def test_a_message_dead_lettered_while_the_database_was_away_is_handled_once_when_replayed(
        db, topology, settings, amqp_url, broker):  # noqa: F811
    engine, _, inbox, handled = db
    database = {"away": True}

    def outage(envelope):
        if database["away"]:
            raise ConnectionError("database away longer than the retry ladder")

    consumer = make_consumer(engine, inbox, handled, topology, amqp_url, fail=outage)
    run_in_thread(consumer)
    dead = topology.dead_letter_queue_name("notify")
    try:
        assert consumer.ready.wait(15)
        envelope = publish_event(broker, topology)
        wait_until(lambda: broker.count(dead) == 1, timeout=20, message="dead-lettered after the retries")

        code, lines = command(settings, "list")
        assert code == 0 and len(lines) == 1
        listed = json.loads(lines[0])
        assert listed["message_id"] == envelope["id"] and "gave up after 2 retries" in listed["reason"]
        assert "erika@example.org" not in lines[0]  # the body (a participant) is not shown by list
        assert broker.count(dead) == 1  # listing keeps it

        database["away"] = False
        assert command(settings, "replay", envelope["id"]) == (0, ['{"replayed": 1, "kept": 0}'])
        wait_until(lambda: handled_ids(engine, handled) == [envelope["id"]], message="handled after replay")
        assert broker.count(dead) == 0

        # A crash in the middle of a pass can leave a copy twice: replaying it again does nothing twice.
        broker.publish_raw(topology.direct.name, dead, json.dumps(envelope).encode(),
                           content_type="application/json", message_id=envelope["id"])
        assert command(settings, "replay", "--all")[0] == 0
        marker = publish_event(broker, topology)
        wait_until(lambda: marker["id"] in handled_ids(engine, handled), message="marker handled")
        assert sorted(handled_ids(engine, handled)) == sorted([envelope["id"], marker["id"]])
        assert command(settings, "replay", envelope["id"])[0] == 1  # nothing left to replay
    finally:
        consumer.stop()


def test_dropping_removes_just_that_dead_letter_and_the_others_stay_in_order_with_their_reasons(
        topology, settings, broker):  # noqa: F811
    from kombu import Connection
    with Connection(settings.amqp_url) as conn:
        topology.declare(conn.default_channel)
    dead = topology.dead_letter_queue_name("notify")
    for n in range(3):
        broker.publish_raw(topology.direct.name, dead, f"body {n}".encode(), content_type="application/json",
                           message_id=f"m{n}", headers={"x-dead-reason": f"reason {n}"})
    broker.publish_raw(topology.direct.name, dead, b"a mail", content_type="application/json", message_id="m3",
                       headers={"x-dead-reason": "550 5.1.1 <erika.muster@example.org>: user unknown"})
    assert command(settings, "drop", "m1") == (0, ['{"dropped": 1, "kept": 3}'])
    code, lines = command(settings, "list")
    assert [(json.loads(line)["message_id"], json.loads(line)["reason"]) for line in lines] == [
        ("m0", "reason 0"), ("m2", "reason 2"), ("m3", "550 5.1.1 <<E-Mail>>: user unknown")]
    assert command(settings, "drop", "m3")[0] == 0
    assert command(settings, "show", "m2") == (0, ["body 2"])
    assert command(settings, "drop", "--all")[0] == 2  # refused: dropping is one id at a time
    assert broker.count(dead) == 2
