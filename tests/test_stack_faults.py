"""The local stack as real processes (gunicorn, workers) on RabbitMQ, PostgreSQL and an SMTP server.

End to end, then the faults: a notify worker SIGKILLed mid-run, RabbitMQ restarted mid-run, SMTP answering
4xx for a while and 5xx for one address, a malformed message injected behind the services' back.
"""
import re
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from treffpunkt_shared.testing import Broker, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from stack_support import running_stack  # noqa: E402

pytestmark = [pytest.mark.stack, pytest.mark.faults]


@pytest.fixture(scope="module")
def stack(smtp, amqp_url, tmp_path_factory):
    with running_stack("stack", amqp_url=amqp_url, smtp_port=smtp[1], log_dir=tmp_path_factory.mktemp("stack-logs"),
                       web_workers={"agenda": 1, "registration": 2, "notify": 1},
                       extra_env={"*": {"RETRY_DELAYS_MS": "500,1000,2000", "MAIL_RETRY_DELAYS_S": "1,1,2,2,3"},
                                  # every test client here is 127.0.0.1: the per-address limit would stop them
                                  "registration": {"RATE_LIMIT_PER_ADDRESS": "1000000"}}) as stack:
        yield stack


@pytest.fixture
def mail(smtp):
    handler, _ = smtp
    handler.temporary_failures_left = 0
    handler.fail_temporarily = False
    handler.refuse_for_good.clear()
    return handler


def open_meeting(stack, capacity=1000):
    auth = {"Authorization": f"Bearer {stack.token}"}
    agenda = stack.base_url("agenda")
    meeting = requests.post(f"{agenda}/api/meetings", headers=auth, json={
        # In the future: a meeting over for longer than RETENTION_DAYS has its participants erased (and their
        # pending mails with them) by the registration worker's retention job.
        "title": "2. Landesnetzwerktreffen", "starts_at": "2030-09-16T10:00:00", "ends_at": "2030-09-16T16:00:00",
        "venue": {"name": "Regierungspräsidium Darmstadt", "room": "Ludwig-Bergsträßer-Saal"},
        "theme": "Wissensmanagement", "capacity": capacity}, timeout=10).json()
    assert requests.post(f"{agenda}/api/meetings/{meeting['id']}/publish", headers=auth, timeout=10).ok
    url = f"{stack.base_url('registration')}/api/meetings/{meeting['id']}"
    wait_until(lambda: requests.get(url, timeout=5).status_code == 200, timeout=30, message="meeting known")
    return meeting["id"]


def register(stack, meeting_id, email, session=None, organisation="Ausländerbehörde Offenbach"):
    http = session or requests
    for attempt in range(20):
        try:
            r = http.post(f"{stack.base_url('registration')}/api/meetings/{meeting_id}/registrations", json={
                "first_name": "Erika", "last_name": "Muster", "email": email,
                "organisation": organisation, "privacy_consent": True}, timeout=10)
            if r.status_code < 500:
                return r
        except requests.ConnectionError:
            pass
        time.sleep(0.2 * (attempt + 1))
    raise AssertionError(f"registration of {email} never accepted")


def register_many(stack, meeting_id, emails, during=None, workers=16):
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(register, stack, meeting_id, e) for e in emails]
        if during:
            during()
        results = [f.result() for f in futures]
    assert all(r.status_code == 201 for r in results), {r.status_code for r in results}


def assert_each_got_exactly_one(handler, emails, timeout=120):
    wanted = set(emails)
    wait_until(lambda: wanted <= {a for m in list(handler.received) for a in m.rcpt_tos}, timeout=timeout,
               message="every participant's mail")
    time.sleep(1.5)  # give a duplicate the chance to show up
    counts = {e: len(handler.to(e)) for e in emails}
    assert [e for e, n in counts.items() if n != 1] == []


def test_a_registration_over_http_ends_in_one_opt_in_email_and_after_confirming_one_confirmation(stack, mail):
    meeting_id = open_meeting(stack)
    email = f"e2e-{uuid.uuid4().hex[:6]}@example.org"
    r = register(stack, meeting_id, email)
    assert r.status_code == 201 and r.json()["status"] == "pending"
    assert_each_got_exactly_one(mail, [email])
    [received] = mail.to(email)
    assert "2. Landesnetzwerktreffen" in received.message["Subject"]
    assert "Ludwig-Bergsträßer-Saal" in received.part("plain") and "16. September 2030" in received.part("html")
    link = re.search(r"(http://\S+/bestaetigen/[A-Za-z0-9_-]+)", received.part("plain")).group(1)
    assert link.startswith(stack.base_url("registration"))
    confirmed = requests.get(link, timeout=10)
    assert confirmed.status_code == 200 and "Ihre Anmeldung ist bestätigt" in confirmed.text
    wait_until(lambda: len(mail.to(email)) == 2, timeout=60, message="the confirmation mail")
    time.sleep(1.5)  # give a duplicate the chance to show up
    [_, confirmation] = mail.to(email)
    assert "/anmeldung/" in confirmation.part("plain")
    calendar = [p for p in confirmation.message.walk() if p.get_content_type() == "text/calendar"]
    assert calendar and "METHOD:REQUEST" in calendar[0].get_content()


