"""Organisers: broadcast with preview, the preview page of every mail, per-participant delivery log,
the daily digest and the warning about a mail that failed for good."""
from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from notify_events import MEETING_ID, ROUND_B, START, meeting_state, registration
from treffpunkt_notify import catalogue
from treffpunkt_notify.app import create_app
from treffpunkt_notify.emails import KINDS
from treffpunkt_notify.models import mails, organiser_access
from treffpunkt_notify.scheduler import Scheduler
from treffpunkt_shared.auth import ORGANISER, Principal, sign_token
from treffpunkt_shared.contracts import MEETING_PUBLISHED, ORGANISER_ACCESS_CHANGED, REGISTRATION_CANCELLED, \
    REGISTRATION_CONFIRMED, REGISTRATION_WAITLISTED, RejectedMessage
from treffpunkt_shared.testing import wait_until
from treffpunkt_shared.timeutil import utcnow

ORGANISERS = (("Max Mustermann", "max@ministerium.example.org"), ("Lea Beispiel", "lea@ministerium.example.org"))


def bearer(settings, meetings=(MEETING_ID,)) -> dict:
    principal = Principal(id=str(uuid.uuid4()), name="Max Mustermann", email="max@ministerium.example.org",
                          role=ORGANISER, meeting_ids=frozenset(meetings), signed_in_at=int(time.time()))
    return {"Authorization": f"Bearer {sign_token(principal, settings.session_secret)}"}


@pytest.fixture
def client(notify_settings, notify_engine):
    return create_app(notify_settings, engine=notify_engine).test_client()


def people(events, smtp_server):
    events.publish(MEETING_PUBLISHED, meeting_state(organisers=ORGANISERS))
    regs = [registration(email="erika@example.org", organisation="Ausländerbehörde Gießen"),
            registration(email="hans@example.org", organisation="ausländerbehörde gießen ", rounds=(ROUND_B,)),
            registration(email="olga@example.org", organisation="Regierungspräsidium Kassel", rounds=(ROUND_B,))]
    for r in regs:
        events.publish(REGISTRATION_CONFIRMED, r)
    events.publish(REGISTRATION_WAITLISTED, registration(status="waitlisted", email="wait@example.org"))
    wait_until(lambda: len(smtp_server.handler.received) == 4, message="registration mails")
    return regs


def test_a_broadcast_is_previewed_then_sent_once_as_individual_mails_to_its_audience(
        notify_worker, events, smtp_server, client, notify_settings):
    people(events, smtp_server)
    r = client.post(f"/api/meetings/{MEETING_ID}/broadcasts", headers=bearer(notify_settings), json={
        "audience": "round", "audience_value": ROUND_B, "subject": "Raumänderung\r\nBcc: x@example.org",
        "body": "Die Runde findet in Raum 3 statt.\n\n<b>Bitte</b> pünktlich sein."})
    assert r.status_code == 201, r.json
    draft = r.json
    assert draft["status"] == "draft" and draft["recipient_count"] == 2
    assert "Raum 3" in draft["preview"]["text"] and "&lt;b&gt;Bitte&lt;/b&gt;" in draft["preview"]["html"]
    time.sleep(1.5)
    assert len(smtp_server.handler.received) == 4  # a draft sends nothing
    sent = client.post(f"/api/meetings/{MEETING_ID}/broadcasts/{draft['id']}/send", headers=bearer(notify_settings))
    assert sent.status_code == 202
    again = client.post(f"/api/meetings/{MEETING_ID}/broadcasts/{draft['id']}/send", headers=bearer(notify_settings))
    assert again.status_code == 409
    wait_until(lambda: len(smtp_server.handler.received) == 6, message="broadcast mails")
    time.sleep(1.5)
    for address, expected in (("hans@example.org", 2), ("olga@example.org", 2), ("erika@example.org", 1),
                              ("wait@example.org", 1)):
        assert len(smtp_server.handler.to(address)) == expected, address
    mail = smtp_server.handler.to("hans@example.org")[1]
    assert mail.rcpt_tos == ["hans@example.org"]
    assert mail.message["Subject"] == "Raumänderung Bcc: x@example.org" and mail.message["Bcc"] is None
    shown = client.get(f"/api/meetings/{MEETING_ID}/broadcasts/{draft['id']}", headers=bearer(notify_settings)).json
    assert (shown["status"], shown["recipient_count"]) == ("sent", 2)


