"""The participant journey in a real headless Chromium, against the local stack as processes (gunicorn and
workers on RabbitMQ and PostgreSQL) and this test's own SMTP server (aiosmtpd): register, confirm through the
link in the email, change a round on the personal page, cancel; the next on the waiting list is promoted and
told, once.
"""
from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from treffpunkt_shared.testing import RecordingHandler, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from browser_support import new_page  # noqa: E402
from stack_support import running_stack  # noqa: E402
from participant_support import (ROUND_A, ROUND_B, create_meeting_with_rounds, link_in, parse_mail,  # noqa: E402
                                 text_of, wait_for_meeting_page)

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.browser, pytest.mark.stack]

RECEIVED = "Bitte bestätigen Sie Ihre Anmeldung"  # parts of the subjects
CONFIRMED = "Anmeldebestätigung"
WAITLISTED = "Warteliste"
UPDATED = "Anmeldung geändert"
CANCELLED = "Stornierung"
PROMOTED = "Ein Platz ist frei geworden"


@pytest.fixture(scope="module")
def stack(smtp, amqp_url, tmp_path_factory):
    with running_stack("journey", amqp_url=amqp_url, smtp_port=smtp[1],
                       log_dir=tmp_path_factory.mktemp("journey-logs"),
                       web_workers={"agenda": 1, "registration": 1, "notify": 1},
                       # Every request of the test comes from 127.0.0.1.
                       extra_env={"*": {"RATE_LIMIT_PER_ADDRESS": "10000", "RETRY_DELAYS_MS": "500,1000,2000"}}) as stack:
        yield stack


def mails(handler: RecordingHandler, recipient: str, subject_part: str) -> list:
    return [parse_mail(m.data) for m in handler.to(recipient) if subject_part in str(parse_mail(m.data)["Subject"])]


def wait_for_mail(handler: RecordingHandler, recipient: str, subject_part: str, timeout: float = 30.0):
    found = wait_until(lambda: mails(handler, recipient, subject_part), timeout=timeout,
                       message=f"a mail to {recipient} with {subject_part!r} "
                               f"(got {[str(parse_mail(m.data)['Subject']) for m in handler.to(recipient)]})")
    return found[-1]


def register_in_browser(page, url: str, first: str, last: str, email: str, round_title: str) -> None:
    page.goto(url)
    page.fill("#first_name", first)
    page.fill("#last_name", last)
    page.fill("#email", email)
    page.fill("#organisation", "Ausländerbehörde Darmstadt")
    page.get_by_label(round_title, exact=True).check()
    page.check("#privacy_consent")
    with page.expect_navigation() as nav:
        page.get_by_role("button", name="Anmelden").click()
    assert nav.value.status == 200, page.url


def status_line(page) -> str:
    return " ".join(page.locator(".status-line").inner_text().split())


def your_rounds(page) -> list[str]:
    return [" ".join(t.split()) for t in page.locator("h2:text-is('Ihre Runden') + ul > li").all_inner_texts()]


