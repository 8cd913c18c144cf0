"""Agenda published / changed (grouped), reminders and round results: from their events to the SMTP server."""
from __future__ import annotations

import copy
import threading
from datetime import timedelta

import icalendar
import sqlalchemy as sa

from notify_events import (MEETING_ID, ROUND_A, ROUND_B, START, agenda, item, meeting_snapshot, meeting_state,
                           registration)
from treffpunkt_notify.models import mails
from treffpunkt_notify.scheduler import Scheduler
from treffpunkt_shared.contracts import (AGENDA_CHANGED, AGENDA_PUBLISHED, MEETING_PUBLISHED, REGISTRATION_CONFIRMED,
                                         ROUND_RESULTS_PUBLISHED, REGISTRATION_WAITLISTED)
from treffpunkt_shared.testing import wait_until


def mail_rows(engine, kind):
    with engine.connect() as conn:
        return conn.execute(sa.select(mails).where(mails.c.kind == kind)).all()


def setup_meeting(events, smtp_server, engine, *, people=(("erika@example.org", (ROUND_A,)),
                                                           ("hans@example.org", (ROUND_B,)))):
    events.publish(MEETING_PUBLISHED, meeting_state(revision=1))
    regs = {}
    for address, rounds in people:
        regs[address] = registration(email=address, rounds=rounds)
        events.publish(REGISTRATION_CONFIRMED, regs[address])
    wait_until(lambda: all(smtp_server.handler.to(a) for a, _ in people), message="confirmations")
    return regs


def test_a_published_agenda_goes_to_every_confirmed_participant_with_their_rounds_marked(
        notify_worker, events, smtp_server, notify_engine):
    setup_meeting(events, smtp_server, notify_engine)
    events.publish(REGISTRATION_WAITLISTED, registration(status="waitlisted", email="wait@example.org"))
    events.publish(AGENDA_PUBLISHED, {"meeting": meeting_snapshot(), "agenda": agenda()})
    wait_until(lambda: len(smtp_server.handler.to("erika@example.org")) == 2 and
               len(smtp_server.handler.to("hans@example.org")) == 2, message="agenda mails")
    mail = smtp_server.handler.to("erika@example.org")[1]
    assert "Programm veröffentlicht" in mail.message["Subject"]
    text, html = mail.part("plain").replace("\r\n", "\n"), mail.part("html")
    assert "Ungeklärte Identität (Raum 1) – Ihre Runde" in text and "Arbeitsmarktzugang (Raum 2)\n" in text
    assert "<strong>Ungeklärte Identität</strong> (Ihre Runde)" in html and "your round" in html
    assert len(smtp_server.handler.to("wait@example.org")) == 1  # the waiting list got no agenda


def changed(revision, changes, *, items, times_changed):
    return {"meeting": meeting_snapshot(), "previous_revision": revision - 1, "revision": revision,
            "changed_at": START.isoformat(), "times_changed": times_changed, "changes": changes,
            "agenda": agenda(revision, items)}


