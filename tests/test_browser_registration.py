"""The participant pages in a real headless Chromium, on the embedded server: accessibility (axe-core, WCAG 2.1
AA) of every page and state in German and English, keyboard-only registration with a round chosen in its
radio group, errors tied to their fields, the English form, the language switch after registering.

The journey with a real SMTP server (confirm, change, cancel, promotion) is in test_browser_journey.py.
"""
from __future__ import annotations

import hashlib
import re
import sqlite3
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from browser_support import assert_accessible  # noqa: E402
from embedded_server import DEMO_TITLE  # noqa: E402
from participant_support import (ROUND_A, ROUND_B, create_meeting_with_rounds, link_in,  # noqa: E402
                                 wait_for_captured, wait_for_meeting_page)

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser

RECEIVED = "Bitte bestätigen Sie Ihre Anmeldung"  # the opt-in mail's subject (both languages in each)

GERMAN_ERRORS = {
    "first_name": "Bitte geben Sie Ihren Vornamen an.",
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
    "phone": "Please enter a phone number in digits (e.g. 0611 817-0).",
}
# Every control of the form in the order Tab reaches it (the radio group is one stop).
TAB_ORDER = ["first_name", "last_name", "email", "organisation", "function", "phone", "<round>", "dietary_needs",
             "accessibility_needs", "photo_consent", "privacy_consent", "<submit>"]


@pytest.fixture
def new_meeting(server):
    """``new_meeting(capacity=…, round_capacity=…)``: a fresh meeting with two parallel rounds, on the form."""
    def make(capacity=2, round_capacity=1):
        meeting = create_meeting_with_rounds(f"{server.base_url}/agenda/api", server.token, capacity=capacity,
                                             round_capacity=round_capacity)
        wait_for_meeting_page(server.base_url, meeting)
        return meeting
    return make


def meeting_url(server, meeting, lang=None) -> str:
    return f"{server.base_url}/meetings/{meeting.id}" + (f"?lang={lang}" if lang else "")


def unique_email(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:10]}@example.org"


def register_by_api(server, meeting, email: str, round_title: str | None = None) -> dict:
    """Somebody else registers (through the JSON API) and so takes a place, and a round place."""
    response = requests.post(f"{server.base_url}/api/meetings/{meeting.id}/registrations", timeout=10, json={
        "first_name": "Erika", "last_name": "Muster", "email": email, "organisation": "Ausländerbehörde Gießen",
        "privacy_consent": True, "rounds": [meeting.round_ids[round_title]] if round_title else []})
    assert response.status_code == 201, response.text
    return response.json()


def fill_form(page, first: str, last: str, email: str, organisation: str, round_title: str | None = None,
              **optional) -> None:
    page.fill("#first_name", first)
    page.fill("#last_name", last)
    page.fill("#email", email)
    page.fill("#organisation", organisation)
    for field, value in optional.items():
        page.fill(f"#{field}", value)
    if round_title:
        page.get_by_label(round_title, exact=True).check()
    page.check("#privacy_consent")


def submit(page, status: int = 200) -> None:
    with page.expect_navigation() as nav:
        page.click("form button[type=submit]")
    assert nav.value.status == status, f"{page.url} answered {nav.value.status}"


def confirm_in_browser(page, server, email: str, lang: str) -> str:
    """Follow the confirmation link of the mail to ``email``; return the personal link it leads to."""
    mail = wait_for_captured(server.var, email, RECEIVED)
    page.goto(link_in(mail, "/bestaetigen/"))
    assert "/anmeldung/" in page.url, page.url
    return page.url.split("?")[0]


def slot_field(page) -> str:
    """The id (and name) of the meeting's one time slot's radio group, ``round_<slot>``."""
    ids = page.locator("fieldset.slot").evaluate_all("els => els.map(e => e.id)")
    assert len(ids) == 1 and ids[0].startswith("round_"), ids
    return ids[0]


def description_of(page, selector: str) -> list[str]:
    """The texts of the elements the control's aria-describedby points to."""
    ids = (page.get_attribute(selector, "aria-describedby") or "").split()
    assert ids, f"{selector} has no aria-describedby"
    texts = []
    for ref in ids:
        target = page.locator(f"[id='{ref}']")
        assert target.count() == 1, f"aria-describedby of {selector} points to missing id {ref!r}"
        texts.append(" ".join(target.inner_text().split()))
    return texts