def test_a_recipient_whose_mail_cannot_be_rendered_does_not_break_the_broadcasts_preview(
        notify_worker, events, smtp_server, client, notify_settings, notify_engine):
    from treffpunkt_notify.models import recipients
    regs = people(events, smtp_server)
    first = min(regs, key=lambda r: r["registration_id"])  # the preview is rendered for the first in id order
    with notify_engine.begin() as tx:
        tx.execute(recipients.update().where(recipients.c.registration_id == first["registration_id"])
                   .values(participant={"email": first["participant"]["email"]}))
    r = client.post(f"/api/meetings/{MEETING_ID}/broadcasts", headers=bearer(notify_settings),
                    json={"audience": "meeting", "subject": "Hinweis", "body": "Bitte Ausweis mitbringen."})
    assert r.status_code == 201, r.json
    assert r.json["recipient_count"] == 3 and "Ausweis" in r.json["preview"]["text"]
    shown = client.get(f"/api/meetings/{MEETING_ID}/broadcasts/{r.json['id']}", headers=bearer(notify_settings))
    assert shown.status_code == 200 and "Ausweis" in shown.json["preview"]["text"]


@pytest.mark.parametrize("audience,value,expected", [
    ("meeting", None, {"erika@example.org", "hans@example.org", "olga@example.org"}),
    ("authority", "Ausländerbehörde Gießen", {"erika@example.org", "hans@example.org"}),
    ("waitlist", None, {"wait@example.org"}),
])
def test_a_broadcast_reaches_exactly_its_audience(notify_worker, events, smtp_server, client, notify_settings,
                                                 audience, value, expected):
    people(events, smtp_server)
    r = client.post(f"/api/meetings/{MEETING_ID}/broadcasts", headers=bearer(notify_settings),
                    json={"audience": audience, "audience_value": value, "subject": "Hinweis", "body": "Text"})
    assert r.json["recipient_count"] == len(expected)
    client.post(f"/api/meetings/{MEETING_ID}/broadcasts/{r.json['id']}/send", headers=bearer(notify_settings))
    wait_until(lambda: len(smtp_server.handler.received) == 4 + len(expected), message="broadcast")
    got = {m.rcpt_tos[0] for m in smtp_server.handler.received[4:]}
    assert got == expected


def test_a_broadcast_needs_its_audience_and_text_and_an_assigned_organiser(client, notify_settings):
    r = client.post(f"/api/meetings/{MEETING_ID}/broadcasts", headers=bearer(notify_settings),
                    json={"audience": "round", "subject": "", "body": "x"})
    assert r.status_code == 422 and "subject" in r.json["errors"]
    r = client.post(f"/api/meetings/{MEETING_ID}/broadcasts", headers=bearer(notify_settings),
                    json={"audience": "round", "subject": "Hinweis", "body": "x"})
    assert r.status_code == 422 and "audience_value" in r.json["errors"]
    # NUL cannot be stored in PostgreSQL text: a 422 at the field, not a 500.
    r = client.post(f"/api/meetings/{MEETING_ID}/broadcasts", headers=bearer(notify_settings),
                    json={"audience": "meeting", "subject": "Hin\x00weis", "body": "Text\x00"})
    assert r.status_code == 422 and set(r.json["errors"]) == {"subject", "body"}
    other = client.post(f"/api/meetings/{MEETING_ID}/broadcasts", headers=bearer(notify_settings, meetings=()),
                        json={"audience": "meeting", "subject": "x", "body": "x"})
    assert other.status_code == 403


def test_the_preview_page_shows_every_mail_of_the_catalogue_with_demo_data(client, notify_settings):
    index = client.get(f"/meetings/{MEETING_ID}/preview", headers=bearer(notify_settings))
    assert index.status_code == 200
    for kind in KINDS:
        assert f"/preview/{kind}" in index.text
        page = client.get(f"/meetings/{MEETING_ID}/preview/{kind}", headers=bearer(notify_settings))
        assert page.status_code == 200 and "Guten Tag" in page.text and "Dear" in page.text, kind
        html = client.get(f"/meetings/{MEETING_ID}/preview/{kind}.html", headers=bearer(notify_settings))
        assert html.status_code == 200 and "<h1" in html.text and "sandbox" in html.headers["Content-Security-Policy"]
    assert client.get(f"/meetings/{MEETING_ID}/preview").status_code in (302, 303)


