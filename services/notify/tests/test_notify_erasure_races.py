"""An erasure racing the transactions that queue mails: what they write after it committed is never sent,
and the scheduler's sweep deletes it.

Each race is played out deterministically with the real code: the events are handed to notify's handlers
directly (no broker), the erasure commits at the moment a racing transaction has read what it needs and not yet
committed (or where that is the point, its outcome is put in place), then the sender and the scheduler run and
aiosmtpd shows what went out."""
from __future__ import annotations

import dataclasses
import json
import logging
import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from notify_events import MEETING_ID, agenda, meeting_snapshot, meeting_state, registration
from treffpunkt_notify import catalogue, handlers
from treffpunkt_notify.handlers import make_handler
from treffpunkt_notify.mail_queue import MailSender
from treffpunkt_notify.mailer import SmtpMailer
from treffpunkt_notify.models import erased_registrations, mails, outbox, recipients
from treffpunkt_notify.notices import warn_organisers
from treffpunkt_notify.scheduler import Scheduler
from treffpunkt_shared.contracts import (AGENDA_PUBLISHED, ENVELOPE_CONTENT_TYPE, MEETING_PUBLISHED, PARTICIPANT_ERASED,
                                         REGISTRATION_CONFIRMED, REGISTRATION_UPDATED, encode, make_envelope,
                                         parse_envelope)
from treffpunkt_shared.logs import JsonFormatter
from treffpunkt_shared.testing import database_hits, parse_mail, wait_until
from treffpunkt_shared.timeutil import utcnow

ORGANISERS = (("Lea Beispiel", "lea@ministerium.example.org"),)


@pytest.fixture
def settings(notify_settings):
    return dataclasses.replace(notify_settings, mail_retry_delays_s=())


@pytest.fixture
def canary() -> str:
    # Lower case and ASCII: database_hits searches case-insensitively, nothing has to be unescaped.
    return "zqkanarie" + uuid.uuid4().hex[:10]


def consume(engine, settings, contract, payload: dict) -> None:
    """What the worker's consumer does with the event, without the broker."""
    envelope = make_envelope(contract, payload, producer="test")
    make_handler(engine, settings)(*parse_envelope(encode(envelope), ENVELOPE_CONTENT_TYPE))


def erase(engine, settings, reg: dict) -> None:
    consume(engine, settings, PARTICIPANT_ERASED, {"registration_id": reg["registration_id"], "meeting_id": MEETING_ID,
                                                   "erased_at": utcnow().isoformat(), "reason": "request"})


def confirmed(engine, settings, *regs: dict, organisers=()) -> None:
    consume(engine, settings, MEETING_PUBLISHED, meeting_state(organisers=organisers))
    for reg in regs:
        consume(engine, settings, REGISTRATION_CONFIRMED, reg)


def written_back_by_a_racing_event(engine, settings, monkeypatch, reg: dict) -> None:
    """A second worker handled an event of ``reg`` and checked for its tombstone before the erasure committed:
    its recipients row and mail land after the erasure."""
    monkeypatch.setattr(handlers, "is_erased", lambda tx, registration_id: False)
    consume(engine, settings, REGISTRATION_UPDATED, {**reg, "sequence": 2})
    monkeypatch.undo()


def sender(engine, settings, smtp_server, mailer=None) -> MailSender:
    return MailSender(engine, mailer or SmtpMailer(smtp_server.host, smtp_server.port),
                      sender_address=settings.mail_from, retry_delays_s=settings.mail_retry_delays_s,
                      dead_letter_queue="notify.dead", on_failed=warn_organisers(settings))


def send_all(engine, settings, smtp_server) -> None:
    mail_sender = sender(engine, settings, smtp_server)
    while mail_sender.send_next():
        pass
    mail_sender.mailer.close()


