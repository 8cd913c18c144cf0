"""Who sees and changes which meeting in the agenda API: administrators all, organisers their own."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from treffpunkt_agenda import accounts
from treffpunkt_shared.auth import SESSION_COOKIE, verify_token

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from agenda_testing import PASSWORD, SECRET, bearer  # noqa: E402

MEETING = {"title": "2. Landesnetzwerktreffen", "starts_at": "2016-09-16T10:00:00",
           "ends_at": "2016-09-16T16:00:00", "venue": {"name": "Regierungspräsidium Darmstadt"}, "capacity": 60}


def create(client, headers, title):
    r = client.post("/api/meetings", json={**MEETING, "title": title}, headers=headers)
    assert r.status_code == 201, r.json
    return r.json["id"]


def titles(client, headers):
    return sorted(m["title"] for m in client.get("/api/meetings", headers=headers).json["meetings"])


def test_an_administrator_sees_every_meeting_and_an_organiser_only_the_assigned_ones(client, auth, make_account):
    erika, hans = make_account(), make_account()
    create(client, bearer(erika), "Darmstadt")
    create(client, bearer(hans), "Gießen")
    create(client, auth, "Kassel")
    assert titles(client, auth) == ["Darmstadt", "Gießen", "Kassel"]
    assert titles(client, bearer(erika)) == ["Darmstadt"]
    assert titles(client, bearer(hans)) == ["Gießen"]


def test_an_organiser_who_creates_a_meeting_is_assigned_to_it_in_the_database(client, engine, make_account):
    erika = make_account()
    meeting_id = create(client, bearer(erika), "Darmstadt")
    with engine.connect() as conn:
        assert accounts.meeting_ids_of(conn, erika["id"]) == {meeting_id}


def test_an_unassigned_organiser_can_neither_see_nor_publish_a_meeting(client, auth, make_account):
    meeting_id = create(client, auth, "Kassel")
    stranger = bearer(make_account())
    assert client.get(f"/api/meetings/{meeting_id}", headers=stranger).status_code == 403
    assert client.post(f"/api/meetings/{meeting_id}/publish", headers=stranger).status_code == 403
    assert client.get(f"/api/meetings/{meeting_id}", headers=auth).json["status"] == "draft"


def test_an_assignment_counts_at_once_in_the_agenda_even_with_an_older_token(client, engine, auth, make_account):
    meeting_id = create(client, auth, "Kassel")
    erika = make_account()
    old_token = bearer(erika)  # issued before the assignment
    assert client.get(f"/api/meetings/{meeting_id}", headers=old_token).status_code == 403
    assert client.put(f"/api/organisers/{erika['id']}/meetings/{meeting_id}", headers=auth).status_code == 204
    assert client.get(f"/api/meetings/{meeting_id}", headers=old_token).status_code == 200
    assert client.delete(f"/api/organisers/{erika['id']}/meetings/{meeting_id}", headers=auth).status_code == 204
    assert client.get(f"/api/meetings/{meeting_id}", headers=old_token).status_code == 403


def test_the_agenda_reissues_the_cookie_when_an_assignment_changed(app, auth, make_account):
    admin_client, browser = app.test_client(), app.test_client()
    meeting_id = create(admin_client, auth, "Kassel")
    erika = make_account(email="erika@example.org")
    page = browser.get("/anmelden")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    browser.post("/anmelden", data={"email": "erika@example.org", "password": PASSWORD, "csrf_token": token})
    assert admin_client.put(f"/api/organisers/{erika['id']}/meetings/{meeting_id}", headers=auth).status_code == 204

    r = browser.get("/konto")
    assert "Kassel" in r.text
    cookie = next(h for h in r.headers.getlist("Set-Cookie") if h.startswith(SESSION_COOKIE))
    reissued = verify_token(cookie.split(";")[0].split("=", 1)[1], SECRET)
    assert reissued.meeting_ids == {meeting_id}  # registration and notify now see it too
    assert not any(h.startswith(SESSION_COOKIE) for h in browser.get("/konto").headers.getlist("Set-Cookie"))
