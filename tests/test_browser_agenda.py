"""The agenda service's organiser pages in a real headless Chromium: an organiser builds a two-day agenda with
two parallel discussion rounds through the forms, publishes meeting and agenda, and the public page shows it;
axe-core (WCAG 2.1 AA) on every page; the editor by keyboard alone."""
from __future__ import annotations

import re
import sys
import uuid
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from browser_support import assert_accessible  # noqa: E402
from embedded_server import sign_in as api_sign_in  # noqa: E402

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser

DAY_1, DAY_2 = "2031-09-15", "2031-09-16"
QUESTIONS_A = ["Welche Verfahrensweisen gibt es bei ungeklärter Identität?", "Welche Dokumente werden anerkannt?"]
QUESTIONS_B = ["Wie halten wir alle Mitarbeitenden auf demselben Wissensstand?",
               "Welche Werkzeuge haben sich bewährt?"]


def agenda_url(server, path: str) -> str:
    """The agenda service is mounted at /agenda in embedded mode."""
    return f"{server.base_url}/agenda{path}"


def sign_in(page, server) -> None:
    """Sign in through the form as the embedded mode's demo organiser (an organiser, not an administrator)."""
    login = server.logins["organiser"]
    assert page.goto(agenda_url(server, "/anmelden")).status == 200
    page.fill("#email", login["email"])
    page.fill("#password", login["password"])
    with page.expect_navigation():
        page.get_by_role("button", name="Anmelden").click()
    assert "/anmelden" not in page.url, page.content()[:2000]


def submit(page, name: str, status: int = 200) -> None:
    """Click the button called ``name`` and wait for the answer (after any redirect)."""
    with page.expect_navigation() as nav:
        page.get_by_role("button", name=name, exact=True).click()
    assert nav.value.status == status, f"{page.url}: {nav.value.status}\n{page.locator('main').inner_text()}"


def fill_meeting_form(page, title: str) -> None:
    page.fill("#title", title)
    page.fill("#series", "Landesnetzwerktreffen")
    page.fill("#number", "4")
    page.fill("#host", "Ausländerbehörde der Wissenschaftsstadt Darmstadt")
    page.fill("#theme", "Wissensmanagement")
    page.fill("#description", "Austausch der hessischen Ausländerbehörden über Wissensmanagement.")
    page.fill("#venue-name", "Regierungspräsidium Darmstadt")
    page.fill("#venue-address", "Luisenplatz 2, 64283 Darmstadt")
    page.fill("#venue-room", "Ludwig-Bergsträßer-Saal")
    for i, (day, starts, ends) in enumerate(((DAY_1, "10:00", "17:00"), (DAY_2, "09:00", "15:00"))):
        page.fill(f"#days-{i}-date", day)
        page.fill(f"#days-{i}-starts", starts)
        page.fill(f"#days-{i}-ends", ends)
    for i, (name, places) in enumerate((("Ludwig-Bergsträßer-Saal", "80"), ("Raum 101", "25"),
                                        ("Raum 102", "25"))):
        page.fill(f"#rooms-{i}-name", name)
        page.fill(f"#rooms-{i}-capacity", places)
    page.fill("#capacity", "60")


def add_item(page, server, meeting_id: str, *, kind: str, title: str, day: str, starts: str, ends: str,
             room: str, people: tuple[str, ...] = (), role: str = "speakers", capacity: str = "",
             questions: list[str] = (), status: int = 200) -> None:
    page.goto(agenda_url(server, f"/organiser/meetings/{meeting_id}/programme"))
    with page.expect_navigation():
        page.get_by_role("link", name="Programmpunkt hinzufügen", exact=True).click()
    page.select_option("#kind", kind)
    page.fill("#title", title)
    page.select_option("#day", day)
    page.fill("#starts", starts)
    page.fill("#ends", ends)
    option = page.locator("#room_id option").filter(has_text=re.compile(rf"^{re.escape(room)}( \(|$)"))
    page.select_option("#room_id", option.get_attribute("value"))
    for i, person in enumerate(people):
        name, authority = person.split(", ", 1)
        page.fill(f"#{role}-{i}-name", name)
        page.fill(f"#{role}-{i}-authority", authority)
    if capacity:
        page.fill("#capacity", capacity)
    if questions:
        page.fill("#guiding_questions", "\n".join(questions))
    submit(page, "Programmpunkt hinzufügen", status)


def meeting_id_from(url: str) -> str:
    return re.search(r"/organiser/meetings/([0-9a-f-]{36})", url).group(1)


