"""The signed sign-in token and what install_auth makes of it, on a small Flask app (no database needed)."""
from __future__ import annotations

import base64
import json
import time
from dataclasses import replace

import pytest
from flask import Flask, jsonify

from treffpunkt_shared import http
from treffpunkt_shared.auth import (ADMINISTRATOR, ORGANISER, SESSION_COOKIE, Principal, current_principal,
                                    install_auth, organiser_required, require_admin, require_meeting,
                                    revocation_time, sign_in_time, sign_token, signed_in_before, verify_token)
from treffpunkt_shared.cookies import secure_cookies

SECRET = "s" * 40
MEETING = "5d1c8d0e-0c0e-4a53-9f0e-2f6e3f0f4b11"
OTHER_MEETING = "0b9f6a57-7f5e-4b5c-8e4e-8a2c1d6b9e20"


def principal(role=ORGANISER, meetings=(MEETING,), signed_in_at=None) -> Principal:
    return Principal(id="3f6c1d2e-aaaa-4bbb-8ccc-123456789abc", name="Erika Organisatorin",
                     email="erika@example.org", role=role, meeting_ids=frozenset(meetings),
                     signed_in_at=int(time.time() if signed_in_at is None else signed_in_at))


@pytest.fixture
def app():
    app = Flask(__name__)
    http.install(app, service="test")
    install_auth(app, SECRET, sign_in_url="http://agenda.example/anmelden", cookie_secure=True)

    @app.get("/api/whoami")
    @organiser_required
    def whoami():
        return jsonify(id=current_principal().id)

    @app.get("/api/meetings/<uuid:meeting_id>")
    def meeting(meeting_id):
        require_meeting(meeting_id)
        return jsonify(ok=True)

    @app.get("/admin")
    def admin():
        require_admin()
        return "ok"

    @app.get("/page")
    @organiser_required
    def page():
        return "ok"

    return app


def test_a_token_carries_the_principal_and_verifies_with_the_same_secret():
    p = principal()
    assert verify_token(sign_token(p, SECRET), SECRET) == p


def test_a_token_signed_with_another_secret_is_refused():
    assert verify_token(sign_token(principal(), "x" * 40), SECRET) is None


def test_an_expired_token_is_refused():
    token = sign_token(principal(), SECRET)
    assert verify_token(token, SECRET, now=time.time() + 8 * 3600 + 61) is None
    # Re-issued tokens keep the time of the password check: signed now, it still expires with it.
    old_sign_in = sign_token(principal(signed_in_at=time.time() - 9 * 3600), SECRET)
    assert verify_token(old_sign_in, SECRET) is None


def test_an_unsigned_or_tampered_token_is_refused():
    claims = {"v": 1, "id": "x", "name": "Mallory", "email": "m@example.org", "role": ADMINISTRATOR, "m": [],
              "t": int(time.time())}
    unsigned = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert verify_token(unsigned, SECRET) is None
    payload, timestamp, signature = sign_token(principal(), SECRET).rsplit(".", 2)
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert verify_token(f"{forged_payload}.{timestamp}.{signature}", SECRET) is None
    assert verify_token("", SECRET) is None and verify_token("x" * 10_000, SECRET) is None


def test_an_administrator_manages_every_meeting_and_an_organiser_only_the_assigned_ones():
    assert principal(role=ADMINISTRATOR, meetings=()).can_manage(OTHER_MEETING)
    organiser = principal()
    assert organiser.can_manage(MEETING) and not organiser.can_manage(OTHER_MEETING)
    assert not organiser.is_admin()


def test_install_auth_refuses_a_short_secret():
    with pytest.raises(ValueError):
        install_auth(Flask(__name__), "change-me", sign_in_url="/anmelden", cookie_secure=True)


