"""The embedded mode end to end: one process, in-memory broker, SQLite, captured mail."""
from __future__ import annotations

import html
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from embedded_server import DEMO_TITLE, sign_in  # noqa: E402


def wait_for_mail(server, *needles: str, timeout: float = 15.0) -> str:
    """Poll the captured mail page until every needle appears; return the page's text."""
    deadline = time.monotonic() + timeout
    page = ""
    while time.monotonic() < deadline:
        response = requests.get(f"{server.base_url}/notify/mail", timeout=5)
        response.raise_for_status()
        page = html.unescape(response.text)
        if all(needle in page for needle in needles):
            return page
        time.sleep(0.2)
    missing = [needle for needle in needles if needle not in page]
    raise AssertionError(f"not on /notify/mail after {timeout}s: {missing}\n{page}\n{server.output()}")


def test_registration_through_the_api_sends_a_confirmation_email(server):
    response = requests.post(
        f"{server.base_url}/api/meetings/{server.meeting_id}/registrations",
        json={"first_name": "Hannelore", "last_name": "Kowalczyk", "email": "h.kowalczyk@example.org",
              "organisation": "Ausländerbehörde Offenbach", "function": "Sachbearbeitung",
              "privacy_consent": True},
        timeout=10)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"

    page = wait_for_mail(server, "h.kowalczyk@example.org")
    # The article for this participant (the page may list other mails, newest first or not).
    article = next(part for part in page.split("<article>") if "h.kowalczyk@example.org" in part)
    for expected in ("Hannelore Kowalczyk", DEMO_TITLE, "16. September 2016", "10:00", "Ludwig-Bergsträßer-Saal"):
        assert expected in article, f"{expected!r} missing from the captured mail:\n{article}"


def test_agenda_api_requires_a_sign_in_and_publishes_to_registration(server):
    agenda = f"{server.base_url}/agenda/api/meetings"
    assert requests.get(agenda, timeout=10).status_code == 401
    assert requests.get(agenda, headers={"Authorization": "Bearer not-the-token"}, timeout=10).status_code == 401
    assert requests.post(agenda, json={"title": "Ohne Token"}, timeout=10).status_code == 401

    auth = {"Authorization": f"Bearer {server.token}"}
    title = "3. Landesnetzwerktreffen der hessischen Ausländerbehörden (Test)"
    created = requests.post(agenda, headers=auth, timeout=10, json={
        "title": title, "starts_at": "2030-03-12T10:00:00", "ends_at": "2030-03-12T16:00:00",
        "timezone": "Europe/Berlin", "venue": {"name": "Regierungspräsidium Gießen", "room": "Saal 1"},
        "capacity": 40})
    assert created.status_code == 201, created.text
    meeting_id = created.json()["id"]

    # Created but not published: not open for registration.
    listed = requests.get(f"{server.base_url}/api/meetings", timeout=10).json()["meetings"]
    assert meeting_id not in {m["id"] for m in listed}

    published = requests.post(f"{agenda}/{meeting_id}/publish", headers=auth, timeout=10)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"

    # Published events travel through the in-memory broker to registration: poll.
    deadline = time.monotonic() + 15
    found = None
    while time.monotonic() < deadline and found is None:
        listed = requests.get(f"{server.base_url}/api/meetings", timeout=10).json()["meetings"]
        found = next((m for m in listed if m["id"] == meeting_id), None)
        if found is None:
            time.sleep(0.2)
    assert found is not None, f"published meeting not in /api/meetings:\n{server.output()}"
    assert found["title"] == title
    assert found["capacity"] == 40
    assert found["venue"]["room"] == "Saal 1"


def test_the_demo_meeting_has_a_published_agenda_with_its_parallel_discussion_rounds(server):
    page = requests.get(f"{server.base_url}/agenda/meetings/{server.meeting_id}", timeout=10)
    assert page.status_code == 200
    text = html.unescape(page.text)
    for expected in ("Begrüßung", "Werner Appel", "Ungeklärte Identität",
                     "Welche Verfahrensweisen gibt es bei ungeklärter Identität?", "Besprechungsraum 2"):
        assert expected in text, expected
    assert text.count('class="slot-parallel"') == 2
    ics = requests.get(f"{server.base_url}/agenda/meetings/{server.meeting_id}/agenda.ics", timeout=10)
    assert ics.status_code == 200 and ics.text.count("BEGIN:VEVENT") == 7


def test_the_demo_organiser_signs_in_and_sees_only_the_demo_meeting_in_agenda_and_notify(server):
    token = sign_in(server.base_url, **server.logins["organiser"])
    auth = {"Authorization": f"Bearer {token}"}
    meetings = requests.get(f"{server.base_url}/agenda/api/meetings", headers=auth, timeout=10).json()["meetings"]
    assert [m["id"] for m in meetings] == [server.meeting_id]
    # The same token is honoured by notify, which never saw the password.
    r = requests.get(f"{server.base_url}/notify/api/meetings/{server.meeting_id}/deliveries", headers=auth, timeout=10)
    assert r.status_code == 200
    other = "00000000-0000-4000-8000-000000000000"
    assert requests.get(f"{server.base_url}/notify/api/meetings/{other}/deliveries", headers=auth,
                        timeout=10).status_code == 403


def test_the_captured_mail_page_is_public_in_embedded_mode_only_and_the_delivery_log_is_not(server):
    assert requests.get(f"{server.base_url}/notify/mail", timeout=10).status_code == 200
    assert requests.get(f"{server.base_url}/notify/api/deliveries", timeout=10).status_code == 401