def test_a_participant_registers_confirms_by_email_changes_a_round_and_cancels_and_the_next_is_promoted(
        stack, smtp, browser):
    handler, _ = smtp
    meeting = create_meeting_with_rounds(stack.base_url("agenda") + "/api", stack.token, capacity=1,
                                         round_capacity=1)
    registration = stack.base_url("registration")
    wait_for_meeting_page(registration, meeting)
    url = f"{registration}/meetings/{meeting.id}"
    anna, ben = (f"{n}-{uuid.uuid4().hex[:6]}@example.org" for n in ("anna", "ben"))
    contexts = []
    try:
        context_a, page_a = new_page(browser)
        context_b, page_b = new_page(browser)
        contexts += [context_a, context_b]

        # Anna takes the one place, with round A; Ben finds round A full and gets onto the waiting list.
        register_in_browser(page_a, url, "Anna", "Erstmann", anna, ROUND_A)
        assert "Bis dahin ist ein Platz für Sie reserviert." in page_a.inner_text("main")
        page_b.goto(url)
        assert page_b.get_by_label(ROUND_A, exact=True).is_disabled()
        register_in_browser(page_b, url, "Ben", "Wartemann", ben, ROUND_B)
        assert "Warteliste auf Platz 1" in page_b.inner_text("main")

        # Both confirm through the link in the first email.
        received = wait_for_mail(handler, anna, RECEIVED)
        page_a.goto(link_in(received, "/bestaetigen/"))
        assert "/anmeldung/" in page_a.url
        assert "Vielen Dank, Ihre Anmeldung ist bestätigt." in page_a.get_by_role("status").inner_text()
        assert status_line(page_a) == "Ihr Platz ist bestätigt."
        assert your_rounds(page_a) == [f"{ROUND_A} (11:15 Uhr–12:30 Uhr, Besprechungsraum 2)"]
        personal_a = page_a.url.split("?")[0]

        confirmed = wait_for_mail(handler, anna, CONFIRMED)
        assert link_in(confirmed, "/anmeldung/") == personal_a  # the personal link, also in the mail
        invitation = [p for p in confirmed.walk() if p.get_content_type() == "text/calendar"]
        assert invitation and meeting.title in invitation[0].get_content()

        page_b.goto(link_in(wait_for_mail(handler, ben, RECEIVED), "/bestaetigen/"))
        assert status_line(page_b) == "Sie stehen auf der Warteliste auf Platz 1."
        assert your_rounds(page_b) == [f"{ROUND_B} (11:15 Uhr–12:30 Uhr, Besprechungsraum 1) – "
                                       "Wunsch, noch ohne Platz"]
        wait_for_mail(handler, ben, WAITLISTED)

        # Anna moves to round B on her personal page (Ben only wishes for it, so it has room).
        page_a.get_by_label(ROUND_B, exact=True).check()
        with page_a.expect_navigation() as nav:
            page_a.get_by_role("button", name="Änderungen speichern").click()
        assert nav.value.status == 200
        assert "Ihre Änderungen sind gespeichert." in page_a.get_by_role("status").inner_text()
        assert your_rounds(page_a) == [f"{ROUND_B} (11:15 Uhr–12:30 Uhr, Besprechungsraum 1)"]
        assert page_a.get_by_label(ROUND_B, exact=True).is_checked()
        wait_for_mail(handler, anna, UPDATED)

        # ... and cancels, with the confirmation step.
        page_a.get_by_role("link", name="Anmeldung stornieren …").click()
        page_a.wait_for_url("**/stornieren*")
        assert page_a.get_by_role("heading", level=1).inner_text() == "Anmeldung stornieren"
        with page_a.expect_navigation():
            page_a.get_by_role("button", name="Ja, Anmeldung stornieren").click()
        assert "Ihre Anmeldung ist storniert." in page_a.get_by_role("status").inner_text()
        assert status_line(page_a) == "Diese Anmeldung ist storniert."
        assert page_a.get_by_role("button", name="Änderungen speichern").count() == 0
        wait_for_mail(handler, anna, CANCELLED)

        # Ben moves up: the promotion mail brings his personal link, and his page shows the place and round B.
        promoted = wait_for_mail(handler, ben, PROMOTED)
        assert "Ben Wartemann" in text_of(promoted)
        page_b.goto(link_in(promoted, "/anmeldung/"))
        assert status_line(page_b) == "Ihr Platz ist bestätigt."
        assert your_rounds(page_b) == [f"{ROUND_B} (11:15 Uhr–12:30 Uhr, Besprechungsraum 1)"]

        # Told once, and the place is his: none left on the form.
        time.sleep(1.5)  # give a duplicate the chance to arrive
        assert len(mails(handler, ben, PROMOTED)) == 1
        assert len(mails(handler, anna, CANCELLED)) == 1
        page_a.goto(url)
        assert "Das Treffen ist ausgebucht" in page_a.inner_text("main")
        # Exactly one place taken (Ben's), and of the rounds only B's one place (Ben's again).
        api = requests.get(f"{registration}/api/meetings/{meeting.id}", timeout=10).json()
        assert api["places_left"] == 0
        assert {r["title"]: r["places_left"] for r in api["rounds"]} == {ROUND_A: 1, ROUND_B: 0}
    finally:
        for context in contexts:
            context.close()
