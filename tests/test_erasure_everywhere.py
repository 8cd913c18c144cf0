"""The fault-matrix line "erasure of a participant: 0 hits for a canary value in all databases, outbox, dead
letters and logs", across services: a participant registers through the real registration app, the relays and
the notify worker run on the real broker, the emails go out to a real SMTP server, the participant erases
their data through the personal link, and then no trace of the name or email is left in either service's
database (every text, bytea and json column, outboxes included), on any queue of the broker (dead letters
included) or in any log line written meanwhile."""
from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from treffpunkt_notify.app import MIGRATIONS as NOTIFY_MIGRATIONS
from treffpunkt_notify.config import Settings as NotifySettings
from treffpunkt_notify.worker import worker_parts
from treffpunkt_registration.app import MIGRATIONS as REGISTRATION_MIGRATIONS
from treffpunkt_registration.app import create_app
from treffpunkt_registration.config import Settings as RegistrationSettings
from treffpunkt_registration.meetings import make_handler
from treffpunkt_registration.models import meetings as registration_meetings
from treffpunkt_registration.models import outbox as registration_outbox
from treffpunkt_shared.contracts import MEETING_PUBLISHED, encode, make_envelope, ENVELOPE_CONTENT_TYPE
from treffpunkt_shared.db import make_engine, upgrade_database
from treffpunkt_shared.logs import JsonFormatter
from treffpunkt_shared.messaging.consumer import ServiceConsumer
from treffpunkt_shared.messaging.relay import OutboxRelay
from treffpunkt_shared.messaging.topology import topology_for
from treffpunkt_shared.testing import database_hits, wait_until

import sqlalchemy as sa

SECRET = "erasure-test-secret-" + "e" * 32
RETRY_DELAYS_MS = (200, 400)
# Lower case and ASCII: the search is case-insensitive, and nothing has to be unescaped to find it.
CANARY = "zqkanarie" + uuid.uuid4().hex[:10]
EMAIL = f"{CANARY}@example.org"


def _meeting_event(meeting_id: str) -> bytes:
    start = (datetime.now(timezone.utc) + timedelta(days=30)).replace(hour=8, minute=0, second=0, microsecond=0)
    payload = {"meeting_id": meeting_id, "title": "2. Landesnetzwerktreffen", "series": "Landesnetzwerktreffen",
               "number": 2, "status": "published", "starts_at": start.isoformat(),
               "ends_at": (start + timedelta(hours=6)).isoformat(), "timezone": "Europe/Berlin",
               "host": "Regierungspräsidium Darmstadt", "description": "", "theme": "Wissensmanagement",
               "venue": {"name": "Regierungspräsidium Darmstadt", "address": "Luisenplatz 2, 64283 Darmstadt",
                         "room": "Ludwig-Bergsträßer-Saal"},
               "capacity": 60, "registration_opens_at": None, "registration_closes_at": None, "revision": 1}
    MEETING_PUBLISHED.load_payload(json.loads(json.dumps(payload)))  # a valid event, or the test is wrong
    return encode(make_envelope(MEETING_PUBLISHED, payload, producer="agenda"))


def _start(parts: dict) -> list[threading.Thread]:
    threads = [threading.Thread(target=part.run, daemon=True, name=f"erasure-{name}") for name, part in parts.items()]
    for t in threads:
        t.start()
    return threads


def _stop(parts: dict, threads: list[threading.Thread]) -> None:
    for part in parts.values():
        part.stop()
    for t in threads:
        t.join(15)


def _broker_hits(broker, queue_names: list[str], needle: str) -> dict[str, int]:
    """Read every message left on the namespace's queues (work, retry and dead-letter queues)."""
    hits = {}
    for name in queue_names:
        for _method, props, body in broker.drain(name):
            text = body.decode("utf-8", errors="replace") + json.dumps(props.headers or {}, default=str)
            if needle in text.lower():
                hits[name] = hits.get(name, 0) + 1
    return hits


