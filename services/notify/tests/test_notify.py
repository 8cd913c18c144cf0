"""Notify against real RabbitMQ, PostgreSQL and an SMTP server (aiosmtpd)."""
import threading
import uuid

import pytest
import sqlalchemy as sa

from treffpunkt_notify.app import MIGRATIONS
from treffpunkt_notify.config import Settings
from treffpunkt_notify.mail_queue import MailSender, queue_mail
from treffpunkt_notify.mailer import SmtpMailer, _CommitPointSMTP
from treffpunkt_notify.models import mails, outbox
from treffpunkt_notify.worker import worker_parts
from treffpunkt_shared.contracts import REGISTRATION_CONFIRMED, REGISTRATION_WAITLISTED, encode, make_envelope
from treffpunkt_shared.db import make_engine, upgrade_database
from treffpunkt_shared.testing import registration_payload, wait_until


@pytest.fixture
def settings(postgres_url_for, amqp_url, namespace, smtp_server):
    return Settings(database_url=postgres_url_for("notify"), amqp_url=amqp_url, namespace=namespace,
                    smtp_host=smtp_server.host, smtp_port=smtp_server.port, mail_retry_delays_s=(0, 0, 0),
                    retry_delays_ms=(200, 400))


@pytest.fixture
def engine(settings):
    engine = make_engine(settings.database_url)
    upgrade_database(engine, MIGRATIONS)
    yield engine
    engine.dispose()


@pytest.fixture
def worker(settings, engine):
    parts = worker_parts(settings, engine)
    for part in parts.values():
        threading.Thread(target=part.run, daemon=True).start()
    assert parts["consumer"].ready.wait(15)
    yield parts
    for part in parts.values():
        part.stop()


def publish(broker, settings, contract=REGISTRATION_CONFIRMED, envelope=None, email=None, **payload):
    if envelope is None:
        data = registration_payload(**payload)
        if email:
            data["participant"]["email"] = email
        envelope = make_envelope(contract, data, producer="registration")
    broker.publish_raw(f"{settings.namespace}.events", contract.type, encode(envelope),
                       content_type="application/json", message_id=envelope["id"])
    return envelope


def mail_rows(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(mails)).all()


def test_a_confirmed_registration_gets_one_german_and_english_email_with_the_meeting_details(
        worker, settings, broker, smtp_server):
    publish(broker, settings)
    [mail] = smtp_server.handler.wait_for(1)
    msg = mail.message
    assert mail.rcpt_tos == ["erika@example.org"]
    assert "Anmeldebestätigung" in msg["Subject"] and "2. Landesnetzwerktreffen" in msg["Subject"]
    assert msg["To"].addresses[0].display_name == "Erika Muster"
    text, html = mail.part("plain"), mail.part("html")
    for part in (text, html):
        assert "Guten Tag Erika Muster" in part and "Dear Erika Muster" in part
        assert "16. September 2016" in part and "10:00 Uhr" in part
        assert "Ludwig-Bergsträßer-Saal" in part and "Regierungspräsidium Darmstadt" in part
    assert '<html lang="de">' in html and "<h1" in html


def test_a_waitlisted_registration_gets_the_waiting_list_email_with_its_position(worker, settings, broker,
                                                                                  smtp_server):
    publish(broker, settings, REGISTRATION_WAITLISTED, status="waitlisted", waitlist_position=4)
    [mail] = smtp_server.handler.wait_for(1)
    assert "Warteliste" in mail.message["Subject"] and "Platz 4" in mail.part("plain")


def test_a_redelivered_or_republished_event_sends_no_second_email(worker, settings, broker, smtp_server, engine):
    envelope = publish(broker, settings)
    publish(broker, settings, envelope=envelope)
    marker = publish(broker, settings, email="marker@example.org")
    wait_until(lambda: smtp_server.handler.to("marker@example.org"), message="marker mail")
    assert len(smtp_server.handler.to("erika@example.org")) == 1
    assert len(mail_rows(engine)) == 2


def test_temporary_smtp_failures_are_retried_and_the_mail_arrives_once(worker, settings, broker, smtp_server,
                                                                       engine):
    smtp_server.handler.temporary_failures_left = 3
    publish(broker, settings)
    wait_until(lambda: smtp_server.handler.to("erika@example.org"), timeout=30, message="mail after 451s")
    [row] = mail_rows(engine)
    assert row.status == "sent" and row.attempts == 4
    assert len(smtp_server.handler.to("erika@example.org")) == 1