def rows_of(engine, reg: dict) -> dict:
    rid = reg["registration_id"]
    with engine.connect() as conn:
        return {"mails": conn.execute(sa.select(sa.func.count()).where(mails.c.registration_id == rid)).scalar_one(),
                "recipients": conn.execute(sa.select(sa.func.count()).where(
                    recipients.c.registration_id == rid)).scalar_one()}


NONE_LEFT = {"mails": 0, "recipients": 0}


def test_a_mail_queued_by_a_fanout_chunk_that_raced_an_erasure_is_never_sent_and_is_swept(
        settings, notify_engine, smtp_server, canary):
    erased = registration(email=f"{canary}@example.org", last=canary)
    kept = registration(email="keep@example.org")
    confirmed(notify_engine, settings, erased, kept)
    consume(notify_engine, settings, AGENDA_PUBLISHED, {"meeting": meeting_snapshot(), "agenda": agenda()})

    scheduler = Scheduler(notify_engine, settings)
    render = scheduler._fanout_mail

    def erased_while_the_chunk_renders(kind, payload, recipient):
        # The chunk's transaction has read this recipients row and is about to queue its mail.
        if recipient.registration_id == erased["registration_id"]:
            erase(notify_engine, settings, erased)
        return render(kind, payload, recipient)

    scheduler._fanout_mail = erased_while_the_chunk_renders
    assert scheduler.expand_fanouts() == 2
    assert rows_of(notify_engine, erased) == {"mails": 1, "recipients": 0}  # the race left its mail behind

    send_all(notify_engine, settings, smtp_server)
    assert len(smtp_server.handler.to("keep@example.org")) == 2  # confirmation and agenda
    assert smtp_server.handler.to(f"{canary}@example.org") == []
    assert scheduler.run_once()["erasures_swept"] == 1
    assert rows_of(notify_engine, erased) == NONE_LEFT
    assert database_hits(notify_engine, canary) == []


def test_a_registration_event_that_passed_the_erasure_check_before_the_erasure_committed_brings_nothing_back(
        settings, notify_engine, smtp_server, canary, monkeypatch):
    erased = registration(email=f"{canary}@example.org", last=canary)
    kept = registration(email="keep@example.org")
    confirmed(notify_engine, settings, erased, kept)
    erase(notify_engine, settings, erased)
    written_back_by_a_racing_event(notify_engine, settings, monkeypatch, erased)
    assert rows_of(notify_engine, erased) == {"mails": 1, "recipients": 1}  # what the race leaves

    send_all(notify_engine, settings, smtp_server)
    assert len(smtp_server.handler.to("keep@example.org")) == 1
    assert smtp_server.handler.to(f"{canary}@example.org") == []
    assert Scheduler(notify_engine, settings).run_once()["erasures_swept"] == 2
    assert rows_of(notify_engine, erased) == NONE_LEFT
    assert database_hits(notify_engine, canary) == []


def test_the_sweep_deletes_only_what_erased_registrations_left_and_logs_ids_and_counts_but_no_personal_data(
        settings, notify_engine, smtp_server, canary, monkeypatch, caplog):
    erased = registration(email=f"{canary}@example.org", last=canary)
    sent_to, pending_for = registration(email="sent@example.org"), registration(email="pending@example.org")
    confirmed(notify_engine, settings, erased, sent_to, pending_for)
    send_all(notify_engine, settings, smtp_server)
    consume(notify_engine, settings, REGISTRATION_UPDATED, {**pending_for, "sequence": 2})  # queued, not sent
    erase(notify_engine, settings, erased)
    written_back_by_a_racing_event(notify_engine, settings, monkeypatch, erased)

    def others() -> tuple:
        with notify_engine.connect() as conn:
            return (conn.execute(sa.select(mails.c.id, mails.c.registration_id, mails.c.status).where(
                        mails.c.registration_id != erased["registration_id"]).order_by(mails.c.id)).all(),
                    conn.execute(sa.select(recipients).where(
                        recipients.c.registration_id != erased["registration_id"])
                        .order_by(recipients.c.registration_id)).all())

    before = others()
    assert sorted(status for _, _, status in before[0]) == ["pending", "sent", "sent"]
    scheduler = Scheduler(notify_engine, settings)
    with caplog.at_level(logging.INFO, logger="treffpunkt.notify.erasure"):
        rounds = [scheduler.run_once(), scheduler.run_once()]
    assert rows_of(notify_engine, erased) == NONE_LEFT
    assert others() == before
    assert [done["erasures_swept"] for done in rounds] == [2, 0]

    [swept] = [r for r in caplog.records if r.getMessage() == "erased_registrations_swept"]
    assert (swept.registration_ids, swept.mails_deleted, swept.recipients_deleted) == \
        ([erased["registration_id"]], 1, 1)
    line = JsonFormatter().format(swept)
    assert canary not in line and "@" not in line


