"""pytest fixtures that start real infrastructure and clean up after themselves.

* ``postgres_url_for``: a fresh PostgreSQL database per test (dropped afterwards).
* ``namespace``: a broker namespace of its own per test; its exchanges and queues are deleted afterwards.
* ``smtp_server``: a real SMTP server (aiosmtpd) that records what it accepts and can be told to fail.
* ``broker``: a pika connection for looking at the broker behind the services' back.

RabbitMQ and PostgreSQL are the ones on this machine (``AMQP_URL``, ``POSTGRES_URL`` override them). Where
nothing answers and Docker is available, testcontainers starts them.
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser, Parser

import pika
import pytest

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
POSTGRES_URL = os.environ.get("POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def amqp_url():
    if _answers("127.0.0.1", 5672) or "AMQP_URL" in os.environ:
        yield AMQP_URL
        return
    from testcontainers.rabbitmq import RabbitMqContainer  # only where Docker exists
    with RabbitMqContainer("rabbitmq:3.13-management") as rabbit:
        yield f"amqp://guest:guest@{rabbit.get_container_host_ip()}:{rabbit.get_exposed_port(5672)}//"


@pytest.fixture(scope="session")
def postgres_base_url():
    if _answers("127.0.0.1", 5432) or "POSTGRES_URL" in os.environ:
        yield POSTGRES_URL
        return
    from testcontainers.postgres import PostgresContainer
    with PostgresContainer("postgres:16", username="postgres", password="postgres") as pg:
        yield (f"postgresql+psycopg://postgres:postgres@{pg.get_container_host_ip()}:"
               f"{pg.get_exposed_port(5432)}")


@pytest.fixture
def postgres_url_for(postgres_base_url):
    """``postgres_url_for("registration")``: the URL of a new, empty database, dropped after the test."""
    from treffpunkt_shared.db import drop_database, ensure_database
    created = []

    def make(label: str) -> str:
        url = f"{postgres_base_url}/t_{label}_{uuid.uuid4().hex[:12]}"
        ensure_database(url)
        created.append(url)
        return url

    yield make
    for url in created:
        drop_database(url)


def pika_connection(amqp_url: str) -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.URLParameters(amqp_url.rstrip("/") + "/%2F"
                                                      if amqp_url.endswith("//") else amqp_url))


def delete_namespace(amqp_url: str, namespace: str, *, retry_delays_ms=()) -> list[str]:
    """Delete a namespace's exchanges and queues: those of the default topology, of the retry ladder
    ``retry_delays_ms`` (processes started elsewhere, e.g. a LocalStack, declared them) and every one this process
    declared. Deleting a queue that is not there is fine. Returns the names deleted."""
    from treffpunkt_shared.messaging.topology import Topology, declared_queue_names
    topology = Topology(namespace)
    names = {q.name for q in topology.all_queues()} | declared_queue_names(namespace) | {f"{namespace}.probe"}
    if retry_delays_ms:
        names |= {q.name for q in Topology(namespace, retry_delays_ms=tuple(retry_delays_ms)).all_queues()}
    conn = pika_connection(amqp_url)
    try:
        ch = conn.channel()
        for name in sorted(names):
            ch.queue_delete(name)
        ch.exchange_delete(topology.events.name)
        ch.exchange_delete(topology.direct.name)
    finally:
        conn.close()
    return sorted(names) + [topology.events.name, topology.direct.name]


@pytest.fixture
def namespace(amqp_url):
    """A namespace of its own for this test's exchanges and queues, deleted afterwards."""
    ns = f"t-{uuid.uuid4().hex[:10]}"
    yield ns
    delete_namespace(amqp_url, ns)


