"""The outbox relay and the consumer loop against the real RabbitMQ and PostgreSQL."""
import json
import subprocess
import threading
import uuid

import pytest
import sqlalchemy as sa

from treffpunkt_shared.contracts import REGISTRATION_CONFIRMED, encode, make_envelope
from treffpunkt_shared.db import make_engine
from treffpunkt_shared.messaging.consumer import ServiceConsumer, process_once
from treffpunkt_shared.messaging.relay import OutboxRelay
from treffpunkt_shared.messaging.tables import add_to_outbox, inbox_table, outbox_table
from treffpunkt_shared.messaging.topology import Topology
from treffpunkt_shared.testing import registration_payload, wait_until


@pytest.fixture
def db(postgres_url_for):
    engine = make_engine(postgres_url_for("shared"))
    metadata = sa.MetaData()
    outbox, inbox = outbox_table(metadata), inbox_table(metadata)
    handled = sa.Table("handled", metadata, sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
                       sa.Column("message_id", sa.String(36)))
    metadata.create_all(engine)
    yield engine, outbox, inbox, handled
    engine.dispose()


@pytest.fixture
def topology(namespace):
    return Topology(namespace, delivery_limit=2, retry_delays_ms=(200, 400))


def run_in_thread(part):
    thread = threading.Thread(target=part.run, daemon=True)
    thread.start()
    return thread


def test_the_relay_publishes_outbox_rows_persistently_and_then_removes_them(db, topology, amqp_url, broker):
    engine, outbox, _, _ = db
    probe = broker.probe(topology.namespace, "registration.*")
    with engine.begin() as tx:
        ids = [add_to_outbox(tx, outbox, REGISTRATION_CONFIRMED, registration_payload(), producer="test",
                             correlation_id=f"c{i}") for i in range(3)]
    relay = OutboxRelay(engine, outbox, amqp_url, topology)
    assert relay.publish_pending() == 3
    relay.stop()
    relay._drop_connection()
    got = [broker.get(probe) for _ in ids]
    assert [p.message_id for _, p, _ in got] == ids
    for method, props, body in got:
        assert props.delivery_mode == 2 and props.content_type == "application/json"
        assert method.routing_key == "registration.confirmed"
        assert json.loads(body)["id"] == props.message_id
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 0


def test_a_row_written_in_a_rolled_back_transaction_is_never_published(db, topology, amqp_url, broker):
    engine, outbox, _, _ = db
    probe = broker.probe(topology.namespace, "registration.*")
    with pytest.raises(RuntimeError):
        with engine.begin() as tx:
            add_to_outbox(tx, outbox, REGISTRATION_CONFIRMED, registration_payload(), producer="test")
            raise RuntimeError("the business change failed")
    relay = OutboxRelay(engine, outbox, amqp_url, topology)
    assert relay.publish_pending() == 0
    relay._drop_connection()
    assert broker.count(probe) == 0


def test_the_relay_keeps_rows_when_the_broker_is_unreachable_and_publishes_them_later(db, topology, broker,
                                                                                     amqp_url):
    engine, outbox, _, _ = db
    with engine.begin() as tx:
        add_to_outbox(tx, outbox, REGISTRATION_CONFIRMED, registration_payload(), producer="test")
    dead = OutboxRelay(engine, outbox, "amqp://guest:guest@127.0.0.1:1//", topology)
    with pytest.raises(Exception):
        dead.publish_pending()
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 1
    probe = broker.probe(topology.namespace, "registration.*")
    relay = OutboxRelay(engine, outbox, amqp_url, topology)
    assert relay.publish_pending() == 1
    relay._drop_connection()
    assert broker.get(probe)