def test_a_scheduler_sweeps_every_tombstone_in_its_first_round_and_then_only_those_of_the_last_day(
        settings, notify_engine, monkeypatch):
    long_ago, lately = registration(email="long-ago@example.org"), registration(email="lately@example.org")
    confirmed(notify_engine, settings, long_ago, lately)
    running = Scheduler(notify_engine, settings)
    running.run_once()  # the round after its start
    for reg in (long_ago, lately):
        erase(notify_engine, settings, reg)
        written_back_by_a_racing_event(notify_engine, settings, monkeypatch, reg)
    with notify_engine.begin() as tx:  # erased two days ago, its leftovers never swept (no scheduler ran)
        tx.execute(erased_registrations.update().values(erased_at=utcnow() - timedelta(days=2)).where(
            erased_registrations.c.registration_id == long_ago["registration_id"]))

    running.run_once()
    assert (rows_of(notify_engine, long_ago), rows_of(notify_engine, lately)) == \
        ({"mails": 1, "recipients": 1}, NONE_LEFT)
    Scheduler(notify_engine, settings).run_once()  # a worker (re)started
    assert rows_of(notify_engine, long_ago) == NONE_LEFT


class ErasedWhileSending(SmtpMailer):
    """``reg`` is erased after the sender claimed its mail: before the SMTP conversation, or with the body on the
    wire just before the sender commits "sent" (``in_data``). The erasure did not see the mail (a transaction
    that raced it queued the mail after the erasure's delete), so all it still has to commit is the tombstone."""

    def __init__(self, smtp_server, engine, reg: dict, *, in_data: bool):
        super().__init__(smtp_server.host, smtp_server.port)
        self.engine, self.reg, self.in_data = engine, reg, in_data

    def erased(self) -> None:
        if self.reg is not None:
            with self.engine.begin() as tx:
                tx.execute(erased_registrations.insert().values(registration_id=self.reg["registration_id"],
                                                                erased_at=utcnow()))
            self.reg = None

    def send(self, sender, recipient, message, commit):
        if not self.in_data:
            self.erased()
        super().send(sender, recipient, message, (lambda: (self.erased(), commit())) if self.in_data else commit)


def test_a_mail_claimed_just_before_its_participant_was_erased_is_withdrawn_before_the_final_dot(
        settings, notify_engine, smtp_server, canary, caplog):
    erased = registration(email=f"{canary}@example.org", last=canary)
    confirmed(notify_engine, settings, erased)
    mail_sender = sender(notify_engine, settings, smtp_server,
                         ErasedWhileSending(smtp_server, notify_engine, erased, in_data=True))
    with caplog.at_level(logging.INFO, logger="treffpunkt.notify.sender"):
        assert mail_sender.send_next() is True
    assert smtp_server.handler.received == []
    assert rows_of(notify_engine, erased)["mails"] == 0
    assert "mail_withdrawn" in [r.getMessage() for r in caplog.records]

    # The abandoned connection is gone; the next mail goes out over a new one.
    kept = registration(email="keep@example.org")
    consume(notify_engine, settings, REGISTRATION_CONFIRMED, kept)
    assert mail_sender.send_next() is True
    assert len(smtp_server.handler.to("keep@example.org")) == 1
    mail_sender.mailer.close()