def test_300_concurrent_registrations_for_100_places_each_get_exactly_one_mail_of_the_right_kind(stack, mail):
    """The opening rush: 100 places held, 200 on the waiting list in order, at most 9 per authority, and each
    participant's one opt-in mail says which (a place reserved, or the waiting-list position)."""
    import sqlalchemy as sa
    meeting_id = open_meeting(stack, capacity=100)
    engine = sa.create_engine(stack.database_url("registration"))
    with engine.begin() as tx:
        tx.execute(sa.text("UPDATE meetings SET authority_quota = 9 WHERE id = :id"), {"id": meeting_id})
    engine.dispose()
    emails = [f"rush-{i}-{uuid.uuid4().hex[:4]}@example.org" for i in range(300)]
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(lambda ie: register(stack, meeting_id, ie[1], organisation=f"Ausländerbehörde {ie[0] % 12}"),
                                enumerate(emails)))
    assert {r.status_code for r in answers} == {201}
    outcome = {e: r.json() for e, r in zip(emails, answers)}
    assert sum(o["has_place"] for o in outcome.values()) == 100
    assert sorted(o["waitlist_position"] for o in outcome.values() if not o["has_place"]) == list(range(1, 201))
    assert_each_got_exactly_one(mail, emails, timeout=180)
    for email in emails:
        [received] = mail.to(email)
        text = received.part("plain")
        if outcome[email]["has_place"]:
            assert "ein Platz für Sie reserviert" in text and "Warteliste" not in text
        else:
            assert f"Warteliste auf Platz {outcome[email]['waitlist_position']}." in text


def test_a_notify_worker_killed_mid_run_still_sends_every_email_exactly_once(stack, mail):
    meeting_id = open_meeting(stack)
    emails = [f"kill-{i}-{uuid.uuid4().hex[:4]}@example.org" for i in range(500)]

    def kill_and_restart():
        wait_until(lambda: len(mail.received) > 30, timeout=60, message="mails flowing")
        stack.kill("notify-worker")
        time.sleep(1)
        stack.start_process("notify-worker")

    register_many(stack, meeting_id, emails, during=kill_and_restart)
    assert_each_got_exactly_one(mail, emails)


def test_rabbitmq_restarted_mid_run_loses_no_registration_and_sends_no_email_twice(stack, mail):
    meeting_id = open_meeting(stack)
    emails = [f"rmq-{i}-{uuid.uuid4().hex[:4]}@example.org" for i in range(300)]

    def restart_broker():
        time.sleep(1)
        try:
            subprocess.run(["rabbitmqctl", "stop_app"], check=True, capture_output=True, timeout=60)
            time.sleep(2)
        finally:
            subprocess.run(["rabbitmqctl", "start_app"], check=True, capture_output=True, timeout=120)
            subprocess.run(["rabbitmqctl", "await_startup"], capture_output=True, timeout=120)

    register_many(stack, meeting_id, emails, during=restart_broker)
    assert_each_got_exactly_one(mail, emails, timeout=180)


def test_smtp_4xx_for_a_while_delays_mails_and_5xx_dead_letters_only_that_address(stack, mail, amqp_url):
    meeting_id = open_meeting(stack)
    mail.fail_temporarily = True
    refused = f"refused-{uuid.uuid4().hex[:6]}@example.org"
    mail.refuse_for_good.add(refused)
    emails = [f"smtp-{i}-{uuid.uuid4().hex[:4]}@example.org" for i in range(20)]
    register_many(stack, meeting_id, emails + [refused])
    time.sleep(2)
    assert not any(mail.to(e) for e in emails)
    mail.fail_temporarily = False
    assert_each_got_exactly_one(mail, emails, timeout=60)
    assert mail.to(refused) == []
    broker = Broker(amqp_url)
    try:
        method, props, body = broker.get(f"{stack.namespace}.notify.dead", timeout=20)
        assert refused.encode() in body and "550" in props.headers["x-dead-reason"]
    finally:
        broker.close()
    failed = requests.get(f"{stack.base_url('notify')}/api/deliveries?status=failed",
                          headers={"Authorization": f"Bearer {stack.token}"}, timeout=10).json()["deliveries"]
    assert [d["recipient"] for d in failed] == [refused]


def test_a_malformed_message_is_dead_lettered_with_its_reason_and_the_next_good_one_is_processed(
        stack, mail, amqp_url):
    broker = Broker(amqp_url)
    try:
        broker.publish_raw(f"{stack.namespace}.events", "registration.confirmed", b"\x00garbage",
                           content_type="application/json", message_id="garbage-1")
        method, props, body = broker.get(f"{stack.namespace}.notify.dead", timeout=20)
        assert body == b"\x00garbage" and "not JSON" in props.headers["x-dead-reason"]
    finally:
        broker.close()
    meeting_id = open_meeting(stack)
    email = f"after-garbage-{uuid.uuid4().hex[:6]}@example.org"
    register(stack, meeting_id, email)
    assert_each_got_exactly_one(mail, [email])