def test_a_participants_delivery_log_shows_what_was_sent_and_what_failed_and_why(
        notify_worker, events, smtp_server, client, notify_settings):
    smtp_server.handler.refuse_for_good.add("gone@example.org")
    events.publish(MEETING_PUBLISHED, meeting_state(organisers=ORGANISERS))
    reg = registration(email="gone@example.org")
    events.publish(REGISTRATION_CONFIRMED, reg)
    # The organisers are warned, once each, with the reason.
    wait_until(lambda: smtp_server.handler.to("max@ministerium.example.org") and
               smtp_server.handler.to("lea@ministerium.example.org"), message="failure warnings")
    warning = smtp_server.handler.to("max@ministerium.example.org")[0]
    assert "nicht zustellbar" in warning.message["Subject"] and "gone@example.org" in warning.message["Subject"]
    assert "550" in warning.part("plain") and "registration_confirmed" in warning.part("plain")
    url = f"/api/meetings/{MEETING_ID}/participants/{reg['registration_id']}/deliveries"
    log = client.get(url, headers=bearer(notify_settings)).json["deliveries"]
    assert [(d["kind"], d["status"]) for d in log] == [("registration_confirmed", "failed")]
    assert "550" in log[0]["last_error"] and log[0]["subject"].startswith("Anmeldebestätigung")
    assert client.get(url, headers=bearer(notify_settings, meetings=())).status_code == 403
    time.sleep(1)
    assert len(smtp_server.handler.to("max@ministerium.example.org")) == 1


def test_organisers_get_one_daily_digest_of_new_registrations_and_cancellations(
        notify_worker, events, smtp_server, notify_engine, notify_settings):
    regs = people(events, smtp_server)
    events.publish(REGISTRATION_CANCELLED, {**regs[2], "sequence": 2, "status": "cancelled",
                                            "cancelled_by": "participant", "previous_status": "confirmed"})
    wait_until(lambda: len(smtp_server.handler.to("olga@example.org")) == 2, message="cancellation")
    from treffpunkt_shared.timeutil import utcnow
    tomorrow = utcnow() + timedelta(days=1)
    schedulers = [Scheduler(notify_engine, notify_settings, clock=lambda: tomorrow) for _ in range(2)]
    assert sum(s.send_digests() for s in schedulers) == 2  # one per organiser, whichever worker ran first
    assert schedulers[0].send_digests() == 0
    wait_until(lambda: smtp_server.handler.to("lea@ministerium.example.org"), message="digest")
    digest = smtp_server.handler.to("lea@ministerium.example.org")[0]
    text = digest.part("plain")
    assert "Tagesübersicht" in digest.message["Subject"] and "4 neu" in digest.message["Subject"]
    new_part = text.split("Storniert")[0]
    assert "Erika Muster, Ausländerbehörde Gießen (bestätigt)" in new_part
    assert "Erika Muster, Ausländerbehörde Gießen (Warteliste)" in new_part
    assert "Regierungspräsidium Kassel" in text.split("Storniert")[1].split("Stand:")[0]
    assert "Stand: 2 bestätigt, 1 auf der Warteliste" in text.replace("\r\n", "\n")


# ------------------------------------------------------------------ organisers whose access changed since

def organisers_with_changed_access(events, notify_engine) -> tuple:
    """The meeting's last ``meeting.*`` lists six organisers; the agenda has announced since that one was
    deactivated and one removed from the meeting, and that an administrator was never assigned. One has no
    announced state, one contact comes from an event before the agenda sent account ids. The contacts, and
    the addresses that may still be mailed."""
    ids = {name: str(uuid.uuid4()) for name in ("max", "lea", "jan", "ada", "otto")}
    contacts = (("Max Mustermann", "max@ministerium.example.org", ids["max"]),
                ("Lea Beispiel", "lea@ministerium.example.org", ids["lea"]),
                ("Jan Versetzt", "jan@ministerium.example.org", ids["jan"]),
                ("Ada Administratorin", "ada@ministerium.example.org", ids["ada"]),
                ("Otto Neu", "otto@ministerium.example.org", ids["otto"]),
                ("Alt Kontakt", "alt@ministerium.example.org"))
    announced = {"max": (True, "organiser", [MEETING_ID]), "lea": (False, "organiser", [MEETING_ID]),
                 "jan": (True, "organiser", []), "ada": (True, "administrator", [])}
    for name, (active, role, meeting_ids) in announced.items():
        events.publish(ORGANISER_ACCESS_CHANGED, {
            "organiser_id": ids[name], "revision": 2, "changed_at": utcnow().isoformat(), "active": active,
            "role": role, "meeting_ids": meeting_ids, "not_before": None, "changes": ["meetings_changed"]})
    events.publish(MEETING_PUBLISHED, meeting_state(organisers=contacts))

    def kept():
        with notify_engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(organiser_access)).scalar() == len(announced)
    wait_until(kept, message="organisers' access consumed")
    return contacts, {"max@ministerium.example.org", "ada@ministerium.example.org",
                      "otto@ministerium.example.org", "alt@ministerium.example.org"}


def organiser_mails(notify_engine, kind) -> set:
    with notify_engine.connect() as conn:
        return set(conn.execute(sa.select(mails.c.recipient).where(mails.c.kind == kind)).scalars())


