"""agenda.published and round.results_published fan out in the scheduler, not in the consumer: the consumer
records one job per event, the scheduler expands it in chunks of BROADCAST_CHUNK, each its own transaction.

The worker here runs without its scheduler (consumer, relay, senders on the real broker, PostgreSQL and
aiosmtpd); the tests drive the scheduler themselves, so they can look between the consumer and the scheduler."""
from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from notify_events import (MEETING_ID, ROUND_A, ROUND_B, START, agenda, item, meeting_snapshot, meeting_state,
                           registration, start_worker)
from treffpunkt_notify.handlers import record_fanout
from treffpunkt_notify.models import fanouts, inbox, mails, recipients
from treffpunkt_notify.scheduler import Scheduler
from treffpunkt_shared.contracts import (AGENDA_PUBLISHED, ENVELOPE_CONTENT_TYPE, MEETING_PUBLISHED,
                                         REGISTRATION_CONFIRMED, REGISTRATION_WAITLISTED, ROUND_RESULTS_PUBLISHED,
                                         encode, make_envelope, parse_envelope)
from treffpunkt_shared.testing import wait_until
from treffpunkt_shared.timeutil import utcnow

CHUNK = 7


@pytest.fixture
def settings(notify_settings):
    return dataclasses.replace(notify_settings, broadcast_chunk=CHUNK)


@pytest.fixture
def worker_without_scheduler(settings, notify_engine):
    parts = start_worker(settings, notify_engine, without=("scheduler",))
    yield parts
    for part in parts.values():
        part.stop()


def people(n: int, *, rounds=(ROUND_A,), prefix="p") -> list[dict]:
    return [registration(email=f"{prefix}{i:02d}@example.org", rounds=rounds) for i in range(n)]


def confirm_all(events, engine, regs: list[dict], *, also=()) -> None:
    """The meeting and its registrations in notify's read models, through the broker."""
    events.publish(MEETING_PUBLISHED, meeting_state(revision=1))
    for reg in regs:
        events.publish(REGISTRATION_CONFIRMED, reg)
    for contract, reg in also:
        events.publish(contract, reg)
    wanted = len(regs) + len(also)
    wait_until(lambda: count(engine, recipients) == wanted, message="recipients in the read model")


def count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()


def job_rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.select(fanouts)).all()


def mail_rows(engine, kind) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.select(mails).where(mails.c.kind == kind)).all()


def consumed(engine, envelope: dict) -> bool:
    return count(engine, inbox, inbox.c.message_id == envelope["id"]) == 1


def received(smtp_server, address: str, subject_part: str) -> list:
    return [m for m in smtp_server.handler.to(address) if subject_part in m.message["Subject"]]


