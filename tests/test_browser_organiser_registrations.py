"""The organisers' registration pages in a real headless Chromium: no axe-core violations, German and English,
and a check-in done by keyboard."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from browser_support import assert_accessible  # noqa: E402
from participant_support import register_confirmed  # noqa: E402

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser


def _sign_in(server, page) -> None:
    admin = server.logins["admin"]
    page.goto(f"{server.base_url}/organiser/")
    assert "/agenda/anmelden" in page.url
    page.fill("#email", admin["email"])
    page.fill("#password", admin["password"])
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("^(Anmelden|Sign in)$")).click()


def test_the_organisers_registration_pages_have_no_axe_violations_in_german_and_english(server, axe_page):
    page = axe_page
    registration_id = register_confirmed(server, "Jürgen", "Weiß", "Ausländerbehörde Gießen")
    _sign_in(server, page)
    base = f"{server.base_url}/organiser/meetings/{server.meeting_id}"
    days = requests.get(f"{server.base_url}/api/organiser/meetings", timeout=10,
                        headers={"Authorization": f"Bearer {server.token}"}).json()["meetings"]
    day = next(m for m in days if m["id"] == server.meeting_id)["days"][0]
    pages = [f"{server.base_url}/organiser/", base, f"{base}?status=nope", f"{base}/registrations/{registration_id}",
             f"{base}/registrations/{registration_id}/cancel", f"{base}/settings", f"{base}/checkin/{day}",
             f"{base}/attendance", f"{server.base_url}/organiser/authorities"]
    for lang in ("de", "en"):
        for url in pages:
            response = page.goto(f"{url}{'&' if '?' in url else '?'}lang={lang}")
            assert response.status == 200, url
            assert_accessible(page, f"{url} ({lang})")
    # Errors of the settings form, at their fields.
    page.goto(f"{base}/settings?lang=de")
    page.fill("#authority_quota", "drei")
    with page.expect_navigation():
        page.get_by_role("button", name="Speichern").click()
    assert page.locator("#authority_quota-error").is_visible()
    assert_accessible(page, "the settings form with an error")


def test_a_participant_is_checked_in_by_keyboard(server, page):
    register_confirmed(server, "Tastatur", "Nutzerin", "BAMF")
    _sign_in(server, page)
    days = requests.get(f"{server.base_url}/api/organiser/meetings", timeout=10,
                        headers={"Authorization": f"Bearer {server.token}"}).json()["meetings"]
    day = next(m for m in days if m["id"] == server.meeting_id)["days"][0]
    page.goto(f"{server.base_url}/organiser/meetings/{server.meeting_id}/checkin/{day}?lang=de")
    page.focus("#q")
    page.keyboard.type("Nutzerin")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    button = page.get_by_role("button", name="Tastatur Nutzerin: als anwesend markieren")
    button.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("button", name="Tastatur Nutzerin: Check-in rückgängig machen").is_visible()