def test_an_organiser_builds_and_publishes_a_two_day_agenda_with_parallel_rounds(server, axe_page):
    page = axe_page
    sign_in(page, server)
    title = f"4. Landesnetzwerktreffen {uuid.uuid4().hex[:6]}"

    assert page.goto(agenda_url(server, "/organiser/")).status == 200
    assert_accessible(page, "the list of meetings")
    with page.expect_navigation():
        page.get_by_role("link", name="Neues Treffen anlegen").click()
    assert_accessible(page, "the empty meeting form")

    # First without a venue and capacity: the errors are at their fields, the title stays.
    page.fill("#title", title)
    submit(page, "Treffen anlegen", 422)
    assert page.input_value("#title") == title
    assert page.get_attribute("#venue-name", "aria-invalid") == "true"
    assert page.locator("#venue-name-error").inner_text() == "Pflichtfeld."
    assert page.locator(".summary a[href='#venue-name']").is_visible()
    assert_accessible(page, "the meeting form with errors")

    fill_meeting_form(page, title)
    submit(page, "Treffen anlegen")
    meeting_id = meeting_id_from(page.url)
    assert "Das Treffen wurde angelegt." in page.get_by_role("status").first.inner_text()
    assert_accessible(page, "the meeting's overview")

    page.goto(agenda_url(server, f"/organiser/meetings/{meeting_id}/programme"))
    assert_accessible(page, "the empty programme editor")

    add_item(page, server, meeting_id, kind="welcome", title="Begrüßung", day=DAY_1, starts="10:00",
             ends="10:30", room="Ludwig-Bergsträßer-Saal", people=("Dr. Maria Beispiel, HMSI",))
    # The first round without questions yet: the editor warns.
    add_item(page, server, meeting_id, kind="discussion_round", title="Diskussionsrunde 1: Ungeklärte Identität",
             day=DAY_1, starts="11:00", ends="12:30", room="Raum 101", role="moderators",
             people=("Jan Muster, Ausländerbehörde Kassel",), capacity="25")
    add_item(page, server, meeting_id, kind="discussion_round", title="Diskussionsrunde 2: Wissensmanagement",
             day=DAY_1, starts="11:00", ends="12:30", room="Raum 102", role="moderators",
             people=("Eva Probe, Ausländerbehörde Wiesbaden",), capacity="25", questions=QUESTIONS_B)
    add_item(page, server, meeting_id, kind="closing", title="Abschluss und Ausblick", day=DAY_2, starts="14:00",
             ends="15:00", room="Ludwig-Bergsträßer-Saal")

    warnings = page.locator("#problems")
    assert warnings.get_attribute("role") == "status"
    assert "„Diskussionsrunde 1: Ungeklärte Identität“ hat noch keine Leitfragen." in warnings.inner_text()
    # Parallel rounds side by side: the same row of the day's grid.
    row = page.locator("table.timeline tr", has=page.get_by_role("rowheader", name="11:00 Uhr"))
    assert row.locator(".entry").count() == 2
    assert_accessible(page, "the programme editor with items and warnings")

    # The warning links to the item; from there to its form, where the questions are added.
    warnings.get_by_role("link", name=re.compile("Diskussionsrunde 1")).click()
    page.wait_for_url(re.compile(r"#item-[0-9a-f-]{36}$"))
    entry = page.locator(f"#{page.url.split('#')[1]}")
    assert "Diskussionsrunde 1: Ungeklärte Identität" in entry.inner_text()
    with page.expect_navigation():
        entry.get_by_role("link", name=re.compile("^Bearbeiten")).click()
    assert_accessible(page, "the item form of a round")
    page.fill("#guiding_questions", "\n".join(QUESTIONS_A))
    submit(page, "Programmpunkt speichern")
    assert "Keine Hinweise" in page.locator("#problems").inner_text()

    # An item form with errors.
    page.goto(agenda_url(server, f"/organiser/meetings/{meeting_id}/items/new"))
    page.fill("#starts", "12:00")
    page.fill("#ends", "11:00")
    submit(page, "Programmpunkt hinzufügen", 422)
    assert page.get_attribute("#title", "aria-invalid") == "true"
    assert page.locator("#ends-error").inner_text() == "Das Ende muss nach dem Beginn liegen."
    assert_accessible(page, "the item form with errors")

    # Publishing the agenda before the meeting is refused with the reason.
    page.goto(agenda_url(server, f"/organiser/meetings/{meeting_id}/programme"))
    submit(page, "Programm veröffentlichen", 409)
    assert "Erst das Treffen veröffentlichen" in page.get_by_role("alert").inner_text()
    assert_accessible(page, "the editor with a refusal")

    page.goto(agenda_url(server, f"/organiser/meetings/{meeting_id}"))
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("^Treffen veröffentlichen")).click()
    assert_accessible(page, "the confirmation step")
    submit(page, "Treffen veröffentlichen")
    assert "Das Treffen ist veröffentlicht." in page.get_by_role("status").first.inner_text()

    page.goto(agenda_url(server, f"/organiser/meetings/{meeting_id}/programme"))
    submit(page, "Programm veröffentlichen")
    assert "Das Programm ist veröffentlicht." in page.get_by_role("status").first.inner_text()
    assert_accessible(page, "the editor of a published agenda")

    page.goto(agenda_url(server, f"/organiser/meetings/{meeting_id}/rounds"))
    for question in QUESTIONS_A + QUESTIONS_B:
        assert page.get_by_text(question, exact=True).is_visible()
    assert page.get_by_text("Jan Muster (Ausländerbehörde Kassel)").is_visible()
    assert_accessible(page, "the rounds page")

    page.goto(agenda_url(server, f"/organiser/meetings/{meeting_id}/preview"))
    assert_accessible(page, "the preview")

    page.goto(agenda_url(server, f"/organiser/meetings/{meeting_id}/programme?lang=en"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Add agenda item", exact=True).is_visible()
    assert_accessible(page, "the English programme editor")
    page.goto(agenda_url(server, "/organiser/?lang=de"))

    # The public page shows both days and the two parallel rounds.
    response = page.goto(agenda_url(server, f"/meetings/{meeting_id}"))
    assert response.status == 200
    days = page.locator("main h2").all_inner_texts()
    assert days[:2] == ["Montag, 15. September 2031", "Dienstag, 16. September 2031"]
    parallel = page.locator("tr.slot-parallel")
    assert parallel.count() == 2
    assert "Diskussionsrunde 1: Ungeklärte Identität" in parallel.nth(0).inner_text()
    assert "Diskussionsrunde 2: Wissensmanagement" in parallel.nth(1).inner_text()
    for question in QUESTIONS_A + QUESTIONS_B:
        assert page.get_by_text(question, exact=True).is_visible()
    assert "Abschluss und Ausblick" in page.locator("section", has=page.get_by_role(
        "heading", name="Dienstag, 16. September 2031")).inner_text()
    assert_accessible(page, "the public meeting page")


def _meeting_by_api(server) -> str:
    """A draft meeting with two rooms, made by the demo organiser through the API (the forms are tested above),
    so the organiser is assigned to it."""
    token = api_sign_in(server.base_url, **server.logins["organiser"])
    response = requests.post(agenda_url(server, "/api/meetings"), timeout=10,
                             headers={"Authorization": f"Bearer {token}"}, json={
        "title": f"Tastaturtreffen {uuid.uuid4().hex[:6]}", "venue": {"name": "Regierungspräsidium Kassel"},
        "days": [{"date": DAY_1, "starts": "10:00", "ends": "16:00"}], "capacity": 40,
        "rooms": [{"name": "Saal", "capacity": 40}, {"name": "Raum 2", "capacity": 20}]})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _tab_to(page, predicate: str, what: str, limit: int = 60) -> None:
    """Press Tab until the focused element satisfies the JS ``predicate`` (on ``el``)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!({predicate}); }})()"):
            return
    raise AssertionError(f"{what} not reached by Tab")


def _has_focus_outline(page) -> bool:
    return page.evaluate("getComputedStyle(document.activeElement).outlineStyle") not in ("none", "")


def test_the_editor_is_usable_by_keyboard_alone(server, page):
    sign_in(page, server)
    meeting_id = _meeting_by_api(server)
    page.goto(agenda_url(server, f"/organiser/meetings/{meeting_id}/programme"))

    _tab_to(page, "el.textContent.trim() === 'Programmpunkt hinzufügen' && el.tagName === 'A'", "the add link")
    assert _has_focus_outline(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    _tab_to(page, "el.id === 'kind'", "the kind select")
    page.keyboard.type("Diskussionsrunde")  # typing selects the option in a closed select
    assert page.input_value("#kind") == "discussion_round"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "title"
    page.keyboard.type("Runde per Tastatur")
    _tab_to(page, "el.id === 'starts'", "the start time")
    page.keyboard.type("11:00")
    _tab_to(page, "el.id === 'ends'", "the end time")
    page.keyboard.type("12.00")
    _tab_to(page, "el.id === 'room_id'", "the room select")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.locator("#room_id option:checked").inner_text().startswith("Raum 2")
    _tab_to(page, "el.id === 'moderators-0-name'", "the first moderator")
    page.keyboard.type("Karla Tastmann")
    _tab_to(page, "el.id === 'guiding_questions'", "the guiding questions")
    page.keyboard.type("Was geht ohne Maus?")
    page.keyboard.press("Enter")
    page.keyboard.type("Was fehlt noch?")
    _tab_to(page, "el.type === 'submit'", "the submit button")
    assert _has_focus_outline(page)
    with page.expect_navigation() as nav:
        page.keyboard.press("Enter")
    assert nav.value.status == 200
    entry = page.locator(".entry", has_text="Runde per Tastatur")
    assert entry.count() == 1 and "Karla Tastmann" in entry.inner_text()
    assert "11:00 Uhr – 12:00 Uhr" in entry.inner_text()
    assert "Raum 2" in page.locator("table.timeline thead").inner_text()

    # Cancel it from the grid by keyboard: the button names the item.
    _tab_to(page, "el.tagName === 'BUTTON' && el.textContent.includes('Runde per Tastatur')", "the cancel button")
    assert page.evaluate("document.activeElement.textContent").strip().startswith("Absagen")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Der Programmpunkt ist abgesagt." in page.get_by_role("status").first.inner_text()
    assert "abgesagt" in page.locator(".entry", has_text="Runde per Tastatur").inner_text()