FOCUS_RING_CONTRAST = """() => {
  const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = rgb(c).map(v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const style = getComputedStyle(document.activeElement);
  if (style.outlineStyle === "none" || parseFloat(style.outlineWidth) < 2) return 0;
  const [a, b] = [lum(style.outlineColor), lum(getComputedStyle(document.body).backgroundColor)];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def round_info(page, title: str) -> str:
    """What the round's radio button is described by (times, room, places left or "ausgebucht")."""
    radio_id = page.get_by_label(title, exact=True).get_attribute("id")
    return " ".join(description_of(page, f"[id='{radio_id}']"))


def revive_confirmation_link(server, token: str) -> None:
    """Undo the revocation of a used confirmation link, as when two clicks on it race: the second request
    passed the link check before the first one's transaction (which revokes it) committed."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    with sqlite3.connect(server.var / "registration.db", timeout=10) as db:
        changed = db.execute("UPDATE registration_links SET revoked_at = NULL WHERE token_digest = ?",
                             (digest,)).rowcount
    assert changed == 1


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_participant_page_and_state_has_no_axe_violations(server, axe_page, new_meeting, lang):
    page = axe_page
    english = lang == "en"
    meeting = new_meeting(capacity=1, round_capacity=1)
    url = meeting_url(server, meeting, lang)

    assert page.goto(f"{server.base_url}/?lang={lang}").status == 200
    assert page.get_by_role("link", name=meeting.title).is_visible()
    assert_accessible(page, f"the start page ({lang})")

    assert page.goto(url).status == 200
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("table.agenda").get_by_text(ROUND_A).is_visible()  # the agenda preview
    assert page.get_by_label(ROUND_A, exact=True).is_enabled()
    assert_accessible(page, f"the meeting page with its agenda and round choice ({lang})")

    submit(page, 422)
    assert page.locator(".summary").is_visible()
    assert_accessible(page, f"the form with errors ({lang})")

    # The first registers for round A: a place (held until confirmed), and round A is full now.
    first = unique_email("axe-erste")
    page.goto(url)
    fill_form(page, "Axel", "Prüfer", first, "Ausländerbehörde Kassel", ROUND_A, phone="0561 787-0")
    submit(page)
    assert "/angemeldet" in page.url and "place=1" in page.url
    assert_accessible(page, f"the page after registering, with a place ({lang})")

    page.goto(url)
    assert page.get_by_label(ROUND_A, exact=True).is_disabled()
    assert ("fully booked" if english else "ausgebucht") in round_info(page, ROUND_A)
    assert page.get_by_label(ROUND_B, exact=True).is_enabled()
    assert_accessible(page, f"the meeting page with a full round and no place left ({lang})")

    # The second gets onto the waiting list.
    second = unique_email("axe-zweite")
    fill_form(page, "Berta", "Wartend", second, "Regierungspräsidium Gießen", ROUND_B)
    submit(page)
    assert "place=0" in page.url and "position=1" in page.url
    assert ("waiting list at position" if english else "Warteliste auf Platz") in page.locator("main").inner_text()
    assert_accessible(page, f"the page after registering, on the waiting list ({lang})")

    page.goto(url)
    fill_form(page, "Axel", "Prüfer", first, "Ausländerbehörde Kassel")
    submit(page)
    assert page.get_by_role("heading", level=1).inner_text() == (
        "You are already registered" if english else "Sie sind bereits angemeldet")
    assert_accessible(page, f"the already-registered page ({lang})")

    first_link = confirm_in_browser(page, server, first, lang)
    assert ("Your place is confirmed." if english else "Ihr Platz ist bestätigt.") in page.inner_text("main")
    assert page.input_value("#phone") == "0561 787-0"
    assert page.get_attribute("#phone", "autocomplete") == "tel"
    assert page.get_attribute("#function", "autocomplete") == "organization-title"
    assert_accessible(page, f"the personal page, confirmed ({lang})")

    second_link = confirm_in_browser(page, server, second, lang)
    assert ("waiting list at position 1" if english else "Warteliste auf Platz 1") in page.inner_text("main")
    assert_accessible(page, f"the personal page, waitlisted ({lang})")

    page.goto(f"{second_link}/stornieren?lang={lang}")
    assert page.get_by_role("button", name="Yes, cancel the registration" if english
                            else "Ja, Anmeldung stornieren").is_visible()
    assert_accessible(page, f"the cancel confirmation ({lang})")
    submit(page)
    assert ("This registration is cancelled." if english else "Diese Anmeldung ist storniert.") in \
        page.inner_text("main")
    assert_accessible(page, f"the personal page, cancelled ({lang})")

    # The confirmation link clicked twice at once: the slower click meets a confirmed registration.
    token = link_in(wait_for_captured(server.var, first, RECEIVED), "/bestaetigen/").rsplit("/", 1)[1]
    revive_confirmation_link(server, token)
    page.goto(f"{server.base_url}/bestaetigen/{token}?lang={lang}")
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Registration already confirmed" if english else "Anmeldung bereits bestätigt")
    assert_accessible(page, f"the already-confirmed page ({lang})")

    page.goto(f"{first_link}?lang={lang}")
    with page.expect_navigation():
        page.get_by_role("button", name="Request a new link" if english else "Neuen Link anfordern").click()
    assert page.get_by_role("heading", level=1).inner_text() == ("New link sent" if english
                                                                 else "Neuer Link verschickt")
    assert_accessible(page, f"the link-renewed page ({lang})")

    response = page.goto(f"{first_link}?lang={lang}")  # the old link, revoked now
    assert response.status == 404
    assert ("This link is invalid or has expired." if english
            else "Dieser Link ist ungültig oder abgelaufen.") in page.inner_text("main")
    assert_accessible(page, f"the invalid link's page ({lang})")

    if not english:  # the embedded mode's page of captured mails (German only)
        assert page.goto(f"{server.base_url}/notify/mail").status == 200
        assert page.get_by_text(first).count() > 0
        assert_accessible(page, "the captured mail page")


def test_a_participant_registers_with_the_keyboard_alone_choosing_a_round_in_its_radio_group(
        server, page, new_meeting):
    meeting = new_meeting(capacity=5, round_capacity=1)
    register_by_api(server, meeting, unique_email("voll"), ROUND_A)  # round A is full, B is free
    page.goto(meeting_url(server, meeting))
    slot = slot_field(page)
    email = unique_email("tastatur")
    typed = {"first_name": "Karla", "last_name": "Tastmann", "email": email,
             "organisation": "Ausländerbehörde Wiesbaden", "function": "Teamleitung", "phone": "0611 31-0",
             "dietary_needs": "vegetarisch", "accessibility_needs": "Induktionsschleife"}

    page.locator("#first_name").focus()
    for stop in TAB_ORDER:
        focused = page.evaluate("({id: document.activeElement.id, name: document.activeElement.name,"
                                " type: document.activeElement.type})")
        # A focus ring of at least 2 px with 3:1 against the page (WCAG 2.4.7 and 1.4.11).
        contrast = page.evaluate(FOCUS_RING_CONTRAST)
        assert contrast >= 3, f"focus ring on {focused} has contrast {contrast:.2f}"
        if stop == "<round>":
            # Tab lands on the group's checked radio ("no choice"); the arrow keys move the choice and skip
            # the full round.
            assert focused == {"id": f"{slot}-none", "name": slot, "type": "radio"}, focused
            page.keyboard.press("ArrowDown")
            assert page.evaluate("document.activeElement.labels[0].innerText") == ROUND_B
            assert page.get_by_label(ROUND_B, exact=True).is_checked()
            assert not page.get_by_label(ROUND_A, exact=True).is_checked()
        elif stop == "<submit>":
            assert focused["type"] == "submit", focused
        else:
            assert focused["id"] == stop, f"Tab should reach #{stop}, is on {focused}"
            # Each control has a visible label of its own.
            assert page.locator(f"label[for='{stop}']").is_visible(), stop
            if stop in typed:
                page.keyboard.type(typed[stop])
            else:
                page.keyboard.press("Space")
                assert page.is_checked(f"#{stop}"), stop
        if stop != "<submit>":
            page.keyboard.press("Tab")
    with page.expect_navigation() as nav:
        page.keyboard.press("Enter")
    assert nav.value.status == 200
    assert re.search(rf"/meetings/{meeting.id}/angemeldet\?.*place=1", page.url), page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Bitte bestätigen Sie Ihre Anmeldung"
    assert "Bis dahin ist ein Platz für Sie reserviert." in page.get_by_role("status").inner_text()

    mail = wait_for_captured(server.var, email, RECEIVED)
    assert "Karla Tastmann" in mail.get_body(preferencelist=("plain",)).get_content()
    assert "/bestaetigen/" in link_in(mail, "/bestaetigen/")


def test_an_empty_form_shows_each_message_at_its_field(server, page, new_meeting):
    meeting = new_meeting()
    page.goto(meeting_url(server, meeting))
    page.fill("#first_name", "Gerlinde")
    page.fill("#phone", "bitte anrufen")
    submit(page, 422)

    assert page.title().startswith("Fehler: Anmeldung: ")
    # The value entered is kept and that field is not marked.
    assert page.input_value("#first_name") == "Gerlinde"
    assert page.get_attribute("#first_name", "aria-invalid") is None
    assert page.locator("#first_name-error").count() == 0
    assert page.get_attribute("#function", "aria-invalid") is None

    expected = {**{k: v for k, v in GERMAN_ERRORS.items() if k != "first_name"},
                "phone": "Bitte geben Sie eine Telefonnummer aus Ziffern an (z. B. 0611 817-0)."}
    for field, message in expected.items():
        assert page.get_attribute(f"#{field}", "aria-invalid") == "true", field
        described = description_of(page, f"#{field}")
        assert message in described, f"#{field} is described by {described}, expected {message!r}"
        error = page.locator(f"p.error#{field}-error")
        assert error.is_visible()
        assert " ".join(error.inner_text().split()) == message

    # The summary lists every message and links to its field; following a link moves the focus there.
    summary = page.locator(".summary")
    assert summary.get_attribute("role") == "alert"
    for field, message in expected.items():
        assert summary.locator(f"a[href='#{field}']").inner_text().strip() == message
    assert summary.locator("li").count() == len(expected)
    # The fields about the person say what they are for (WCAG 1.3.5), so browsers can fill them in.
    for field, token in (("first_name", "given-name"), ("last_name", "family-name"), ("email", "email"),
                         ("organisation", "organization"), ("function", "organization-title"), ("phone", "tel")):
        assert page.get_attribute(f"#{field}", "autocomplete") == token, field
    summary.locator("a[href='#email']").click()
    assert page.evaluate("document.activeElement.id") == "email"
    assert page.is_checked("#privacy_consent") is False


def test_a_round_that_fills_up_while_the_form_is_open_is_reported_at_its_time_slot(server, page, new_meeting):
    meeting = new_meeting(capacity=5, round_capacity=1)
    page.goto(meeting_url(server, meeting))
    slot = slot_field(page)
    fill_form(page, "Rudi", "Runde", unique_email("runde"), "Ausländerbehörde Marburg", ROUND_A)
    register_by_api(server, meeting, unique_email("schneller"), ROUND_A)  # somebody was quicker
    submit(page, 409)

    message = "Diese Runde ist inzwischen ausgebucht. Bitte wählen Sie eine andere."
    assert message in description_of(page, f"fieldset#{slot}")
    assert page.locator(f"#{slot}-error").is_visible()
    assert page.locator(".summary").locator(f"a[href='#{slot}']").inner_text().strip() == message
    # What was typed is kept; the round is marked full now, the other one is free.
    assert page.input_value("#last_name") == "Runde"
    assert "ausgebucht" in round_info(page, ROUND_A)
    assert page.get_by_label(ROUND_B, exact=True).is_enabled()
    page.locator(".summary").locator(f"a[href='#{slot}']").click()
    assert page.evaluate("document.activeElement.id") == slot


def test_a_round_withdrawn_while_the_form_is_open_is_reported_at_the_round_choice(server, page, new_meeting):
    meeting = new_meeting(capacity=5, round_capacity=5)
    page.goto(meeting_url(server, meeting))
    fill_form(page, "Wanda", "Zurückgezogen", unique_email("abgesagt"), "Ausländerbehörde Fulda", ROUND_B)
    response = requests.post(f"{server.base_url}/agenda/api/meetings/{meeting.id}/items/"
                             f"{meeting.round_ids[ROUND_B]}/cancel",
                             headers={"Authorization": f"Bearer {server.token}"}, timeout=10)
    assert response.ok, response.text

    def withdrawn() -> bool:
        return f'value="{meeting.round_ids[ROUND_B]}"' not in requests.get(meeting_url(server, meeting),
                                                                          timeout=5).text
    deadline = time.monotonic() + 20
    while not withdrawn():
        assert time.monotonic() < deadline, "the cancelled round never left the form"
        time.sleep(0.2)
    submit(page, 422)

    message = "Diese Runde gibt es in diesem Programm nicht (mehr)."
    assert message in description_of(page, "fieldset#rounds")
    assert page.locator("#rounds-error").is_visible()
    summary_link = page.locator(".summary").locator("a[href='#rounds']")
    assert summary_link.inner_text().strip() == message
    summary_link.click()
    assert page.evaluate("document.activeElement.id") == "rounds"
    assert page.get_by_label(ROUND_B, exact=True).count() == 0
    assert page.input_value("#last_name") == "Zurückgezogen"


def test_the_pages_reflow_at_320_pixels_without_scrolling_sideways(server, page, new_meeting):
    meeting = new_meeting()
    email = unique_email("schmal")
    register_by_api(server, meeting, email, ROUND_A)
    page.set_viewport_size({"width": 320, "height": 640})

    def assert_fits(what: str) -> None:
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{what}: {overflow}px wider than the 320px viewport"

    for lang in ("de", "en"):
        page.goto(f"{server.base_url}/meetings/{server.meeting_id}?lang={lang}")  # the long demo texts
        assert_fits(f"the demo meeting ({lang})")
        page.goto(meeting_url(server, meeting, lang))
        submit(page, 422)  # with the messages
        assert_fits(f"the form with errors ({lang})")
        for field in ("first_name", "email", "organisation", "phone"):
            box = page.locator(f"#{field}").bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 320, (lang, field, box)
    confirm_in_browser(page, server, email, "de")
    assert_fits("the personal page")


def test_the_english_form_and_its_error_messages(server, page, new_meeting):
    meeting = new_meeting()
    page.goto(meeting_url(server, meeting))
    page.get_by_role("link", name="English").click()
    page.wait_for_url(re.compile(r"lang=en"))
    assert page.locator("html").get_attribute("lang") == "en"
    for label in ("First name", "Last name", "Email address", "Authority / organisation", ROUND_A, ROUND_B,
                  "No choice"):
        assert page.get_by_label(label, exact=True).count() == 1, label
    for label in ("Function", "Phone", "Catering", "Accessibility", "I agree that photos",
                  "I have read the privacy notice"):
        assert page.get_by_label(re.compile(rf"^{label}")).count() == 1, label
    assert page.get_by_role("group", name="Discussion rounds and workshops").is_visible()
    assert page.get_by_role("heading", name="Programme").is_visible()
    assert page.get_by_role("button", name="Register").is_visible()
    assert page.get_by_role("link", name="Deutsch").is_visible()

    page.fill("#phone", "call me")
    with page.expect_navigation() as nav:
        page.get_by_role("button", name="Register").click()
    assert nav.value.status == 422
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.title().startswith("Error: Registration: ")
    assert page.locator("#summary-heading").inner_text().strip() == "Errors in the form"
    for field, message in ENGLISH_ERRORS.items():
        assert page.get_attribute(f"#{field}", "aria-invalid") == "true", field
        assert message in description_of(page, f"#{field}")
    # No German message left over.
    body = page.locator("main").inner_text()
    for german in GERMAN_ERRORS.values():
        assert german not in body


def test_the_language_switch_keeps_the_page_after_registering(server, page, new_meeting):
    meeting = new_meeting(capacity=1)
    register_by_api(server, meeting, unique_email("platz"))
    page.goto(meeting_url(server, meeting))
    fill_form(page, "Lena", "Sprachwechsel", unique_email("sprache"), "Bundesamt für Migration und Flüchtlinge")
    submit(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Bitte bestätigen Sie Ihre Anmeldung"
    assert "Warteliste auf Platz 1" in page.locator("main").inner_text()
    with page.expect_navigation() as nav:
        page.get_by_role("link", name="English").click()
    assert nav.value.status == 200, page.url
    assert "/angemeldet" in page.url and "place=0" in page.url and "position=1" in page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Please confirm your registration"
    assert "waiting list at position 1" in page.locator("main").inner_text()
    with page.expect_navigation():
        page.get_by_role("link", name="Deutsch").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Bitte bestätigen Sie Ihre Anmeldung"


def test_the_start_page_lists_the_demo_meeting(server, page):
    assert page.goto(f"{server.base_url}/").status == 200
    assert page.get_by_role("link", name=DEMO_TITLE).is_visible()
