"""The registration pages in a real headless Chromium: accessibility (axe-core), keyboard use, errors, English."""
from __future__ import annotations

import html
import re
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from browser_support import assert_accessible  # noqa: E402
from embedded_server import DEMO_TITLE  # noqa: E402

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser

GERMAN_ERRORS = {
    "last_name": "Bitte geben Sie Ihren Nachnamen an.",
    "email": "Bitte geben Sie Ihre E-Mail-Adresse an.",
    "organisation": "Bitte geben Sie Ihre Behörde oder Organisation an.",
    "privacy_consent": "Bitte stimmen Sie der Datenschutzerklärung zu.",
}
ENGLISH_ERRORS = {
    "first_name": "Please enter your first name.",
    "last_name": "Please enter your last name.",
    "email": "Please enter your email address.",
    "organisation": "Please enter your authority or organisation.",
    "privacy_consent": "Please agree to the privacy notice.",
}


def form_url(server, query: str = "") -> str:
    return f"{server.base_url}/meetings/{server.meeting_id}{query}"


def unique_email(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:10]}@example.org"


def wait_for_mail(server, *needles: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = html.unescape(requests.get(f"{server.base_url}/notify/mail", timeout=5).text)
        if all(n in text for n in needles):
            return text
        time.sleep(0.2)
    raise AssertionError(f"{[n for n in needles if n not in text]} not on /notify/mail:\n{text}")


def fill_and_submit(page, first: str, last: str, email: str, organisation: str) -> None:
    page.fill("#first_name", first)
    page.fill("#last_name", last)
    page.fill("#email", email)
    page.fill("#organisation", organisation)
    page.check("#privacy_consent")
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_pages_have_no_axe_violations(server, axe_page):
    page = axe_page
    response = page.goto(f"{server.base_url}/")
    assert response.status == 200
    assert page.get_by_role("link", name=DEMO_TITLE).is_visible()
    assert_accessible(page, "the start page")

    response = page.goto(form_url(server))
    assert response.status == 200
    assert_accessible(page, "the registration form")

    with page.expect_navigation() as nav:
        page.click("button[type=submit]")
    assert nav.value.status == 422
    assert page.locator(".summary").is_visible()
    assert_accessible(page, "the form with errors")

    email = unique_email("axe")
    fill_and_submit(page, "Axel", "Prüfer", email, "Ausländerbehörde Kassel")
    assert "/danke" in page.url
    assert_accessible(page, "the thank-you page")

    response = page.goto(form_url(server, "?lang=en"))
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "en"
    assert_accessible(page, "the English form")

    wait_for_mail(server, email)
    response = page.goto(f"{server.base_url}/notify/mail")
    assert response.status == 200
    assert_accessible(page, "the captured mail page")


def test_keyboard_only_registration(server, page):
    page.goto(form_url(server))
    email = unique_email("tastatur")
    page.focus("#first_name")
    for field, value in (("first_name", "Karla"), ("last_name", "Tastmann"), ("email", email),
                         ("organisation", "Ausländerbehörde Wiesbaden"), ("function", "Teamleitung")):
        assert page.evaluate("document.activeElement.id") == field, f"focus should be on {field}"
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "privacy_consent"
    page.keyboard.press("Space")
    assert page.is_checked("#privacy_consent")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('type')") == "submit"
    with page.expect_navigation() as nav:
        page.keyboard.press("Enter")
    assert nav.value.status == 200
    assert re.search(rf"/meetings/{server.meeting_id}/danke\?", page.url), page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Vielen Dank für Ihre Anmeldung"
    assert "Ihr Platz ist bestätigt" in page.get_by_role("status").inner_text()

    mail = wait_for_mail(server, email)
    article = next(part for part in mail.split("<article>") if email in part)
    assert "Karla Tastmann" in article
    assert DEMO_TITLE in article


def _description_of(page, field: str) -> list[str]:
    """The texts of the elements the field's aria-describedby points to."""
    ids = (page.get_attribute(f"#{field}", "aria-describedby") or "").split()
    assert ids, f"#{field} has no aria-describedby"
    texts = []
    for ref in ids:
        target = page.locator(f"[id='{ref}']")
        assert target.count() == 1, f"aria-describedby of #{field} points to missing id {ref!r}"
        texts.append(" ".join(target.inner_text().split()))
    return texts


def test_empty_form_shows_each_message_at_its_field(server, page):
    page.goto(form_url(server))
    page.fill("#first_name", "Gerlinde")
    with page.expect_navigation() as nav:
        page.click("button[type=submit]")
    assert nav.value.status == 422

    # The value entered is kept and that field is not marked.
    assert page.input_value("#first_name") == "Gerlinde"
    assert page.get_attribute("#first_name", "aria-invalid") is None
    assert page.locator("#first_name-error").count() == 0
    assert page.get_attribute("#function", "aria-invalid") is None

    for field, message in GERMAN_ERRORS.items():
        assert page.get_attribute(f"#{field}", "aria-invalid") == "true", field
        described = _description_of(page, field)
        assert message in described, f"#{field} is described by {described}, expected {message!r}"
        error = page.locator(f"p.error#{field}-error")
        assert error.is_visible()
        assert " ".join(error.inner_text().split()) == message

    # The summary lists every message and links to its field.
    summary = page.locator(".summary")
    assert summary.get_attribute("role") == "alert"
    for field, message in GERMAN_ERRORS.items():
        assert summary.locator(f"a[href='#{field}']").inner_text().strip() == message
    assert page.is_checked("#privacy_consent") is False


def test_english_form_and_error_messages(server, page):
    page.goto(form_url(server))
    page.get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(r"lang=en"))
    assert page.locator("html").get_attribute("lang") == "en"
    for label in ("First name", "Last name", "Email address", "Authority / organisation"):
        assert page.get_by_label(label, exact=True).count() == 1, label
    assert page.get_by_label(re.compile(r"^Function")).count() == 1
    assert page.get_by_label(re.compile(r"^I have read the privacy notice")).count() == 1
    assert page.get_by_role("button", name="Register").is_visible()
    assert page.get_by_role("link", name="Deutsch").is_visible()

    with page.expect_navigation() as nav:
        page.get_by_role("button", name="Register").click()
    assert nav.value.status == 422
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#summary-heading").inner_text().strip() == "Errors in the form"
    for field, message in ENGLISH_ERRORS.items():
        assert page.get_attribute(f"#{field}", "aria-invalid") == "true", field
        assert message in _description_of(page, field)
    # No German message left over.
    body = page.locator("main").inner_text()
    for german in GERMAN_ERRORS.values():
        assert german not in body


def test_language_switch_keeps_the_thank_you_page(server, page):
    page.goto(f"{server.base_url}/meetings/{server.meeting_id}/danke?status=confirmed&lang=de")
    assert page.get_by_role("heading", level=1).inner_text() == "Vielen Dank für Ihre Anmeldung"
    with page.expect_navigation() as nav:
        page.get_by_role("link", name="English").click()
    assert nav.value.status == 200, page.url
    assert "status=confirmed" in page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you for registering"