def test_the_bearer_token_and_the_cookie_both_sign_in(app):
    token = sign_token(principal(), SECRET)
    client = app.test_client()
    assert client.get("/api/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    client.set_cookie(SESSION_COOKIE, token)
    assert client.get("/api/whoami").status_code == 200


def test_an_authorization_header_that_fails_is_not_rescued_by_the_cookie(app):
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, sign_token(principal(), SECRET))
    assert client.get("/api/whoami", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_anonymous_api_calls_get_401_with_www_authenticate_and_pages_a_redirect_to_the_sign_in(app):
    client = app.test_client()
    r = client.get("/api/whoami")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].lower().startswith("bearer")
    assert "Anmeldung" in r.json["message"]
    r = client.get("/page", headers={"Accept": "text/html"})
    assert r.status_code == 303
    assert r.headers["Location"] == "http://agenda.example/anmelden?next=http%3A%2F%2Flocalhost%2Fpage"


def test_a_forged_admin_cookie_or_a_foreign_signature_is_anonymous(app):
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, sign_token(principal(role=ADMINISTRATOR), "y" * 40))
    assert client.get("/api/whoami").status_code == 401


def test_an_organiser_gets_403_for_an_unassigned_meeting_and_for_admin_pages(app):
    headers = {"Authorization": f"Bearer {sign_token(principal(), SECRET)}"}
    client = app.test_client()
    assert client.get(f"/api/meetings/{MEETING}", headers=headers).status_code == 200
    assert client.get(f"/api/meetings/{OTHER_MEETING}", headers=headers).status_code == 403
    assert client.get("/admin", headers=headers).status_code == 403
    admin = {"Authorization": f"Bearer {sign_token(principal(role=ADMINISTRATOR, meetings=()), SECRET)}"}
    assert client.get(f"/api/meetings/{OTHER_MEETING}", headers=admin).status_code == 200


@pytest.mark.parametrize("url, override, secure", [
    ("https://treffpunkt.hessen.example", None, True),
    ("https://treffpunkt.hessen.example", False, True),  # https cannot be talked out of Secure
    ("http://127.0.0.1:8001", None, True),  # Chromium keeps Secure cookies on loopback over http
    ("http://localhost:8001", None, True),
    ("http://192.0.2.2:8001", None, False),  # elsewhere over http Chromium would drop the cookie
    ("http://192.0.2.2:8001", True, True),
    ("http://127.0.0.1:8001", False, False),
])
def test_cookies_are_secure_over_https_and_on_loopback_unless_configured(url, override, secure):
    assert secure_cookies(url, override) is secure


def test_a_revocation_refuses_every_token_signed_in_until_its_second_and_the_next_sign_in_counts():
    not_before = revocation_time(now=1000.7)
    assert signed_in_before(1000, not_before)  # signed in earlier in the same second: refused too
    assert not signed_in_before(1001, not_before) and not signed_in_before(1000, None)
    assert sign_in_time(not_before, now=1000.9) == 1001  # signing in again at once gives a token that counts
    assert sign_in_time(not_before, now=1005.2) == 1005 and sign_in_time(None, now=1000.9) == 1000


def test_a_service_that_only_verifies_tokens_clears_a_refused_cookie_but_never_rewrites_it():
    revoked, demoted = principal(), principal(role=ADMINISTRATOR, signed_in_at=time.time() - 5)
    looked_up = []

    def refresh(p: Principal):
        looked_up.append(p.id)
        return None if p == revoked else replace(p, role=ORGANISER)

    app = Flask(__name__)
    install_auth(app, SECRET, sign_in_url="http://agenda.example/anmelden", cookie_secure=True, refresh=refresh,
                 reissue_cookie=False)
    app.post("/api/whoami")(organiser_required(lambda: jsonify(role=current_principal().role)))
    client = app.test_client()

    client.set_cookie(SESSION_COOKIE, sign_token(revoked, SECRET))
    r = client.post("/api/whoami", headers={"Accept": "application/json"})
    assert r.status_code == 401 and "Max-Age=0" in r.headers["Set-Cookie"]
    client.set_cookie(SESSION_COOKIE, sign_token(demoted, SECRET))
    r = client.post("/api/whoami", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json["role"] == ORGANISER and "Set-Cookie" not in r.headers
    assert len(looked_up) == 2  # one look-up per request, also for a state-changing one