class Broker:
    """A pika view of the broker, for tests: bind a probe queue, read messages, inject raw ones."""

    def __init__(self, amqp_url: str):
        self.conn = pika_connection(amqp_url)
        self.channel = self.conn.channel()

    def probe(self, namespace: str, routing_key: str = "#") -> str:
        """A queue that receives a copy of every event matching ``routing_key``."""
        name = f"{namespace}.probe"
        self.channel.exchange_declare(f"{namespace}.events", "topic", durable=True)
        self.channel.queue_declare(name, durable=False, auto_delete=False)
        self.channel.queue_bind(name, f"{namespace}.events", routing_key)
        return name

    def get(self, queue: str, timeout: float = 10.0):
        """(method, properties, body) of the next message on ``queue``, waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            method, props, body = self.channel.basic_get(queue, auto_ack=True)
            if method:
                return method, props, body
            self.conn.sleep(0.05)
        raise AssertionError(f"no message on {queue} within {timeout}s")

    def drain(self, queue: str) -> list:
        out = []
        while True:
            method, props, body = self.channel.basic_get(queue, auto_ack=True)
            if not method:
                return out
            out.append((method, props, body))

    def count(self, queue: str) -> int:
        return self.channel.queue_declare(queue, passive=True).method.message_count

    def publish_raw(self, exchange: str, routing_key: str, body: bytes, **props) -> None:
        self.channel.confirm_delivery()
        self.channel.basic_publish(exchange, routing_key, body,
                                   pika.BasicProperties(delivery_mode=2, **props))

    def close(self) -> None:
        if self.conn.is_open:
            self.conn.close()


@pytest.fixture
def broker(amqp_url):
    b = Broker(amqp_url)
    yield b
    b.close()


def parse_mail(data: bytes):
    """A mail as a client reads it. ``BytesParser`` leaves UTF-8 headers (RFC 6532: an address such as
    weiß@example.org) as surrogate escapes; parsed as text, they read as written."""
    if data.isascii():
        return BytesParser(policy=policy.default).parsebytes(data)
    return Parser(policy=policy.default).parsestr(data.decode("utf-8", errors="surrogateescape"))


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list
    data: bytes

    @property
    def message(self):
        return parse_mail(self.data)

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        return body.get_content() if body else ""


@dataclass
class RecordingHandler:
    """aiosmtpd handler: records mails; can answer 4xx for a while or 5xx for chosen addresses."""

    received: list = field(default_factory=list)
    temporary_failures_left: int = 0
    fail_temporarily: bool = False
    refuse_for_good: set = field(default_factory=set)
    # 4xx for the first attempt at each address, 250 afterwards.
    fail_first_attempt: bool = False
    attempted: set = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse_for_good:
            return "550 5.1.1 Mailbox unavailable"
        with self.lock:
            first = address not in self.attempted
            self.attempted.add(address)
            if self.fail_temporarily or self.temporary_failures_left > 0 or (self.fail_first_attempt and first):
                self.temporary_failures_left = max(self.temporary_failures_left - 1, 0)
                return "451 4.3.0 Temporary local problem, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        with self.lock:
            return [m for m in self.received if address in m.rcpt_tos]

    def wait_for(self, count: int, timeout: float = 30.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        with self.lock:
            raise AssertionError(f"expected {count} mails within {timeout}s, got {len(self.received)}")


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    handler = RecordingHandler()
    port = free_port()
    # SMTPUTF8 as most servers offer it: participants' addresses may have an umlaut before the "@".
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    yield SmtpServer("127.0.0.1", port, handler)
    controller.stop()


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.05, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{message} not met within {timeout}s")


def envelope_of(body: bytes) -> dict:
    return json.loads(body)


def registration_payload(**overrides):
    """A valid registration event payload, for tests."""
    payload = {
        "registration_id": str(uuid.uuid4()), "status": "confirmed", "waitlist_position": None,
        "meeting": {"meeting_id": str(uuid.uuid4()), "title": "2. Landesnetzwerktreffen",
                    "starts_at": "2016-09-16T08:00:00+00:00", "ends_at": "2016-09-16T14:00:00+00:00",
                    "venue": {"name": "Regierungspräsidium Darmstadt", "room": "Ludwig-Bergsträßer-Saal"}},
        "participant": {"first_name": "Erika", "last_name": "Muster", "email": "erika@example.org",
                        "organisation": "Ausländerbehörde Gießen"},
    }
    payload.update(overrides)
    return payload


def access_changed_event(organiser_id: str, revision: int, *, active: bool = True, role: str = "organiser",
                         meeting_ids=(), not_before=None, changes=("meetings_changed",)) -> bytes:
    """The body of an ``organiser.access_changed`` message as the agenda publishes it, for tests."""
    from treffpunkt_shared.contracts import ORGANISER_ACCESS_CHANGED, encode, make_envelope
    from treffpunkt_shared.timeutil import utcnow
    return encode(make_envelope(ORGANISER_ACCESS_CHANGED, {
        "organiser_id": organiser_id, "revision": revision, "changed_at": utcnow(), "active": active,
        "role": role, "meeting_ids": list(meeting_ids), "not_before": not_before, "changes": list(changes),
    }, producer="agenda"))


# ------------------------------------------------------------------ finding personal data (erasure tests)

_SEARCHABLE_TYPES = ("text", "character varying", "character", "bytea", "json", "jsonb")


def _readable_views(value) -> list[str]:
    """The ways a stored value can be read: as it is, and, for a stored email, its decoded headers and
    parts (quoted-printable or base64 would hide a name from a plain search)."""
    if value is None:
        return []
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, (dict, list)):
        return [json.dumps(value, ensure_ascii=False)]
    if isinstance(value, bytes):
        views = [value.decode("utf-8", errors="replace")]
        if b"MIME-Version" in value or b"Content-Type:" in value:
            message = parse_mail(value)
            decoded = [f"{k}: {v}" for k, v in message.items()]
            for part in message.walk():
                if not part.is_multipart():
                    payload = part.get_payload(decode=True) or b""
                    decoded.append(payload.decode(part.get_content_charset() or "utf-8", errors="replace"))
            views.append("\n".join(decoded))
        return views
    return [str(value)]


def database_hits(engine, needle: str) -> list[str]:
    """Every ``table.column`` of a PostgreSQL database (all text, bytea and json columns, found through
    information_schema) whose value contains ``needle``, case-insensitively; one entry per row found."""
    import sqlalchemy as sa
    needle = needle.lower()
    hits = []
    with engine.connect() as conn:
        columns = conn.execute(sa.text(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN :types ORDER BY table_name, column_name")
            .bindparams(sa.bindparam("types", expanding=True)), {"types": list(_SEARCHABLE_TYPES)}).all()
        for table, column in columns:
            for (value,) in conn.execute(sa.text(f'SELECT "{column}" FROM "{table}"')):
                if any(needle in view.lower() for view in _readable_views(value)):
                    hits.append(f"{table}.{column}")
    return hits