def test_a_published_agenda_for_thirty_participants_is_queued_by_the_scheduler_in_chunks_not_by_the_consumer(
        worker_without_scheduler, events, smtp_server, notify_engine, settings):
    regs = people(30)
    confirm_all(events, notify_engine, regs, also=[
        (REGISTRATION_WAITLISTED, registration(status="waitlisted", email="wait@example.org"))])
    envelope = events.publish(AGENDA_PUBLISHED, {"meeting": meeting_snapshot(), "agenda": agenda()})
    wait_until(lambda: consumed(notify_engine, envelope), message="agenda.published consumed")

    # The consumer's transaction kept the agenda and recorded the job, and queued no mail.
    assert mail_rows(notify_engine, "agenda_published") == []
    [job] = job_rows(notify_engine)
    assert (job.id, job.kind, job.meeting_id, job.status, job.expanded_through, job.recipient_count) == \
        (envelope["id"], "agenda_published", MEETING_ID, "queued", None, 0)
    assert (job.payload["meeting"]["meeting_id"], job.payload["agenda"]["revision"]) == (MEETING_ID, 1)
    assert not {"participant", "registration_id"} & set(job.payload)  # the event's payload, nobody's data
    with notify_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT agenda_revision FROM meetings")).scalar_one() == 1

    # Two chunks by hand: each its own transaction, the cursor on the last registration id done.
    ids = sorted(r["registration_id"] for r in regs)
    scheduler = Scheduler(notify_engine, settings)
    progress = []
    for _ in range(2):
        queued, finished = scheduler._expand_fanout_chunk(job.id)
        [job] = job_rows(notify_engine)
        progress.append((queued, finished, job.expanded_through, job.recipient_count))
        assert len(mail_rows(notify_engine, "agenda_published")) == job.recipient_count
    assert progress == [(7, False, ids[6], 7), (7, False, ids[13], 14)]

    # The scheduler's loop goes on from the cursor: 7 + 7 + 2 more, then the job is done.
    assert scheduler.run_once()["fanouts"] == 16
    [job] = job_rows(notify_engine)
    assert (job.status, job.expanded_through, job.recipient_count) == ("done", ids[-1], 30)
    assert job.done_at is not None
    assert scheduler.run_once()["fanouts"] == 0

    rows = mail_rows(notify_engine, "agenda_published")
    assert sorted(r.registration_id for r in rows) == ids
    assert {r.source_message_id for r in rows} == {envelope["id"]}
    wait_until(lambda: all(len(received(smtp_server, r["participant"]["email"], "Programm veröffentlicht")) == 1
                           for r in regs), message="one agenda mail each")
    assert received(smtp_server, "wait@example.org", "Programm veröffentlicht") == []