def test_rows_the_broker_refuses_stay_in_the_outbox_and_only_confirmed_rows_are_deleted(db, topology, amqp_url,
                                                                                      broker):
    """A batch is confirmed as a whole, but each row counts on its own: a nack keeps exactly that row."""
    engine, outbox, _, _ = db
    # A queue that takes one message and makes the broker nack every further publish routed to it.
    name = f"{topology.namespace}.probe"
    broker.channel.exchange_declare(f"{topology.namespace}.events", "topic", durable=True)
    broker.channel.queue_declare(name, durable=True, arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
    broker.channel.queue_bind(name, f"{topology.namespace}.events", "registration.*")
    with engine.begin() as tx:
        ids = [add_to_outbox(tx, outbox, REGISTRATION_CONFIRMED, registration_payload(), producer="test")
               for _ in range(3)]
    relay = OutboxRelay(engine, outbox, amqp_url, topology)
    try:
        with pytest.raises(Exception, match="refused 2 of 3"):
            relay.publish_pending()
    finally:
        relay._drop_connection()
    with engine.connect() as conn:
        left = conn.execute(sa.select(outbox.c.message_id).order_by(outbox.c.seq)).scalars().all()
    assert left == ids[1:]
    assert [p.message_id for _, p, _ in broker.drain(name)] == ids[:1]


def test_a_large_batch_is_published_in_order_with_confirms_and_then_removed(db, topology, amqp_url, broker):
    engine, outbox, _, _ = db
    probe = broker.probe(topology.namespace, "registration.*")
    with engine.begin() as tx:
        ids = [add_to_outbox(tx, outbox, REGISTRATION_CONFIRMED, registration_payload(), producer="test")
               for _ in range(450)]
    relay = OutboxRelay(engine, outbox, amqp_url, topology, batch_size=200)
    try:
        assert [relay.publish_pending() for _ in range(4)] == [200, 200, 50, 0]
    finally:
        relay._drop_connection()
    assert [p.message_id for _, p, _ in broker.drain(probe)] == ids
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 0


def test_two_relays_side_by_side_publish_every_row_once(db, topology, amqp_url, broker):
    engine, outbox, _, _ = db
    probe = broker.probe(topology.namespace, "registration.*")
    with engine.begin() as tx:
        ids = [add_to_outbox(tx, outbox, REGISTRATION_CONFIRMED, registration_payload(), producer="test")
               for _ in range(600)]
    relays = [OutboxRelay(engine, outbox, amqp_url, topology, batch_size=50) for _ in range(2)]
    threads = [run_in_thread(r) for r in relays]
    try:
        wait_until(lambda: broker.count(probe) >= 600, timeout=30, message="all rows published")
    finally:
        for r in relays:
            r.stop()
        for t in threads:
            t.join(timeout=10)
    got = [p.message_id for _, p, _ in broker.drain(probe)]
    assert sorted(got) == sorted(ids) and len(got) == len(ids)


def make_consumer(engine, inbox, handled, topology, amqp_url, fail=lambda envelope: None):
    def handler(envelope, contract, payload):
        fail(envelope)
        process_once(engine, inbox, envelope,
                     lambda tx: tx.execute(handled.insert().values(message_id=str(envelope.id))))
    return ServiceConsumer(amqp_url, topology, "notify", handler, prefetch_count=7)


def publish_event(broker, topology, envelope=None):
    envelope = envelope or make_envelope(REGISTRATION_CONFIRMED, registration_payload(), producer="test")
    broker.publish_raw(topology.events.name, REGISTRATION_CONFIRMED.type, encode(envelope),
                       content_type="application/json", message_id=envelope["id"])
    return envelope


def handled_ids(engine, handled):
    with engine.connect() as conn:
        return [r.message_id for r in conn.execute(sa.select(handled.c.message_id))]


def test_a_malformed_message_is_dead_lettered_with_its_reason_and_the_next_one_is_processed(
        db, topology, amqp_url, broker):
    engine, _, inbox, handled = db
    consumer = make_consumer(engine, inbox, handled, topology, amqp_url)
    run_in_thread(consumer)
    try:
        assert consumer.ready.wait(15)
        broker.publish_raw(topology.events.name, "registration.confirmed", b"{not json",
                           content_type="application/json", message_id="bad-1")
        good = publish_event(broker, topology)
        wait_until(lambda: handled_ids(engine, handled) == [good["id"]], message="good message handled")
        method, props, body = broker.get(topology.dead_letter_queue_name("notify"))
        assert body == b"{not json"
        assert "not JSON" in props.headers["x-dead-reason"]
        assert props.headers["x-original-routing-key"] == "registration.confirmed"
    finally:
        consumer.stop()


def test_a_redelivered_message_is_handled_only_once(db, topology, amqp_url, broker):
    engine, _, inbox, handled = db
    consumer = make_consumer(engine, inbox, handled, topology, amqp_url)
    run_in_thread(consumer)
    try:
        assert consumer.ready.wait(15)
        envelope = publish_event(broker, topology)
        publish_event(broker, topology, envelope)  # the relay may publish a row twice
        marker = publish_event(broker, topology)
        wait_until(lambda: marker["id"] in handled_ids(engine, handled), message="marker handled")
        assert sorted(handled_ids(engine, handled)) == sorted([envelope["id"], marker["id"]])
    finally:
        consumer.stop()


def test_a_transient_failure_is_retried_with_back_off_and_then_succeeds(db, topology, amqp_url, broker):
    engine, _, inbox, handled = db
    failures = {"left": 2}

    def flaky(envelope):
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("database briefly away")

    consumer = make_consumer(engine, inbox, handled, topology, amqp_url, fail=flaky)
    run_in_thread(consumer)
    try:
        assert consumer.ready.wait(15)
        envelope = publish_event(broker, topology)
        wait_until(lambda: handled_ids(engine, handled) == [envelope["id"]], timeout=20, message="retried")
        assert broker.count(topology.dead_letter_queue_name("notify")) == 0
    finally:
        consumer.stop()


def test_a_message_that_always_fails_is_dead_lettered_after_a_bounded_number_of_retries(
        db, topology, amqp_url, broker):
    engine, _, inbox, handled = db
    attempts = []

    def always(envelope):
        attempts.append(1)
        raise ConnectionError("still away")

    consumer = make_consumer(engine, inbox, handled, topology, amqp_url, fail=always)
    run_in_thread(consumer)
    try:
        assert consumer.ready.wait(15)
        publish_event(broker, topology)
        method, props, body = broker.get(topology.dead_letter_queue_name("notify"), timeout=20)
        assert "gave up after 2 retries" in props.headers["x-dead-reason"]
        assert len(attempts) == 3
    finally:
        consumer.stop()


def test_queues_are_quorum_queues_with_a_delivery_limit_and_dead_letter_exchange_and_prefetch_is_applied(
        db, topology, amqp_url):
    engine, _, inbox, handled = db
    consumer = make_consumer(engine, inbox, handled, topology, amqp_url)
    run_in_thread(consumer)
    try:
        assert consumer.ready.wait(15)
        queues = subprocess.run(["rabbitmqctl", "-q", "list_queues", "name", "type", "arguments",
                                 "--formatter", "json"], capture_output=True, text=True, check=True).stdout
        by_name = {q["name"]: q for q in json.loads(queues)}
        work = by_name[topology.queue_name("notify")]
        assert work["type"] == "quorum"
        args = {a[0] if isinstance(a, list) else a: a for a in work["arguments"]}
        assert "x-delivery-limit" in str(work["arguments"]) and "x-dead-letter-exchange" in str(work["arguments"])
        consumers = subprocess.run(["rabbitmqctl", "-q", "list_consumers", "queue_name", "prefetch_count",
                                    "--formatter", "json"], capture_output=True, text=True, check=True).stdout
        mine = [c for c in json.loads(consumers) if c["queue_name"] == topology.queue_name("notify")]
        assert mine and all(c["prefetch_count"] == 7 for c in mine)
    finally:
        consumer.stop()
