"""The participant journey's mails, each triggered by its event over the real broker and read from aiosmtpd."""
from __future__ import annotations

import uuid
from email.header import decode_header, make_header

import icalendar
import sqlalchemy as sa

from notify_events import MEETING_ID, ROUND_A, registration
from treffpunkt_notify.models import mails, recipients
from treffpunkt_shared.contracts import (PARTICIPANT_ERASED, REGISTRATION_CANCELLED, REGISTRATION_CONFIRMED,
                                         REGISTRATION_EXPIRED, REGISTRATION_LINK_REQUESTED, REGISTRATION_PROMOTED,
                                         REGISTRATION_RECEIVED, REGISTRATION_UPDATED, REGISTRATION_WAITLISTED,
                                         make_envelope)
from treffpunkt_shared.testing import wait_until


def calendar_of(mail) -> icalendar.Calendar:
    parts = [p for p in mail.message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, [p.get_content_type() for p in mail.message.walk()]
    assert parts[0].get_param("method") in ("REQUEST", "CANCEL")
    return icalendar.Calendar.from_ical(parts[0].get_content())


def events_of(cal):
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def one_mail_to(smtp_server, address, count=1, timeout=20):
    wait_until(lambda: len(smtp_server.handler.to(address)) >= count, timeout=timeout, message=f"mail to {address}")
    return smtp_server.handler.to(address)


def test_a_received_registration_gets_the_double_opt_in_link_in_both_parts_and_languages(
        notify_worker, events, smtp_server):
    payload = registration(status="pending")
    events.publish(REGISTRATION_RECEIVED, payload)
    [mail] = one_mail_to(smtp_server, "erika@example.org")
    msg = mail.message
    assert mail.rcpt_tos == ["erika@example.org"]
    assert msg["Subject"].startswith("Bitte bestätigen Sie Ihre Anmeldung") and "Please confirm" in msg["Subject"]
    text, html = mail.part("plain"), mail.part("html")
    link = payload["links"]["confirm_url"]
    assert link in text and f'href="{link}"' in html
    assert text.index("Guten Tag Erika Muster") < text.index("Dear Erika Muster")
    assert html.index('lang="de"') < html.index('lang="en"') and "<h1" in html
    assert "Regierungspräsidium Darmstadt" in text and "Luisenplatz 2" in html


def test_a_confirmed_registration_gets_its_personal_link_rounds_and_a_calendar_invitation(
        notify_worker, events, smtp_server):
    payload = registration()
    events.publish(REGISTRATION_CONFIRMED, payload)
    [mail] = one_mail_to(smtp_server, "erika@example.org")
    text, html = mail.part("plain"), mail.part("html")
    assert "Anmeldebestätigung" in mail.message["Subject"]
    assert payload["links"]["manage_url"] in text and f'href="{payload["links"]["manage_url"]}"' in html
    assert "Ungeklärte Identität" in text and "Ungeklärte Identität" in html
    cal = calendar_of(mail)
    assert str(cal["METHOD"]) == "REQUEST"
    found = events_of(cal)
    meeting_uid = f"meeting-{MEETING_ID}.{payload['registration_id']}@treffpunkt"
    round_uid = f"round-{ROUND_A}.{payload['registration_id']}@treffpunkt"
    assert set(found) == {meeting_uid, round_uid}
    meeting_event = found[meeting_uid]
    assert meeting_event.decoded("DTSTART").isoformat() == "2030-09-16T10:00:00+02:00"
    assert "Luisenplatz 2" in str(meeting_event["LOCATION"])
    assert str(meeting_event["ATTENDEE"]) == "mailto:erika@example.org"
    assert str(meeting_event["ORGANIZER"]) == "mailto:netzwerk@example.org"
    assert any(p.get_filename() == "einladung.ics" for p in mail.message.walk())


def test_a_change_of_the_registration_updates_the_same_calendar_entries_with_a_higher_sequence(
        notify_worker, events, smtp_server):
    payload = registration()
    events.publish(REGISTRATION_CONFIRMED, payload)
    [first] = one_mail_to(smtp_server, "erika@example.org")
    events.publish(REGISTRATION_UPDATED, {**payload, "sequence": 2})
    second = one_mail_to(smtp_server, "erika@example.org", 2)[1]
    assert "geändert" in second.message["Subject"]
    before, after = events_of(calendar_of(first)), events_of(calendar_of(second))
    assert set(before) == set(after)
    for uid in before:
        assert int(after[uid]["SEQUENCE"]) > int(before[uid]["SEQUENCE"])


def test_a_waitlisted_registration_learns_its_position_and_a_promotion_brings_the_invitation(
        notify_worker, events, smtp_server):
    payload = registration(status="waitlisted", waitlist_position=7)
    events.publish(REGISTRATION_WAITLISTED, payload)
    [waiting] = one_mail_to(smtp_server, "erika@example.org")
    assert "Warteliste" in waiting.message["Subject"] and "Platz 7" in waiting.part("plain")
    assert "position 7" in waiting.part("html")
    assert not [p for p in waiting.message.walk() if p.get_content_type() == "text/calendar"]
    promoted = registration(registration_id=payload["registration_id"], sequence=2,
                            previous_status="waitlisted")
    events.publish(REGISTRATION_PROMOTED, promoted)
    mail = one_mail_to(smtp_server, "erika@example.org", 2)[1]
    assert "Platz ist frei geworden" in mail.message["Subject"]
    assert "nachgerückt" in mail.part("plain") and "moved up from the waiting list" in mail.part("html")
    assert str(calendar_of(mail)["METHOD"]) == "REQUEST"


def test_a_cancellation_is_acknowledged_and_removes_the_calendar_entries(notify_worker, events, smtp_server):
    payload = registration()
    events.publish(REGISTRATION_CONFIRMED, payload)
    [first] = one_mail_to(smtp_server, "erika@example.org")
    events.publish(REGISTRATION_CANCELLED, {**payload, "sequence": 2, "status": "cancelled",
                                            "cancelled_by": "participant", "previous_status": "confirmed"})
    mail = one_mail_to(smtp_server, "erika@example.org", 2)[1]
    assert "Stornierung" in mail.message["Subject"] and "ist storniert" in mail.part("plain")
    cancel = calendar_of(mail)
    assert str(cancel["METHOD"]) == "CANCEL"
    assert set(events_of(cancel)) == set(events_of(calendar_of(first)))
    assert {str(e["STATUS"]) for e in cancel.walk("VEVENT")} == {"CANCELLED"}


def test_a_second_registration_with_the_same_address_gets_the_personal_link_each_time_it_is_asked_for(
        notify_worker, events, smtp_server):
    payload = registration()
    events.publish(REGISTRATION_LINK_REQUESTED, payload)
    events.publish(REGISTRATION_LINK_REQUESTED, payload)  # same state, a new request: a new envelope id
    mails_ = one_mail_to(smtp_server, "erika@example.org", 2)
    assert all(payload["links"]["manage_url"] in m.part("plain") for m in mails_)
    assert "persönlicher Link" in mails_[0].message["Subject"]


def test_an_older_state_arriving_after_a_newer_one_is_not_mailed(notify_worker, events, smtp_server, notify_engine):
    payload = registration()
    events.publish(REGISTRATION_CANCELLED, {**payload, "sequence": 3, "status": "cancelled",
                                            "cancelled_by": "participant", "previous_status": "confirmed"})
    one_mail_to(smtp_server, "erika@example.org")
    events.publish(REGISTRATION_CONFIRMED, {**payload, "sequence": 2})  # late, e.g. from a retry queue
    events.publish(REGISTRATION_CONFIRMED, registration(email="marker@example.org"))
    one_mail_to(smtp_server, "marker@example.org")
    assert [m.message["Subject"].split(" /")[0] for m in smtp_server.handler.to("erika@example.org")] == \
        ["Stornierung"]
    with notify_engine.connect() as conn:
        row = conn.execute(sa.select(recipients).where(
            recipients.c.registration_id == payload["registration_id"])).one()
    assert (row.status, row.sequence) == ("cancelled", 3)


def test_an_expired_registration_sends_nothing_but_updates_the_recipients(notify_worker, events, smtp_server,
                                                                          notify_engine):
    payload = registration(status="pending")
    events.publish(REGISTRATION_RECEIVED, payload)
    one_mail_to(smtp_server, "erika@example.org")
    events.publish(REGISTRATION_EXPIRED, {**payload, "status": "expired", "sequence": 2})
    events.publish(REGISTRATION_CONFIRMED, registration(email="marker@example.org"))
    one_mail_to(smtp_server, "marker@example.org")

    def expired():
        with notify_engine.connect() as conn:
            return conn.execute(sa.select(recipients.c.status).where(
                recipients.c.registration_id == payload["registration_id"])).scalar() == "expired"
    wait_until(expired, message="expired in the read model")
    assert len(smtp_server.handler.to("erika@example.org")) == 1


def test_a_received_event_without_its_confirmation_deadline_is_dead_lettered_not_sent_half_rendered(
        notify_worker, events, smtp_server, broker, namespace):
    payload = registration(status="pending")
    del payload["confirm_by"]
    events.publish(REGISTRATION_RECEIVED, payload)
    events.publish(REGISTRATION_CONFIRMED, registration(email="next@example.org"))
    one_mail_to(smtp_server, "next@example.org")
    method, props, body = broker.get(f"{namespace}.notify.dead", timeout=15)
    assert "registration_received" in props.headers["x-dead-reason"]
    assert "incomplete" in props.headers["x-dead-reason"]
    assert not smtp_server.handler.to("erika@example.org")


def test_line_breaks_and_umlauts_in_titles_and_names_are_encoded_never_injected(notify_worker, events,
                                                                                 smtp_server):
    payload = registration(first="Jürgen\r\nBcc: victim@example.org", last="Öztürk-Weiß")
    payload["meeting"]["title"] = "Treffen in Gießen\r\nBcc: victim@example.org"
    events.publish(REGISTRATION_CONFIRMED, payload)
    [mail] = one_mail_to(smtp_server, "erika@example.org")
    assert mail.rcpt_tos == ["erika@example.org"]
    head = mail.data.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in head and mail.message["Bcc"] is None
    assert all(b < 128 for b in head), "headers must be 7-bit (encoded words)"
    assert mail.message["Subject"].endswith("Treffen in Gießen Bcc: victim@example.org")
    # RFC 2047 decoding of the raw header (the modern parser adds a space between adjacent encoded words).
    raw_to = next(line for line in head.decode().replace("\r\n ", " ").split("\r\n") if line.startswith("To:"))
    assert str(make_header(decode_header(raw_to[3:].strip()))) == \
        "Jürgen Bcc: victim@example.org Öztürk-Weiß <erika@example.org>"


def test_html_parts_escape_what_participants_typed(notify_worker, events, smtp_server):
    payload = registration(organisation="<script>alert(1)</script> {{ 7*7 }}")
    events.publish(REGISTRATION_CONFIRMED, payload)
    [mail] = one_mail_to(smtp_server, "erika@example.org")
    html = mail.part("html")
    assert "<script>" not in html and "&lt;script&gt;" in html
    # Typed text appears as typed, never evaluated ("49" alone could be part of a random id in a link).
    assert "<script>alert(1)</script> {{ 7*7 }}" in mail.part("plain")


def test_an_erased_participant_leaves_no_trace_in_notify_and_later_events_bring_none_back(
        notify_worker, events, smtp_server, notify_engine):
    canary = f"canary-{uuid.uuid4().hex[:8]}"
    payload = registration(email=f"{canary}@example.org", last=canary)
    events.publish(REGISTRATION_CONFIRMED, payload)
    one_mail_to(smtp_server, f"{canary}@example.org")
    keep = registration(email="keep@example.org")
    events.publish(REGISTRATION_CONFIRMED, keep)
    one_mail_to(smtp_server, "keep@example.org")
    events.publish(PARTICIPANT_ERASED, {"registration_id": payload["registration_id"], "meeting_id": MEETING_ID,
                                        "erased_at": "2030-10-01T00:00:00+00:00", "reason": "request"})

    def dump() -> str:
        with notify_engine.connect() as conn:
            out = []
            for table in ("mails", "recipients", "outbox", "meetings", "agenda_changes", "broadcasts"):
                out += [repr(tuple(r)) for r in conn.execute(sa.text(f"SELECT * FROM {table}"))]
            return "\n".join(out)

    wait_until(lambda: canary not in dump(), message="erasure")
    events.publish(REGISTRATION_UPDATED, {**payload, "sequence": 2})  # late event of the erased registration
    events.publish(REGISTRATION_CONFIRMED, registration(email="marker@example.org"))
    one_mail_to(smtp_server, "marker@example.org")
    assert canary not in dump()
    assert len(smtp_server.handler.to(f"{canary}@example.org")) == 1
    with notify_engine.connect() as conn:
        kept = conn.execute(sa.select(mails.c.recipient)).scalars().all()
    assert "keep@example.org" in kept