def test_edits_within_the_window_become_one_mail_per_participant_their_round_first_with_an_updated_invitation(
        notify_worker, events, smtp_server, notify_engine):
    setup_meeting(events, smtp_server, notify_engine)
    base = agenda()["items"]
    events.publish(AGENDA_PUBLISHED, {"meeting": meeting_snapshot(), "agenda": agenda(1, base)})
    wait_until(lambda: len(smtp_server.handler.to("erika@example.org")) == 2, message="agenda mail")
    # Edit 1: the welcome gets a new room. Edit 2: round A moves to 11:00. Edit 3: it moves on to 13:00.
    welcome_moved = copy.deepcopy(base)
    welcome_moved[0]["room"] = "Foyer"
    events.publish(AGENDA_CHANGED, changed(2, [{
        "item_id": "welcome", "title": "Begrüßung", "kind": "welcome", "change": "updated",
        "room": {"from": "Ludwig-Bergsträßer-Saal", "to": "Foyer"}, "item": welcome_moved[0]}],
        items=welcome_moved, times_changed=False))
    for revision, hour, before in ((3, 11, 9), (4, 13, 11)):
        moved = copy.deepcopy(welcome_moved)
        moved[1] = item(ROUND_A, "Ungeklärte Identität", hour)
        events.publish(AGENDA_CHANGED, changed(revision, [{
            "item_id": ROUND_A, "title": "Ungeklärte Identität", "kind": "discussion_round", "change": "updated",
            "moved": {"from": {"starts_at": START.replace(hour=before).isoformat(),
                               "ends_at": START.replace(hour=before + 1).isoformat()},
                      "to": {"starts_at": START.replace(hour=hour).isoformat(),
                             "ends_at": START.replace(hour=hour + 1).isoformat()}},
            "item": moved[1]}], items=moved, times_changed=True))
    wait_until(lambda: len(smtp_server.handler.to("erika@example.org")) >= 3 and
               len(smtp_server.handler.to("hans@example.org")) >= 3, timeout=30, message="grouped change mails")
    import time
    time.sleep(3)  # a second group would come now if the edits had not been grouped
    assert len(smtp_server.handler.to("erika@example.org")) == 3
    assert len(smtp_server.handler.to("hans@example.org")) == 3
    erika = smtp_server.handler.to("erika@example.org")[2]
    assert "Programmänderung" in erika.message["Subject"]
    text = erika.part("plain").replace("\r\n", "\n")
    # Her round first, one entry for both moves: from 11:00 (first "from") to 15:00 local (last "to").
    assert text.index("Ungeklärte Identität (Ihre Runde)") < text.index("Begrüßung")
    assert "neue Zeit: Montag, 16. September 2030, 15:00 Uhr–16:00 Uhr (bisher 11:00 Uhr–12:00 Uhr)" in text
    assert text.split("(English)")[0].count("Ungeklärte Identität") == 1  # two edits, one entry
    assert "neuer Raum: Foyer (bisher Ludwig-Bergsträßer-Saal)" in text
    cal = icalendar.Calendar.from_ical(next(p for p in erika.message.walk()
                                            if p.get_content_type() == "text/calendar").get_content())
    round_event = next(e for e in cal.walk("VEVENT") if str(e["UID"]).startswith(f"round-{ROUND_A}."))
    assert round_event.decoded("DTSTART").isoformat() == "2030-09-16T15:00:00+02:00"
    hans = smtp_server.handler.to("hans@example.org")[2]
    assert "Ihre Runde" not in hans.part("plain") and "Ungeklärte Identität" in hans.part("plain")
    assert not [p for p in hans.message.walk() if p.get_content_type() == "text/calendar"]
    [row] = [r for r in mail_rows(notify_engine, "agenda_changed") if r.recipient == "erika@example.org"]
    assert row.logical_key.endswith(":1-4")


