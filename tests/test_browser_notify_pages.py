"""The organisers' notify pages (broadcasts, preview, sent state, delivery log) in a real headless Chromium
against the embedded server: no axe-core violations (WCAG 2.1 AA) in German and English, and a broadcast
written and sent by keyboard alone."""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from browser_support import assert_accessible  # noqa: E402
from participant_support import register_confirmed  # noqa: E402

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser


def _notify_knows(server, organisation: str) -> None:
    """Wait until the registrations reached notify's read model (the form offers their authority)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        r = requests.get(f"{server.base_url}/notify/meetings/{server.meeting_id}/rundschreiben/neu", timeout=10,
                         headers={"Authorization": f"Bearer {server.token}"})
        if r.status_code == 200 and organisation in r.text:
            return
        time.sleep(0.2)
    pytest.fail(f"notify never offered {organisation}:\n{server.output()[-3000:]}")


def _sign_in(server, page, url: str) -> None:
    admin = server.logins["admin"]
    page.goto(url)
    assert "/agenda/anmelden" in page.url
    page.fill("#email", admin["email"])
    page.fill("#password", admin["password"])
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("^(Anmelden|Sign in)$")).click()
    assert page.url.startswith(url.split("?")[0]), page.url


def _tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"{selector} never got the focus by Tab")


@pytest.fixture(scope="module")
def participants(server):
    register_confirmed(server, "Jürgen", "Weiß", "Ausländerbehörde Gießen")
    register_confirmed(server, "Olga", "Schmidt", "Regierungspräsidium Kassel")
    _notify_knows(server, "Regierungspräsidium Kassel")


def test_the_notify_pages_have_no_axe_violations_in_german_and_english(server, participants, axe_page):
    page = axe_page
    base = f"{server.base_url}/notify/meetings/{server.meeting_id}"
    _sign_in(server, page, f"{base}/rundschreiben")
    for lang in ("de", "en"):
        for url in (base, f"{base}/rundschreiben", f"{base}/rundschreiben/neu"):
            response = page.goto(f"{url}?lang={lang}")
            assert response.status == 200, url
            assert_accessible(page, f"{url} ({lang})")
        # the form with errors, at their fields
        page.goto(f"{base}/rundschreiben/neu?lang={lang}")
        page.check("#audience-authority")
        page.fill("#body", "Nur Text, kein Betreff.")
        with page.expect_navigation():
            page.get_by_role("button", name=re.compile("^(Vorschau ansehen|Preview)$")).click()
        assert page.locator("#subject-error").is_visible() and page.locator("#authority-error").is_visible()
        assert page.locator("#body").input_value() == "Nur Text, kein Betreff."
        assert_accessible(page, f"the broadcast form with errors ({lang})")
        # the preview
        page.check("#audience-meeting")
        page.fill("#subject", f"Hinweis zur Anreise ({lang})")
        with page.expect_navigation():
            page.get_by_role("button", name=re.compile("^(Vorschau ansehen|Preview)$")).click()
        assert re.search(r"/rundschreiben/[0-9a-f-]{36}", page.url), page.url
        assert page.locator("pre").inner_text().count("Nur Text, kein Betreff.") == 1
        assert "Dear" in page.locator("pre").inner_text()
        # the HTML part loads in its sandboxed frame (the default headers forbid framing: not for this one)
        assert page.frame_locator("iframe").get_by_text("Nur Text, kein Betreff.").is_visible()
        assert_accessible(page, f"the broadcast preview ({lang})")
        # sent, and a second send (the back button and the same form again) sends nothing more
        preview_url = page.url
        with page.expect_navigation():
            page.get_by_role("button", name=re.compile("(senden|Send to)")).click()
        assert "done=sent" in page.url
        assert page.get_by_role("status").is_visible()
        assert_accessible(page, f"the sent broadcast ({lang})")
        page.goto(preview_url)
        assert page.get_by_role("button", name=re.compile("(senden|Send to)")).count() == 0
        # the delivery log, all and failed only
        for url in (f"{base}/zustellungen?lang={lang}", f"{base}/zustellungen?status=failed&lang={lang}"):
            response = page.goto(url)
            assert response.status == 200
            assert_accessible(page, f"{url}")
    page.goto(f"{base}/zustellungen?lang=de")
    assert page.get_by_role("heading", name=re.compile("Jürgen Weiß")).is_visible()


def test_a_broadcast_is_written_previewed_and_sent_by_keyboard_alone(server, participants, page):
    base = f"{server.base_url}/notify/meetings/{server.meeting_id}"
    _sign_in(server, page, f"{base}/rundschreiben/neu?lang=de")
    _tab_to(page, "#audience-meeting")
    for _ in range(3):  # within the radio group: "a round" (if the agenda has rounds), then "an authority"
        if page.locator("#audience-authority").is_checked():
            break
        page.keyboard.press("ArrowDown")
    assert page.locator("#audience-authority").is_checked()
    _tab_to(page, "#authority")
    page.keyboard.press("ArrowDown")  # the first authority of the list
    assert page.locator("#authority").input_value() != ""
    _tab_to(page, "#subject")
    page.keyboard.type("Tastatur")
    _tab_to(page, "#body")
    page.keyboard.type("Mit der Tastatur geschrieben.")
    _tab_to(page, "button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Mit der Tastatur geschrieben." in page.locator("pre").inner_text()
    _tab_to(page, "form[action*=senden] button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "done=sent" in page.url
    assert page.get_by_role("status").inner_text().startswith("Das Rundschreiben wird jetzt versandt")
