"""The organisers' pages of notify: a broadcast written, previewed and sent through the HTML forms (with the
sign-in cookie and the CSRF token, as a browser does), the delivery log, access, and the English versions.
Against the real RabbitMQ, PostgreSQL and aiosmtpd."""
from __future__ import annotations

import re
import time
import uuid
from html import unescape
from pathlib import Path

import pytest
import sqlalchemy as sa

from notify_events import MEETING_ID, ROUND_A, ROUND_B, agenda, meeting_snapshot, meeting_state, registration
from treffpunkt_notify import page_texts
from treffpunkt_notify.app import create_app
from treffpunkt_notify.mail_queue import queue_mail
from treffpunkt_notify.models import broadcasts, mails
from treffpunkt_notify.handlers import make_handler
from treffpunkt_shared.auth import ORGANISER, SESSION_COOKIE, Principal, sign_token
from treffpunkt_shared.contracts import (AGENDA_PUBLISHED, MEETING_PUBLISHED, REGISTRATION_CONFIRMED,
                                         REGISTRATION_WAITLISTED, encode, make_envelope, parse_envelope)
from treffpunkt_shared.testing import wait_until

PAGES = Path(__file__).resolve().parents[1] / "treffpunkt_notify" / "templates" / "pages"
BASE = f"/meetings/{MEETING_ID}"


def browser(notify_settings, notify_engine, meetings=(MEETING_ID,)):
    """A test client signed in by cookie, as the agenda's sign-in leaves a browser."""
    principal = Principal(id=str(uuid.uuid4()), name="Max Mustermann", email="max@ministerium.example.org",
                          role=ORGANISER, meeting_ids=frozenset(meetings), signed_in_at=int(time.time()))
    client = create_app(notify_settings, engine=notify_engine).test_client()
    client.set_cookie(SESSION_COOKIE, sign_token(principal, notify_settings.session_secret))
    return client