@pytest.fixture
def stack(postgres_url_for, amqp_url, namespace, smtp_server):
    registration_settings = RegistrationSettings(
        database_url=postgres_url_for("registration"), amqp_url=amqp_url, namespace=namespace,
        session_secret=SECRET, public_base_url="http://anmeldung.test", retry_delays_ms=RETRY_DELAYS_MS)
    notify_settings = NotifySettings(
        database_url=postgres_url_for("notify"), amqp_url=amqp_url, namespace=namespace, session_secret=SECRET,
        smtp_host=smtp_server.host, smtp_port=smtp_server.port, mail_retry_delays_s=(0, 0),
        retry_delays_ms=RETRY_DELAYS_MS, registration_base_url="http://anmeldung.test", scheduler_interval_s=1)
    registration_engine = make_engine(registration_settings.database_url)
    notify_engine = make_engine(notify_settings.database_url)
    upgrade_database(registration_engine, REGISTRATION_MIGRATIONS)
    upgrade_database(notify_engine, NOTIFY_MIGRATIONS)
    topology = topology_for(registration_settings)
    parts = {
        "registration-relay": OutboxRelay(registration_engine, registration_outbox, amqp_url, topology),
        "registration-consumer": ServiceConsumer(amqp_url, topology, "registration", make_handler(registration_engine)),
        **{f"notify-{k}": v for k, v in worker_parts(notify_settings, notify_engine).items()},
    }
    threads = _start(parts)
    assert parts["registration-consumer"].ready.wait(15) and parts["notify-consumer"].ready.wait(15)
    app = create_app(registration_settings, engine=registration_engine)
    yield {"app": app, "registration_engine": registration_engine, "notify_engine": notify_engine,
           "notify_settings": notify_settings,
           "parts": parts, "threads": threads,
           "queues": sorted({q.name for q in topology.all_queues()} |
                            {q.name for q in topology_for(notify_settings).all_queues()})}
    _stop(parts, threads)
    registration_engine.dispose()
    notify_engine.dispose()


