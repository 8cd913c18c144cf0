"""Signing in and out at the agenda: hashed passwords, the cookie's flags, the sign-in page and /api/session."""
from __future__ import annotations

import re
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from treffpunkt_agenda import accounts
from treffpunkt_agenda.app import create_app
from treffpunkt_agenda.config import Settings
from treffpunkt_agenda.models import organisers
from treffpunkt_shared.auth import SESSION_COOKIE, verify_token

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from agenda_testing import PASSWORD, SECRET, bearer  # noqa: E402


def csrf_from(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def sign_in_form(client, email, password, **extra):
    token = csrf_from(client.get("/anmelden"))
    return client.post("/anmelden", data={"email": email, "password": password, "csrf_token": token, **extra})


def session_cookie(response) -> str | None:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{SESSION_COOKIE}="):
            return header
    return None


def test_a_password_is_stored_only_as_a_salted_scrypt_hash(engine, make_account):
    first = make_account(email="a@example.org")
    second = make_account(email="b@example.org")
    with engine.connect() as conn:
        hashes = dict(conn.execute(sa.select(organisers.c.id, organisers.c.password_hash)).all())
    assert all(h.startswith("scrypt:") and PASSWORD not in h for h in hashes.values())
    assert hashes[first["id"]] != hashes[second["id"]]  # salted: the same password, two hashes


@pytest.mark.parametrize("password", ["", "kurz", "elf-Zeichen"])
def test_a_password_shorter_than_twelve_characters_is_refused(engine, password):
    with pytest.raises(accounts.WeakPassword), engine.begin() as tx:
        accounts.create_account(tx, email="kurz@example.org", name="Kurz", role="organiser", password=password)


def test_signing_in_sets_an_httponly_lax_cookie_and_leads_to_the_account_page(client, make_account):
    account = make_account(email="erika@example.org")
    r = sign_in_form(client, "Erika@Example.org ", PASSWORD)
    assert r.status_code == 303 and r.headers["Location"].endswith("/konto")
    cookie = session_cookie(r)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Max-Age=28" in cookie  # at most 8 hours
    token = cookie.split(";")[0].split("=", 1)[1]
    assert verify_token(token, SECRET).id == account["id"]
    page = client.get("/konto")
    assert page.status_code == 200 and "erika@example.org" in page.text


@pytest.mark.parametrize("env, secure", [
    ({"PUBLIC_BASE_URL": "https://treffpunkt.hessen.example"}, True),
    ({"PUBLIC_BASE_URL": "https://treffpunkt.hessen.example", "COOKIE_SECURE": "false"}, True),
    ({"PUBLIC_BASE_URL": "http://127.0.0.1:8001"}, True),
    ({"PUBLIC_BASE_URL": "http://192.0.2.2:8001"}, False),
    ({"PUBLIC_BASE_URL": "http://192.0.2.2:8001", "COOKIE_SECURE": "true"}, True),
])
def test_the_cookie_is_secure_over_https_and_as_configured_over_http(settings, engine, make_account, env, secure):
    configured = Settings.from_env({**env, "SESSION_SECRET": SECRET})
    app = create_app(replace(settings, cookie_secure=configured.cookie_secure), engine=engine)
    make_account(email="erika@example.org")
    cookie = session_cookie(sign_in_form(app.test_client(), "erika@example.org", PASSWORD))
    assert ("; Secure" in cookie) is secure


def test_a_wrong_password_is_refused_and_sets_no_cookie(client, make_account):
    make_account(email="erika@example.org")
    r = sign_in_form(client, "erika@example.org", "falsches-Passwort")
    assert r.status_code == 401 and session_cookie(r) is None
    assert "E-Mail-Adresse oder Passwort ist falsch." in r.text
    assert 'aria-describedby="sign-in-problem"' in r.text
    assert client.get("/konto").status_code == 303
    r = client.post("/api/session", json={"email": "erika@example.org", "password": "falsches-Passwort"})
    assert r.status_code == 401 and "token" not in r.json


def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(client):
    r = sign_in_form(client, "niemand@example.org", PASSWORD)
    assert r.status_code == 401 and "E-Mail-Adresse oder Passwort ist falsch." in r.text


def test_empty_fields_get_their_own_messages_tied_to_the_fields(client):
    r = sign_in_form(client, "", "")
    assert r.status_code == 422
    assert 'aria-describedby="email-error"' in r.text and 'id="email-error"' in r.text
    assert 'aria-describedby="password-error"' in r.text and "Bitte geben Sie Ihr Passwort an." in r.text


def test_the_sign_in_page_speaks_english_on_request(client):
    page = client.get("/anmelden?lang=en")
    assert '<html lang="en">' in page.text and "Sign in" in page.text and "Password" in page.text


def test_the_api_returns_a_bearer_token_that_the_api_accepts(client, make_account):
    account = make_account(email="erika@example.org")
    r = client.post("/api/session", json={"email": "erika@example.org", "password": PASSWORD})
    assert r.status_code == 200 and r.json["token_type"] == "Bearer" and session_cookie(r) is None
    assert r.json["organiser"]["id"] == account["id"] and r.json["expires_in"] == 8 * 3600
    fresh = create_app(client.application.extensions["treffpunkt"]["settings"],
                       engine=client.application.extensions["treffpunkt"]["engine"]).test_client()
    me = fresh.get("/api/session", headers={"Authorization": f"Bearer {r.json['token']}"})
    assert me.status_code == 200 and me.json["organiser"]["email"] == "erika@example.org"


def test_the_session_api_answers_422_per_field(client):
    r = client.post("/api/session", json={"email": ""})
    assert r.status_code == 422 and set(r.json["errors"]) == {"email", "password"}


def test_signing_out_clears_the_cookie(client, make_account):
    make_account(email="erika@example.org")
    sign_in_form(client, "erika@example.org", PASSWORD)
    page = client.get("/abmelden")
    r = client.post("/abmelden", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 303 and "abgemeldet=1" in r.headers["Location"]
    assert "Max-Age=0" in session_cookie(r)
    assert client.get("/konto").status_code == 303
    assert "Sie sind abgemeldet." in client.get(r.headers["Location"]).text


def test_signing_out_without_the_csrf_token_keeps_the_session(client, make_account):
    make_account(email="erika@example.org")
    sign_in_form(client, "erika@example.org", PASSWORD)
    assert client.post("/abmelden").status_code == 400
    assert client.get("/konto").status_code == 200


def test_the_api_session_delete_clears_the_cookie(client):
    r = client.delete("/api/session")
    assert r.status_code == 204 and "Max-Age=0" in session_cookie(r)


def test_a_deactivated_account_can_neither_sign_in_nor_use_a_token_it_got_before(client, engine, make_account, admin):
    account = make_account(email="erika@example.org")
    token_headers = bearer(account)
    assert client.get("/api/meetings", headers=token_headers).status_code == 200
    with engine.begin() as tx:
        accounts.set_active(tx, account["id"], False)
    assert client.get("/api/meetings", headers=token_headers).status_code == 401
    assert sign_in_form(client, "erika@example.org", PASSWORD).status_code == 401


def test_a_deactivated_account_loses_its_cookie_at_the_next_agenda_request(client, engine, make_account):
    account = make_account(email="erika@example.org")
    sign_in_form(client, "erika@example.org", PASSWORD)
    with engine.begin() as tx:
        accounts.set_active(tx, account["id"], False)
    r = client.get("/konto")
    assert r.status_code == 303 and "Max-Age=0" in session_cookie(r)


@pytest.mark.parametrize("target, allowed", [
    ("/konten", True),
    ("http://127.0.0.1:8003/mail", True),  # notify on another port of the agenda's host
    ("https://evil.example/phish", False),
    ("//evil.example/phish", False),
    ("/\\evil.example", False),
    ("javascript:alert(1)", False),
])
def test_after_signing_in_only_our_own_host_is_a_destination(client, make_account, target, allowed):
    make_account(email="erika@example.org")
    r = sign_in_form(client, "erika@example.org", PASSWORD, next=target)
    assert r.status_code == 303
    assert (r.headers["Location"] == target) is allowed
    if not allowed:
        assert r.headers["Location"].endswith("/konto")