def test_a_permanently_refused_address_is_failed_and_dead_lettered_while_others_arrive(
        worker, settings, broker, smtp_server, engine):
    smtp_server.handler.refuse_for_good.add("gone@example.org")
    publish(broker, settings, email="gone@example.org")
    publish(broker, settings, email="fine@example.org")
    wait_until(lambda: smtp_server.handler.to("fine@example.org"), message="good mail")
    method, props, body = broker.get(f"{settings.namespace}.notify.dead", timeout=15)
    assert "550" in props.headers["x-dead-reason"] and b"gone@example.org" in body
    failed = [r for r in mail_rows(engine) if r.recipient == "gone@example.org"]
    assert failed[0].status == "failed" and failed[0].attempts == 1


def test_an_event_whose_template_data_is_missing_is_dead_lettered_not_sent(worker, settings, broker, smtp_server):
    envelope = make_envelope(REGISTRATION_WAITLISTED, registration_payload(status="waitlisted", waitlist_position=3),
                             producer="registration")
    envelope["payload"]["waitlist_position"] = None  # as an older or buggy producer might send it
    publish(broker, settings, REGISTRATION_WAITLISTED, envelope=envelope)
    publish(broker, settings, email="next@example.org")
    wait_until(lambda: smtp_server.handler.to("next@example.org"), message="next mail")
    method, props, body = broker.get(f"{settings.namespace}.notify.dead", timeout=15)
    assert "waitlist_position" in props.headers["x-dead-reason"]
    assert not smtp_server.handler.to("erika@example.org")


def test_line_breaks_in_a_name_cannot_inject_headers_or_recipients(worker, settings, broker, smtp_server):
    payload = registration_payload()
    payload["participant"]["last_name"] = "Muster\r\nBcc: victim@example.org"
    publish(broker, settings, envelope=make_envelope(REGISTRATION_CONFIRMED, payload, producer="x"))
    [mail] = smtp_server.handler.wait_for(1)
    assert mail.rcpt_tos == ["erika@example.org"]
    headers = mail.data.split(b"\r\n\r\n", 1)[0]
    assert mail.message["Bcc"] is None and b"\r\nBcc:" not in headers


def test_a_sender_killed_before_the_commit_leaves_no_delivered_mail(smtp_server):
    smtp = _CommitPointSMTP(smtp_server.host, smtp_server.port)

    def crash():
        raise SystemExit("killed between body and commit")

    with pytest.raises(SystemExit):
        smtp.send_with_commit("a@example.org", "b@example.org", b"Subject: x\r\n\r\nbody\r\n", crash)
    smtp.sock.close()  # the process is gone: the server never sees the final "."
    import time
    time.sleep(0.5)
    assert smtp_server.handler.received == []
    mailer = SmtpMailer(smtp_server.host, smtp_server.port)
    committed = []
    mailer.send("a@example.org", "b@example.org", b"Subject: x\r\n\r\nbody\r\n", lambda: committed.append(1))
    assert committed == [1] and len(smtp_server.handler.wait_for(1)) == 1


def test_senders_side_by_side_send_each_mail_once_even_when_every_first_attempt_fails(settings, engine,
                                                                                    smtp_server):
    """A failed attempt is recorded while the sender still holds the mail's lock: were the lock released
    first, another sender could send the mail and the failure record then reset it to pending (a second
    copy) or miscount its attempts."""
    smtp_server.handler.fail_first_attempt = True
    recipients = [f"p{i}@example.org" for i in range(120)]
    with engine.begin() as tx:
        for i, address in enumerate(recipients):
            queue_mail(tx, logical_key=f"test:{i}", kind="registration_confirmed", source_message_id=str(uuid.uuid4()),
                       source_body=b"{}", correlation_id=None, recipient=address,
                       message=f"Subject: {i}\r\nTo: {address}\r\n\r\nHallo\r\n".encode())
    senders = [MailSender(engine, SmtpMailer(smtp_server.host, smtp_server.port), sender_address=settings.mail_from,
                          retry_delays_s=(0, 0, 0), dead_letter_queue="unused", idle_seconds=0.01)
               for _ in range(4)]
    threads = [threading.Thread(target=s.run, daemon=True) for s in senders]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: all(smtp_server.handler.to(a) for a in recipients), timeout=60, message="every mail")
        wait_until(lambda: {r.status for r in mail_rows(engine)} == {"sent"}, timeout=10, message="all sent")
    finally:
        for s in senders:
            s.stop()
        for t in threads:
            t.join(timeout=10)
    assert [a for a in recipients if len(smtp_server.handler.to(a)) != 1] == []
    assert sorted({r.attempts for r in mail_rows(engine)}) == [2]