def test_a_mail_that_fails_for_good_after_its_participant_was_erased_leaves_no_dead_letter_and_no_warning(
        settings, notify_engine, smtp_server, canary):
    erased = registration(email=f"{canary}@example.org", last=canary)
    confirmed(notify_engine, settings, erased, organisers=ORGANISERS)
    smtp_server.handler.refuse_for_good.add(f"{canary}@example.org")
    mail_sender = sender(notify_engine, settings, smtp_server,
                         ErasedWhileSending(smtp_server, notify_engine, erased, in_data=False))
    assert mail_sender.send_next() is True
    mail_sender.mailer.close()
    assert rows_of(notify_engine, erased)["mails"] == 0  # neither the mail nor a warning about it
    with notify_engine.connect() as conn:
        assert conn.execute(sa.select(outbox.c.seq).where(outbox.c.destination == "dead-letter")).all() == []
    Scheduler(notify_engine, settings).run_once()  # the recipients row, which the erasure would have deleted
    assert database_hits(notify_engine, canary) == []


def digest_rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.select(mails).where(mails.c.kind == "organiser_digest")).all()


def tomorrows_scheduler(engine, settings) -> Scheduler:
    tomorrow = utcnow() + timedelta(days=1)
    return Scheduler(engine, settings, clock=lambda: tomorrow)


def test_an_erasure_arriving_while_a_digest_is_being_built_waits_for_it_and_then_deletes_it(
        settings, notify_engine, canary, monkeypatch):
    erased = registration(email=f"{canary}@example.org", last=canary)
    confirmed(notify_engine, settings, erased, registration(email="keep@example.org"), organisers=ORGANISERS)
    render = catalogue.digest_mail
    erasure = threading.Thread(target=erase, args=(notify_engine, settings, erased))

    def waiting_on_a_lock() -> bool:
        with notify_engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                        " AND wait_event_type = 'Lock'")).scalar_one() > 0

    def erased_while_the_digest_renders(*args, **kwargs):
        # The digest's transaction has read the meeting's recipients, the erased participant among them.
        erasure.start()
        wait_until(lambda: not erasure.is_alive() or waiting_on_a_lock(), timeout=10, message="erasure under way")
        return render(*args, **kwargs)

    monkeypatch.setattr(catalogue, "digest_mail", erased_while_the_digest_renders)
    assert tomorrows_scheduler(notify_engine, settings).send_digests() == 1
    erasure.join(30)
    assert not erasure.is_alive()
    assert digest_rows(notify_engine) == []
    assert database_hits(notify_engine, canary) == []


def test_a_digest_never_names_a_participant_whose_recipients_row_a_racing_event_wrote_back(
        settings, notify_engine, canary, monkeypatch):
    erased = registration(email=f"{canary}@example.org", last=canary)
    kept = registration(email="keep@example.org", last="Behalten")
    confirmed(notify_engine, settings, erased, kept, organisers=ORGANISERS)
    erase(notify_engine, settings, erased)
    written_back_by_a_racing_event(notify_engine, settings, monkeypatch, erased)

    assert tomorrows_scheduler(notify_engine, settings).send_digests() == 1  # before any sweep
    [digest] = digest_rows(notify_engine)
    assert json.loads(digest.source_body)["registrations"] == [kept["registration_id"]]
    text = text_of(bytes(digest.message))
    assert "Erika Behalten" in text and canary not in text.lower()


def text_of(message: bytes) -> str:
    """Headers and decoded parts: quoted-printable or base64 would hide a name from a plain search."""
    mail = parse_mail(message)
    return "\n".join([f"{k}: {v}" for k, v in mail.items()] +
                      [part.get_content() for part in mail.walk() if part.get_content_maintype() == "text"])