def test_after_erasure_no_service_database_queue_or_log_line_holds_the_participants_name_or_email(
        stack, broker, smtp_server, caplog):
    caplog.set_level(logging.DEBUG)
    registration_engine, notify_engine = stack["registration_engine"], stack["notify_engine"]
    client = stack["app"].test_client()

    # The agenda publishes a meeting; registration learns it from the broker.
    meeting_id = str(uuid.uuid4())
    broker.publish_raw(f"{broker_namespace(stack)}.events", "meeting.published", _meeting_event(meeting_id),
                       content_type=ENVELOPE_CONTENT_TYPE, message_id=str(uuid.uuid4()))
    wait_until(lambda: _has_meeting(registration_engine, meeting_id), 20, message="meeting in registration")

    # A participant registers with the canary in name and email, and more. (The test listens in on the
    # registration events for the opt-in link; its own listening queue is deleted before the search.)
    probe = broker.probe(broker_namespace(stack), "registration.*")
    r = client.post(f"/api/meetings/{meeting_id}/registrations", json={
        "first_name": f"{CANARY}vorname", "last_name": f"{CANARY}nachname", "email": EMAIL,
        "organisation": "Ausländerbehörde Gießen", "function": "Sachgebietsleitung", "phone": "+49 641 123456",
        "dietary_needs": f"vegetarisch, {CANARY}", "privacy_consent": True})
    assert r.status_code == 201, r.json
    registration_id = r.json["id"]
    _m, _p, body = broker.get(probe, 20)
    confirm_url = json.loads(body)["payload"]["links"]["confirm_url"]

    # The participant follows the opt-in link; the emails go out and notify keeps its copies.
    confirmed = client.get(confirm_url.replace("http://anmeldung.test", ""))
    assert confirmed.status_code == 303
    manage_token = confirmed.headers["Location"].split("/anmeldung/")[1].split("?")[0]
    broker.get(probe, 20)  # registration.confirmed is on its way to notify, too
    # (notify marks a mail sent just before the SMTP server has it all: wait for the server's count, too.)
    wait_until(lambda: _processed(notify_engine, "registration.confirmed") and _all_mails_sent(notify_engine)
               and len(smtp_server.handler.to(EMAIL)) >= _mail_count(notify_engine), 30,
               message="the participant's emails sent")
    mails_before = len(smtp_server.handler.to(EMAIL))
    broker.channel.queue_delete(probe)
    # A dead letter holding the participant (as a rejected event of theirs would be), already on the broker.
    notify_topology = topology_for(stack["notify_settings"])
    broker.publish_raw(notify_topology.direct.name, notify_topology.dead_letter_queue_name("notify"), body,
                       content_type=ENVELOPE_CONTENT_TYPE, message_id=str(uuid.uuid4()),
                       headers={"x-dead-reason": "invalid payload"})

    # Before erasure the search finds the canary in both services (so it can fail afterwards).
    assert "registrations.first_name" in database_hits(registration_engine, CANARY)
    notify_before = database_hits(notify_engine, CANARY)
    assert notify_before, "notify holds no copy of the participant before erasure: the search would prove nothing"

    # The participant erases their data through the personal link, with the confirmation step.
    page = client.get(f"/anmeldung/{manage_token}/loeschen")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    erased = client.post(f"/anmeldung/{manage_token}/loeschen", data={"csrf_token": csrf, "confirm": "yes"})
    assert erased.status_code == 303

    # participant.erased travels to notify; wait until its inbox has it (if it never does, the search below
    # says what is left), then stop everything so nothing moves while the search looks.
    try:
        wait_until(lambda: _processed(notify_engine, "participant.erased") and _dead_letters_scrubbed(notify_engine),
                   30)
        notify_handled_erasure = True
    except AssertionError:
        notify_handled_erasure = False
    _stop(stack["parts"], stack["threads"])
    mails_after = len(smtp_server.handler.to(EMAIL))

    left = {
        "registration database": database_hits(registration_engine, CANARY),
        "notify database": database_hits(notify_engine, CANARY),
        "broker queues": _broker_hits(broker, stack["queues"], CANARY),
        "log lines": [line for line in _log_lines(caplog) if CANARY in line.lower()],
    }
    assert left == {"registration database": [], "notify database": [], "broker queues": {}, "log lines": []}
    assert notify_handled_erasure
    # What the search looked at was really there: both outboxes, the dead-letter queues, real log lines.
    for engine in (registration_engine, notify_engine):
        assert "outbox" in sa.inspect(engine).get_table_names()
    assert any(name.endswith(".notify.dead") for name in stack["queues"])
    assert any(name.endswith(".registration.dead") for name in stack["queues"])
    assert any('"participant_erased"' in line and registration_id in line for line in _log_lines(caplog))
    assert mails_after == mails_before  # no mail after the erasure


def _dead_letters_scrubbed(engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM erased_registrations "
                                    "WHERE dead_letters_scrubbed_at IS NOT NULL")).scalar() == 1


def broker_namespace(stack) -> str:
    return stack["queues"][0].split(".")[0]


def _has_meeting(engine, meeting_id) -> bool:
    with engine.connect() as conn:
        return conn.execute(sa.select(registration_meetings.c.id).where(
            registration_meetings.c.id == meeting_id)).first() is not None


def _processed(engine, message_type: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT 1 FROM processed_messages WHERE type = :t"),
                            {"t": message_type}).first() is not None


def _all_mails_sent(engine) -> bool:
    with engine.connect() as conn:
        statuses = conn.execute(sa.text("SELECT status FROM mails")).scalars().all()
    return bool(statuses) and all(status == "sent" for status in statuses)


def _mail_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM mails")).scalar()


# The test's SMTP server (aiosmtpd) logs what it receives: that is the mailbox's side, outside treffpunkt.
_OUTSIDE = ("mail.log",)


def _log_lines(caplog) -> list[str]:
    """Every line the processes' loggers wrote meanwhile, as the JSON formatter writes it to stderr."""
    formatter = JsonFormatter()
    return [formatter.format(record) for record in caplog.records if not record.name.startswith(_OUTSIDE)]