def csrf_of(response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match, "no CSRF field on the page"
    return match.group(1)


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def write(client, form: dict, lang: str = "de"):
    page = client.get(f"{BASE}/rundschreiben/neu?lang={lang}")
    assert page.status_code == 200
    return client.post(f"{BASE}/rundschreiben?lang={lang}", data={**form, "csrf_token": csrf_of(page)})


def send(client, location: str):
    page = client.get(location)
    token = csrf_of(page)
    action = re.search(r'<form method="post" action="([^"]+/senden[^"]*)"', page.get_data(as_text=True)).group(1)
    return client.post(unescape(action), data={"csrf_token": token})


@pytest.fixture
def known_meeting(notify_engine, notify_settings):
    """The meeting, its agenda and two participants in notify's read models: the events handled as the
    consumer does, without a broker (their mails stay queued: no sender runs)."""
    handle = make_handler(notify_engine, notify_settings)
    for contract, payload in ((MEETING_PUBLISHED, meeting_state()),
                              (REGISTRATION_CONFIRMED, registration(email="erika@example.org")),
                              (REGISTRATION_CONFIRMED, registration(email="olga@example.org",
                                                                    organisation="Regierungspräsidium Kassel")),
                              (AGENDA_PUBLISHED, {"meeting": meeting_snapshot(), "agenda": agenda()})):
        handle(*parse_envelope(encode(make_envelope(contract, payload, producer="test")), "application/json"))


def test_the_pages_send_one_mail_to_each_recipient_of_the_audience_once_and_a_second_send_does_nothing(
        notify_worker, events, smtp_server, notify_settings, notify_engine):
    events.publish(MEETING_PUBLISHED, meeting_state())
    for r in (registration(email="erika@example.org", organisation="Ausländerbehörde Gießen"),
              registration(email="hans@example.org", organisation="ausländerbehörde gießen ", rounds=(ROUND_B,)),
              registration(email="olga@example.org", organisation="Regierungspräsidium Kassel")):
        events.publish(REGISTRATION_CONFIRMED, r)
    events.publish(REGISTRATION_WAITLISTED, registration(status="waitlisted", email="wait@example.org"))
    wait_until(lambda: len(smtp_server.handler.received) == 4, message="registration mails")
    events.publish(AGENDA_PUBLISHED, {"meeting": meeting_snapshot(), "agenda": agenda()})  # the rounds to offer
    wait_until(lambda: len(smtp_server.handler.received) == 7, message="registration and agenda mails")
    before = len(smtp_server.handler.received)
    client = browser(notify_settings, notify_engine)

    form = client.get(f"{BASE}/rundschreiben/neu")
    assert "Ungeklärte Identität" in text(form) and "Regierungspräsidium Kassel" in text(form)
    assert text(form).count("Ausländerbehörde Gießen") == 1  # one spelling per authority
    created = write(client, {"audience": "authority", "authority": "Ausländerbehörde Gießen",
                             "subject": "Raumänderung", "body": "Wir treffen uns in Raum 3."})
    assert created.status_code == 303
    preview = client.get(created.headers["Location"])
    shown = text(preview)
    assert preview.status_code == 200
    assert re.search(r"<dt>Empfänger</dt><dd>2</dd>", shown)
    assert "Wir treffen uns in Raum 3." in shown and "Guten Tag" in shown and "Dear" in shown
    assert "Jetzt an 2 Empfänger senden" in shown
    frame = re.search(r'<iframe[^>]+src="([^"]+)"', shown).group(1)
    html = client.get(frame)
    assert html.status_code == 200 and "Raum 3" in html.get_data(as_text=True)
    assert "sandbox" in html.headers["Content-Security-Policy"]
    time.sleep(1.5)
    assert len(smtp_server.handler.received) == before  # the draft sends nothing

    first = send(client, created.headers["Location"])
    assert first.status_code == 303 and "done=sent" in first.headers["Location"]
    with notify_engine.connect() as conn:
        broadcast_id = conn.execute(sa.select(broadcasts.c.id)).scalar_one()
    second = client.post(f"{BASE}/rundschreiben/{broadcast_id}/senden", data={"csrf_token": csrf_of(preview)})
    assert second.status_code == 303 and "done=already" in second.headers["Location"]
    assert "bereits versandt" in text(client.get(second.headers["Location"]))

    wait_until(lambda: len(smtp_server.handler.received) == before + 2, message="broadcast mails")
    time.sleep(2)  # a scheduler run or two later: still no second copy
    got = sorted(m.rcpt_tos[0] for m in smtp_server.handler.received[before:])
    assert got == ["erika@example.org", "hans@example.org"]
    listing = text(client.get(f"{BASE}/rundschreiben"))
    assert "Raumänderung" in listing and "versandt" in listing
    row = re.search(r"Raumänderung</a></td>.*?</tr>", listing, re.S).group(0)
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["2", "2", "0"]  # recipients, sent, failed


def test_form_errors_are_shown_at_their_fields_with_the_values_kept_in_german_and_english(
        known_meeting, notify_settings, notify_engine):
    client = browser(notify_settings, notify_engine)
    r = write(client, {"audience": "round", "round": "", "subject": "  ", "body": "Mein <b>Text</b>"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert re.search(r'id="round-error">Bitte Runde bzw. Behörde angeben.<', page)
    assert re.search(r'id="subject-error">Bitte geben Sie einen Betreff ein.<', page)
    assert 'id="subject"' in page and re.search(r'id="subject"[^>]*aria-invalid="true"', page)
    assert "Mein &lt;b&gt;Text&lt;/b&gt;</textarea>" in page  # kept, and escaped
    assert re.search(r'value="round" checked', page)
    r = write(client, {"audience": "round", "round": "no-such-round", "subject": "S", "body": "T"}, lang="en")
    assert r.status_code == 422 and "Please choose a round of the agenda." in r.get_data(as_text=True)
    r = write(client, {"audience": "authority", "authority": "Erfundenes Amt", "subject": "S", "body": "T"},
              lang="en")
    assert r.status_code == 422 and 'id="authority-error">Please choose an authority from the list.<' in \
        r.get_data(as_text=True)
    r = write(client, {"subject": "S", "body": ""}, lang="en")
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert 'id="audience-error">Please choose whom the message is for.<' in page
    assert 'id="body-error">Please enter a text.<' in page and '<html lang="en">' in page
    r = write(client, {"audience": "bogus", "subject": "x" * 201, "body": "T"})
    assert r.status_code == 422 and "Bitte höchstens 200 Zeichen eingeben." in r.get_data(as_text=True)
    with notify_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(broadcasts)).scalar() == 0


def test_a_draft_for_nobody_cannot_be_sent_and_a_changed_draft_starts_from_the_old_text(
        known_meeting, notify_settings, notify_engine):
    client = browser(notify_settings, notify_engine)
    created = write(client, {"audience": "waitlist", "subject": "Warteliste", "body": "Noch kein Platz."})
    page = text(client.get(created.headers["Location"]))
    assert "erreicht niemanden" in page and "/senden" not in page
    change = re.search(r'href="([^"]+von=[^"]+)"', page).group(1)
    again = text(client.get(unescape(change)))
    assert 'value="Warteliste"' in again and "Noch kein Platz.</textarea>" in again


def test_an_organiser_not_assigned_to_the_meeting_gets_403_and_nobody_posts_without_the_csrf_token(
        known_meeting, notify_settings, notify_engine):
    other = browser(notify_settings, notify_engine, meetings=(str(uuid.uuid4()),))
    for path in ("", "/rundschreiben", "/rundschreiben/neu", "/zustellungen", f"/rundschreiben/{uuid.uuid4()}"):
        assert other.get(BASE + path).status_code == 403, path
    assert other.post(f"{BASE}/rundschreiben", data={"audience": "meeting", "subject": "S", "body": "T"}) \
        .status_code in (400, 403)
    anonymous = create_app(notify_settings, engine=notify_engine).test_client()
    r = anonymous.get(f"{BASE}/rundschreiben", headers={"Accept": "text/html"})
    assert r.status_code == 303 and "next=" in r.headers["Location"]
    mine = browser(notify_settings, notify_engine)
    mine.get(f"{BASE}/rundschreiben/neu")
    forged = mine.post(f"{BASE}/rundschreiben", data={"audience": "meeting", "subject": "S", "body": "T"})
    assert forged.status_code == 400
    json_without_token = mine.post(f"/api/meetings/{MEETING_ID}/broadcasts",
                                   json={"audience": "meeting", "subject": "S", "body": "T"})
    assert json_without_token.status_code == 400
    with notify_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(broadcasts)).scalar() == 0


def test_the_delivery_log_shows_per_participant_what_was_sent_and_why_a_mail_failed_with_a_failed_filter(
        known_meeting, notify_settings, notify_engine):
    with notify_engine.begin() as tx:
        rid = tx.execute(sa.text("select registration_id from recipients where participant->>'email' = "
                                 "'olga@example.org'")).scalar_one()
        for kind, status, error in (("registration_confirmed", "sent", None),
                                    ("reminder", "failed", "550 5.1.1 Postfach unbekannt")):
            key = f"{kind}:{MEETING_ID}:{rid}:x"
            queue_mail(tx, logical_key=key, kind=kind, source_message_id=str(uuid.uuid4()), source_body=b"{}",
                       correlation_id=None, recipient="olga@example.org", message=b"Subject: x\r\n\r\nx",
                       meeting_id=MEETING_ID, registration_id=rid, subject=f"Betreff {kind}")
            tx.execute(mails.update().where(mails.c.logical_key == key).values(status=status, last_error=error,
                                                                                attempts=1))
    client = browser(notify_settings, notify_engine)
    page = text(client.get(f"{BASE}/zustellungen"))
    assert re.search(r"<h2[^>]*>Erika Muster <span class=\"hint\">\(olga@example.org\)</span></h2>", page)
    assert "olga@example.org" in page and "Betreff registration_confirmed" in page
    assert "550 5.1.1 Postfach unbekannt" in page and "fehlgeschlagen" in page
    assert f'href="/meetings/{MEETING_ID}/preview/reminder?lang=de"' in page
    failed = text(client.get(f"{BASE}/zustellungen?status=failed"))
    assert "550 5.1.1 Postfach unbekannt" in failed and "Betreff registration_confirmed" not in failed
    english = text(client.get(f"{BASE}/zustellungen?status=failed&lang=en"))
    assert "Reminder" in english and "failed" in english and "Deliveries" in english
    assert client.get(f"{BASE}/zustellungen?status='--").status_code == 200  # an unknown filter shows all
    assert client.get(f"{BASE}/zustellungen?status=%00'--").status_code == 400  # NUL: refused for every route


TRANSLATABLE = re.compile(r"""_\(\s*(["'])(.+?)\1\s*\)""")


def test_every_german_text_of_the_pages_has_its_english_version():
    texts = set(page_texts.CODE_TEXTS)
    for template in ("_organiser.html", "_nav.html", "meeting.html", "broadcasts.html", "broadcast_form.html",
                     "broadcast.html", "deliveries.html", "error.html"):
        found = {m.group(2) for m in TRANSLATABLE.finditer((PAGES / template).read_text())}
        assert found, template
        texts |= found
    missing = sorted(t for t in texts if t not in page_texts.catalog.english)
    assert not missing, missing


def test_the_english_pages_show_no_german_text_of_the_catalog(known_meeting, notify_settings, notify_engine):
    client = browser(notify_settings, notify_engine)
    created = write(client, {"audience": "round", "round": ROUND_A, "subject": "S", "body": "T"}, lang="en")
    pages = ["", "/rundschreiben", "/rundschreiben/neu", "/zustellungen", created.headers["Location"][len(BASE):]]
    # Mail subjects are data (German first, English second), so the kinds' labels may appear in them.
    german = [t for t in page_texts.catalog.english if len(t) > 12 and t not in page_texts.KIND_LABELS.values()]
    for path in pages:
        r = client.get(BASE + path + ("&" if "?" in path else "?") + "lang=en")
        assert r.status_code == 200, path
        body = text(r)
        left = [t for t in german if t in body]
        assert not left, (path, left)
    assert "Registration confirmed" in text(client.get(f"{BASE}/zustellungen?lang=en"))