def test_reminders_are_sent_once_per_configured_day_even_with_two_schedulers_at_once(
        notify_worker, events, smtp_server, notify_engine, notify_settings):
    setup_meeting(events, smtp_server, notify_engine)
    events.publish(AGENDA_PUBLISHED, {"meeting": meeting_snapshot(), "agenda": agenda()})
    wait_until(lambda: len(smtp_server.handler.to("erika@example.org")) == 2, message="agenda mail")
    # Confirmed "now" (before 2030): the 7-day reminder is due six days before the start, the 1-day one after.
    for when, days in ((START - timedelta(days=6), 7), (START - timedelta(hours=20), 1)):
        schedulers = [Scheduler(notify_engine, notify_settings, clock=lambda w=when: w) for _ in range(2)]
        threads = [threading.Thread(target=s.send_reminders) for s in schedulers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        schedulers[0].send_reminders()  # and once more, as after a restart
        wait_until(lambda: len([m for m in smtp_server.handler.to("erika@example.org")
                                if "Erinnerung" in m.message["Subject"]]) == (1 if days == 7 else 2),
                   message=f"{days}-day reminder")
    reminders = [m for m in smtp_server.handler.to("erika@example.org") if "Erinnerung" in m.message["Subject"]]
    assert [m.message["Subject"].strip().split(" /")[0] for m in reminders] == ["Erinnerung: in 7 Tagen", "Erinnerung: morgen"]
    text = reminders[1].part("plain")
    assert "Luisenplatz 2, 64283 Darmstadt" in text and "Programm:" in text and "Ungeklärte Identität" in text
    assert sorted(r.logical_key.rsplit(":", 1)[1] for r in mail_rows(notify_engine, "reminder")) == \
        ["1d", "1d", "7d", "7d"]


def test_a_late_scheduler_sends_only_the_nearest_reminder_and_none_to_those_who_just_confirmed(
        notify_engine, notify_settings, events, notify_worker, smtp_server):
    setup_meeting(events, smtp_server, notify_engine)
    Scheduler(notify_engine, notify_settings, clock=lambda: START - timedelta(hours=3)).send_reminders()
    keys = sorted(r.logical_key.rsplit(":", 1)[1] for r in mail_rows(notify_engine, "reminder"))
    assert keys == ["1d", "1d"]
    with notify_engine.begin() as tx:
        tx.execute(sa.text("UPDATE recipients SET confirmed_at = :t"), {"t": START - timedelta(hours=2)})
        tx.execute(sa.text("DELETE FROM mails WHERE kind = 'reminder'"))
    Scheduler(notify_engine, notify_settings, clock=lambda: START - timedelta(hours=1)).send_reminders()
    assert mail_rows(notify_engine, "reminder") == []


def test_round_results_go_to_that_rounds_participants_with_the_documents_linked(
        notify_worker, events, smtp_server, notify_engine):
    setup_meeting(events, smtp_server, notify_engine)
    round_a = item(ROUND_A, "Ungeklärte Identität", 9)
    round_a["documents"] = [{"document_id": "d1", "kind": "result", "filename": "Ergebnis-Runde-1.pdf",
                             "content_type": "application/pdf", "size": 1234,
                             "url": "https://programm.example.org/meetings/m/documents/d1"}]
    events.publish(ROUND_RESULTS_PUBLISHED, {"meeting": meeting_snapshot(), "round": round_a,
                                             "result": "Erstes Ergebnis.\n\nZweiter Absatz <b>fett</b>.",
                                             "published_at": START.isoformat()})
    wait_until(lambda: len(smtp_server.handler.to("erika@example.org")) == 2, message="results mail")
    mail = smtp_server.handler.to("erika@example.org")[1]
    assert "Ergebnisse" in mail.message["Subject"] and "Ungeklärte Identität" in mail.message["Subject"]
    assert "Erstes Ergebnis." in mail.part("plain")
    html = mail.part("html")
    assert '<a href="https://programm.example.org/meetings/m/documents/d1">Ergebnis-Runde-1.pdf</a>' in html
    assert "<p>Zweiter Absatz &lt;b&gt;fett&lt;/b&gt;.</p>" in html
    events.publish(REGISTRATION_CONFIRMED, registration(email="marker@example.org"))
    wait_until(lambda: smtp_server.handler.to("marker@example.org"), message="marker")
    assert len(smtp_server.handler.to("hans@example.org")) == 1


def _break_recipient(engine, registration_id: str) -> None:
    """The recipient's read model without the name the mails print: rendering their mail fails."""
    from treffpunkt_notify.models import recipients
    with engine.begin() as tx:
        email = tx.execute(sa.select(recipients.c.participant).where(
            recipients.c.registration_id == registration_id)).scalar()["email"]
        tx.execute(recipients.update().where(recipients.c.registration_id == registration_id)
                   .values(participant={"email": email}))


def test_a_reminder_that_cannot_be_rendered_is_recorded_failed_once_and_not_tried_again_every_round(
        notify_engine, notify_settings, events, notify_worker, smtp_server):
    regs = setup_meeting(events, smtp_server, notify_engine)
    _break_recipient(notify_engine, regs["hans@example.org"]["registration_id"])
    for _ in range(3):  # three scheduler rounds within the reminder's day
        Scheduler(notify_engine, notify_settings, clock=lambda: START - timedelta(hours=3)).send_reminders()
    rows = {r.recipient: r for r in mail_rows(notify_engine, "reminder")}
    assert set(rows) == {"erika@example.org", "hans@example.org"} and len(mail_rows(notify_engine, "reminder")) == 2
    failed = rows["hans@example.org"]
    assert (failed.status, failed.attempts) == ("failed", 0)
    assert failed.last_error.startswith("Nicht erstellt / not rendered: KeyError")
    assert failed.logical_key.endswith(":1d") and rows["erika@example.org"].status in ("pending", "sent")


def test_an_agenda_change_mail_that_cannot_be_rendered_is_recorded_failed_and_the_others_are_mailed(
        notify_worker, events, smtp_server, notify_engine, notify_settings):
    regs = setup_meeting(events, smtp_server, notify_engine)
    events.publish(AGENDA_PUBLISHED, {"meeting": meeting_snapshot(), "agenda": agenda()})
    wait_until(lambda: len(smtp_server.handler.to("hans@example.org")) == 2, message="agenda mails")
    _break_recipient(notify_engine, regs["hans@example.org"]["registration_id"])
    items = copy.deepcopy(agenda()["items"])
    items[0]["room"] = "Foyer"
    events.publish(AGENDA_CHANGED, changed(2, [{
        "item_id": "welcome", "title": "Begrüßung", "kind": "welcome", "change": "updated",
        "room": {"from": "Ludwig-Bergsträßer-Saal", "to": "Foyer"}, "item": items[0]}],
        items=items, times_changed=False))
    wait_until(lambda: len(smtp_server.handler.to("erika@example.org")) == 3, timeout=30, message="change mail")
    rows = {r.recipient: r for r in mail_rows(notify_engine, "agenda_changed")}
    assert rows["hans@example.org"].status == "failed"
    assert rows["hans@example.org"].last_error.startswith("Nicht erstellt / not rendered")
