"""Managing accounts: the administrators' JSON API and pages, and organisers kept out of both."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from treffpunkt_agenda import accounts
from treffpunkt_agenda.models import organisers

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from agenda_testing import PASSWORD, bearer  # noqa: E402

NEW = {"email": "hans.berater@example.org", "name": "Hans Berater", "role": "organiser",
       "password": "Identitätsklärung-2016"}
MEETING = {"title": "Kassel", "starts_at": "2016-09-16T10:00:00", "ends_at": "2016-09-16T16:00:00",
           "venue": {"name": "Regierungspräsidium Kassel"}, "capacity": 60}


def count_accounts(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(organisers)).scalar()


def signed_in_browser(app, email):
    browser = app.test_client()
    token = csrf_of(browser.get("/anmelden"))
    r = browser.post("/anmelden", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 303
    return browser


def csrf_of(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


# ------------------------------------------------------------------ JSON API

def test_an_administrator_creates_an_account_through_the_api(client, auth, engine):
    r = client.post("/api/organisers", json=NEW, headers=auth)
    assert r.status_code == 201 and r.json["email"] == NEW["email"] and "password" not in r.json
    assert "password_hash" not in r.json
    listed = client.get("/api/organisers", headers=auth).json["organisers"]
    assert NEW["email"] in [a["email"] for a in listed]


@pytest.mark.parametrize("change, field", [
    ({"email": "kein-at"}, "email"),
    ({"name": ""}, "name"),
    ({"name": "Hans\r\nBcc: x@example.org"}, "name"),
    ({"role": "superuser"}, "role"),
    ({"password": "zu-kurz"}, "password"),
    ({"unexpected": 1}, "unexpected"),
])
def test_invalid_account_data_is_answered_422_per_field(client, auth, change, field):
    r = client.post("/api/organisers", json={**NEW, **change}, headers=auth)
    assert r.status_code == 422 and field in r.json["errors"]


def test_messages_are_english_when_asked(client, auth):
    r = client.post("/api/organisers", json={**NEW, "password": "kurz"}, headers={**auth, "Accept-Language": "en"})
    assert r.json["errors"]["password"] == ["The password must be at least 12 characters long."]


def test_an_email_address_can_have_only_one_account(client, auth):
    assert client.post("/api/organisers", json=NEW, headers=auth).status_code == 201
    r = client.post("/api/organisers", json={**NEW, "email": NEW["email"].upper()}, headers=auth)
    assert r.status_code == 409 and "email" in r.json["errors"]


def test_an_organiser_can_use_no_part_of_the_account_api(client, make_account):
    organiser = bearer(make_account())
    assert client.get("/api/organisers", headers=organiser).status_code == 403
    assert client.post("/api/organisers", json=NEW, headers=organiser).status_code == 403


def test_an_administrator_cannot_deactivate_or_demote_themselves(client, auth, admin):
    assert client.patch(f"/api/organisers/{admin['id']}", json={"active": False}, headers=auth).status_code == 409
    assert client.patch(f"/api/organisers/{admin['id']}", json={"role": "organiser"},
                        headers=auth).status_code == 409
    assert client.patch(f"/api/organisers/{admin['id']}", json={"name": "Ada A."}, headers=auth).json["name"] == "Ada A."


def test_assigning_an_unknown_meeting_or_account_is_404(client, auth, make_account):
    erika = make_account()
    unknown = "00000000-0000-4000-8000-000000000000"
    assert client.put(f"/api/organisers/{erika['id']}/meetings/{unknown}", headers=auth).status_code == 404
    meeting_id = client.post("/api/meetings", json=MEETING, headers=auth).json["id"]
    assert client.put(f"/api/organisers/{unknown}/meetings/{meeting_id}", headers=auth).status_code == 404
    assert client.put(f"/api/organisers/{erika['id']}/meetings/{meeting_id}", headers=auth).status_code == 204
    assert client.put(f"/api/organisers/{erika['id']}/meetings/{meeting_id}", headers=auth).status_code == 204
    assert client.get(f"/api/organisers/{erika['id']}", headers=auth).json["meeting_ids"] == [meeting_id]


# ------------------------------------------------------------------ pages

def test_an_administrator_creates_an_account_and_assigns_a_meeting_with_plain_forms(app, engine, admin, auth):
    meeting_id = app.test_client().post("/api/meetings", json=MEETING, headers=auth).json["id"]
    browser = signed_in_browser(app, admin["email"])
    form = browser.get("/konten/neu")
    assert form.status_code == 200 and 'autocomplete="new-password"' in form.text
    r = browser.post("/konten/neu", data={**NEW, "csrf_token": csrf_of(form)})
    assert r.status_code == 303
    detail = browser.get(r.headers["Location"])
    assert "Das Konto wurde angelegt." in detail.text and "Kassel" in detail.text
    r = browser.post(re.search(r'action="([^"]*/treffen)"', detail.text).group(1),
                     data={"meeting_id": meeting_id, "csrf_token": csrf_of(detail)})
    assert r.status_code == 303
    hans = next(a for a in browser.get("/konten").text.split("<tr>") if "Hans Berater" in a)
    assert "<td>1</td>" in hans
    with engine.connect() as conn:
        hans_id = conn.execute(sa.select(organisers.c.id).where(organisers.c.email == NEW["email"])).scalar()
        assert accounts.meeting_ids_of(conn, hans_id) == {meeting_id}


def test_the_new_account_form_shows_errors_at_their_fields_and_keeps_no_password(app, admin):
    browser = signed_in_browser(app, admin["email"])
    form = browser.get("/konten/neu")
    r = browser.post("/konten/neu", data={**NEW, "email": "kaputt", "password": "kurz", "csrf_token": csrf_of(form)})
    assert r.status_code == 422
    assert 'aria-describedby="email-error"' in r.text and 'aria-describedby="password-hint password-error"' in r.text
    assert 'value="kurz"' not in r.text and 'value="Hans Berater"' in r.text


@pytest.mark.parametrize("token", ["missing", "wrong"])
def test_a_form_without_the_right_csrf_token_is_400_and_changes_nothing(app, engine, admin, token):
    browser = signed_in_browser(app, admin["email"])
    before = count_accounts(engine)
    data = dict(NEW)
    if token == "wrong":
        data["csrf_token"] = csrf_of(browser.get("/konten/neu"))[:-4] + "AAAA"
    r = browser.post("/konten/neu", data=data)
    assert r.status_code == 400 and "Bitte laden Sie die Seite neu" in r.text
    assert count_accounts(engine) == before


def test_a_cross_site_json_post_with_the_cookie_but_no_csrf_header_changes_nothing(app, engine, admin):
    browser = signed_in_browser(app, admin["email"])
    before = count_accounts(engine)
    assert browser.post("/api/organisers", json=NEW).status_code == 400
    assert count_accounts(engine) == before


def test_an_organiser_is_refused_the_account_pages_and_an_anonymous_visitor_sent_to_sign_in(app, make_account):
    organiser = make_account(email="erika@example.org")
    browser = signed_in_browser(app, organiser["email"])
    assert browser.get("/konto").status_code == 200
    assert browser.get("/konten").status_code == 403
    assert browser.get(f"/konten/{organiser['id']}").status_code == 403
    r = app.test_client().get("/konten")
    assert r.status_code == 303 and "/anmelden?next=" in r.headers["Location"]


def test_an_administrator_cannot_deactivate_their_own_account_on_the_page(app, admin, engine):
    browser = signed_in_browser(app, admin["email"])
    page = browser.get(f"/konten/{admin['id']}")
    r = browser.post(f"/konten/{admin['id']}/aktiv", data={"active": "no", "csrf_token": csrf_of(page)})
    assert r.status_code == 409
    with engine.connect() as conn:
        assert accounts.get_account(conn, admin["id"])["active"] is True