def test_a_redelivered_agenda_event_is_one_job_and_two_schedulers_at_once_mail_each_participant_once(
        worker_without_scheduler, events, smtp_server, notify_engine, settings):
    regs = people(20)
    confirm_all(events, notify_engine, regs)
    envelope = make_envelope(AGENDA_PUBLISHED, {"meeting": meeting_snapshot(), "agenda": agenda()}, producer="test")
    events.publish(AGENDA_PUBLISHED, envelope=envelope)
    events.publish(AGENDA_PUBLISHED, envelope=envelope)  # redelivered
    marker = registration(email="marker@example.org")
    events.publish(REGISTRATION_CONFIRMED, marker)  # consumed after both deliveries
    wait_until(lambda: smtp_server.handler.to("marker@example.org"), message="marker")
    assert [job.id for job in job_rows(notify_engine)] == [envelope["id"]]
    # And should the inbox let it through, the job's key still holds: no second job.
    parsed, _contract, payload = parse_envelope(encode(envelope), ENVELOPE_CONTENT_TYPE)
    with notify_engine.begin() as tx:
        assert record_fanout(tx, "agenda_published", parsed, payload) is False
    assert len(job_rows(notify_engine)) == 1

    schedulers = [Scheduler(notify_engine, settings) for _ in range(2)]
    start = threading.Barrier(2)
    results = []

    def expand(scheduler):
        start.wait()
        results.append(scheduler.expand_fanouts())

    threads = [threading.Thread(target=expand, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    everyone = sorted(r["registration_id"] for r in regs + [marker])
    assert sum(results) == len(everyone)
    rows = mail_rows(notify_engine, "agenda_published")
    assert sorted(r.registration_id for r in rows) == everyone
    [job] = job_rows(notify_engine)
    assert (job.status, job.recipient_count, job.expanded_through) == ("done", len(everyone), everyone[-1])
    wait_until(lambda: all(len(received(smtp_server, r["participant"]["email"], "Programm veröffentlicht")) == 1
                           for r in regs + [marker]), message="one agenda mail each")


def test_round_results_go_only_to_that_rounds_holders_and_a_mail_that_cannot_be_rendered_is_recorded_failed(
        worker_without_scheduler, events, smtp_server, notify_engine, settings, broker, namespace):
    holders = people(8, rounds=(ROUND_A,), prefix="a") + people(2, rounds=(ROUND_A, ROUND_B), prefix="ab")
    others = people(6, rounds=(ROUND_B,), prefix="b")
    not_held = registration(email="notheld@example.org", rounds=(ROUND_A,))
    not_held["rounds"][0]["held"] = False
    confirm_all(events, notify_engine, holders + others + [not_held], also=[
        (REGISTRATION_WAITLISTED, registration(status="waitlisted", email="wait@example.org", rounds=(ROUND_A,)))])
    # One holder's read-model row lacks what the mail prints: a failed mail with the reason, the others are mailed.
    broken = holders[3]
    with notify_engine.begin() as tx:
        tx.execute(recipients.update().where(recipients.c.registration_id == broken["registration_id"])
                   .values(participant={"email": broken["participant"]["email"]}))
    outcomes = broker.probe(namespace, "notification.failed")
    envelope = events.publish(ROUND_RESULTS_PUBLISHED, {
        "meeting": meeting_snapshot(), "round": item(ROUND_A, "Ungeklärte Identität", 9),
        "result": "Erstes Ergebnis.", "published_at": START.isoformat()})
    wait_until(lambda: consumed(notify_engine, envelope), message="round.results_published consumed")
    assert mail_rows(notify_engine, "round_results") == []
    [job] = job_rows(notify_engine)
    assert (job.kind, job.status) == ("round_results", "queued")

    Scheduler(notify_engine, settings).run_once()
    mailed = [h for h in holders if h is not broken]
    rows = {r.registration_id: r for r in mail_rows(notify_engine, "round_results")}
    assert sorted(rows) == sorted(h["registration_id"] for h in holders)
    failed = rows[broken["registration_id"]]
    assert (failed.status, failed.attempts, failed.recipient, failed.message) == (
        "failed", 0, broken["participant"]["email"], b"")
    assert failed.last_error == "Nicht erstellt / not rendered: KeyError: 'first_name'"
    [job] = job_rows(notify_engine)
    assert (job.status, job.recipient_count) == ("done", len(holders))  # the failed one is the job's mail too
    wait_until(lambda: all(len(received(smtp_server, h["participant"]["email"], "Ergebnisse")) == 1 for h in mailed),
               message="results mails")
    for address in [o["participant"]["email"] for o in others] + ["notheld@example.org", "wait@example.org"]:
        assert received(smtp_server, address, "Ergebnisse") == []
    assert received(smtp_server, broken["participant"]["email"], "Ergebnisse") == []
    # Operators see it as any mail failed for good: notification.failed, and a dead letter with the reason.
    _, _, body = broker.get(outcomes, 20)
    assert json.loads(body)["payload"]["notification_id"] == failed.id
    _, props, body = broker.get(f"{namespace}.notify.dead", 20)
    assert props.headers["x-dead-reason"] == "not rendered: KeyError: 'first_name'"
    assert json.loads(body)["registration_id"] == broken["registration_id"]  # what erasure finds it by


def test_a_done_fanout_job_is_deleted_once_its_days_are_over(
        worker_without_scheduler, events, notify_engine, settings):
    envelope = events.publish(ROUND_RESULTS_PUBLISHED, {
        "meeting": meeting_snapshot(), "round": item(ROUND_B, "Arbeitsmarktzugang", 9),
        "result": "Ergebnis.", "published_at": START.isoformat()})
    wait_until(lambda: consumed(notify_engine, envelope), message="round.results_published consumed")
    assert Scheduler(notify_engine, settings).prune_fanouts() == 0  # queued: never pruned
    Scheduler(notify_engine, settings).run_once()
    [job] = job_rows(notify_engine)
    assert (job.status, job.recipient_count) == ("done", 0)
    days = settings.fanout_keep_days
    assert Scheduler(notify_engine, settings, clock=lambda: utcnow() + timedelta(days=days - 1)).prune_fanouts() == 0
    assert Scheduler(notify_engine, settings, clock=lambda: utcnow() + timedelta(days=days + 1)).prune_fanouts() == 1
    assert job_rows(notify_engine) == []