def test_the_daily_digest_leaves_out_organisers_deactivated_or_removed_from_the_meeting_since(
        notify_worker, events, smtp_server, notify_engine, notify_settings):
    _, expected = organisers_with_changed_access(events, notify_engine)
    events.publish(REGISTRATION_CONFIRMED, registration(email="erika@example.org"))
    wait_until(lambda: smtp_server.handler.to("erika@example.org"), message="confirmation")
    tomorrow = utcnow() + timedelta(days=1)
    assert Scheduler(notify_engine, notify_settings, clock=lambda: tomorrow).send_digests() == len(expected)
    assert organiser_mails(notify_engine, "organiser_digest") == expected


def test_a_failure_warning_goes_only_to_organisers_still_active_and_assigned_to_the_meeting(
        notify_worker, events, smtp_server, notify_engine):
    _, expected = organisers_with_changed_access(events, notify_engine)
    smtp_server.handler.refuse_for_good.add("gone@example.org")
    events.publish(REGISTRATION_CONFIRMED, registration(email="gone@example.org"))

    def failed():
        with notify_engine.connect() as conn:
            return conn.execute(sa.select(mails.c.status).where(mails.c.recipient == "gone@example.org")).scalar()
    wait_until(lambda: failed() == "failed", message="mail failed for good")
    # Queued in the transaction that recorded the failure: all there are.
    assert organiser_mails(notify_engine, "organiser_mail_failed") == expected
    wait_until(lambda: all(smtp_server.handler.to(a) for a in expected), message="warnings sent")
    assert not smtp_server.handler.to("lea@ministerium.example.org")
    assert not smtp_server.handler.to("jan@ministerium.example.org")


# ------------------------------------------------------------------ mails that cannot be rendered

def test_a_broadcast_mail_that_cannot_be_rendered_is_a_failed_mail_in_the_log_and_the_organisers_are_warned_once(
        notify_worker, events, smtp_server, client, notify_settings, monkeypatch):
    regs = people(events, smtp_server)
    unfit = {"hans@example.org", "olga@example.org"}
    render = catalogue.broadcast_mail

    def broadcast_mail(settings, meeting, broadcast, recipient, **kwargs):
        if recipient.participant["email"] in unfit:  # as if their data did not fit the template
            raise RejectedMessage("template data for broadcast incomplete: 'first_name' is undefined")
        return render(settings, meeting, broadcast, recipient, **kwargs)

    headers = bearer(notify_settings)
    draft = client.post(f"/api/meetings/{MEETING_ID}/broadcasts", headers=headers, json={
        "audience": "meeting", "subject": "Hinweis", "body": "Bitte Ausweis mitbringen."}).json
    monkeypatch.setattr(catalogue, "broadcast_mail", broadcast_mail)  # after the draft's preview
    assert client.post(f"/api/meetings/{MEETING_ID}/broadcasts/{draft['id']}/send", headers=headers).status_code == 202

    wait_until(lambda: len(smtp_server.handler.to("erika@example.org")) == 2, message="the broadcast to the others")
    shown = client.get(f"/api/meetings/{MEETING_ID}/broadcasts/{draft['id']}", headers=headers).json
    assert (shown["status"], shown["recipient_count"]) == ("sent", 3)
    for reg in regs[1:]:
        url = f"/api/meetings/{MEETING_ID}/participants/{reg['registration_id']}/deliveries"
        log = {d["kind"]: d for d in client.get(url, headers=headers).json["deliveries"]}
        assert (log["broadcast"]["status"], log["broadcast"]["attempts"]) == ("failed", 0)
        assert log["broadcast"]["last_error"] == ("Nicht erstellt / not rendered: template data for broadcast "
                                                  "incomplete: 'first_name' is undefined")
        assert len(smtp_server.handler.to(reg["participant"]["email"])) == 1  # only the confirmation
    page = client.get(f"/meetings/{MEETING_ID}/rundschreiben/{draft['id']}", headers=headers)
    assert "status=failed" in page.text  # the page counts them and links to the reasons

    # Both failures were in one chunk: one warning per organiser, pointing to the log for the other.
    for _, address in ORGANISERS:
        wait_until(lambda: smtp_server.handler.to(address), message="warning")
    time.sleep(1.5)
    for _, address in ORGANISERS:
        [warning] = smtp_server.handler.to(address)
        assert warning.message["Subject"].startswith("E-Mail nicht erstellt / Email not created: ")
        assert warning.message["Subject"].split(": ")[1].split(" – ")[0] in unfit
        text = warning.part("plain")
        assert "konnte nicht erstellt werden" in text and "could not be created" in text
        assert "Versandprotokoll" in text and "zugestellt" not in text
