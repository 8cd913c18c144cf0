"""CSRF protection on a small Flask app: which requests need the token and what a wrong one gets."""
from __future__ import annotations

import re
import time

import pytest
from flask import Flask, jsonify, render_template_string, request

from treffpunkt_shared import http
from treffpunkt_shared.auth import ORGANISER, SESSION_COOKIE, Principal, install_auth, sign_token
from treffpunkt_shared.csrf import CSRF_COOKIE, CSRF_HEADER, install_csrf

SECRET = "c" * 40


def token_of(principal_id: str = "p-1") -> str:
    return sign_token(Principal(id=principal_id, name="Erika", email="erika@example.org", role=ORGANISER,
                                signed_in_at=int(time.time())), SECRET)


@pytest.fixture
def app():
    app = Flask(__name__)
    http.install(app, service="test")
    install_auth(app, SECRET, sign_in_url="/anmelden", cookie_secure=False)
    install_csrf(app, SECRET, cookie_secure=False)
    app.config["changes"] = []

    @app.get("/form")
    def form():
        return render_template_string('<form method="post">{{ csrf_field() }}</form>')

    @app.post("/form")
    def submit():
        app.config["changes"].append(request.form.get("x"))
        return "saved"

    @app.post("/api/things")
    def api():
        app.config["changes"].append("api")
        return jsonify(ok=True), 201

    return app


def field_token(client) -> str:
    page = client.get("/form")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_the_form_page_sets_an_httponly_lax_cookie_and_is_not_cached(app):
    r = app.test_client().get("/form")
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert r.headers["Cache-Control"] == "no-store"


def test_a_form_post_with_its_token_goes_through(app):
    client = app.test_client()
    assert client.post("/form", data={"x": "1", "csrf_token": field_token(client)}).text == "saved"
    assert app.config["changes"] == ["1"]


@pytest.mark.parametrize("case", ["missing", "wrong", "no cookie", "token of another browser"])
def test_a_form_post_without_the_right_token_is_400_and_changes_nothing(app, case):
    client, other = app.test_client(), app.test_client()
    token = field_token(client)
    data = {"x": "1"}
    if case == "wrong":
        data["csrf_token"] = token[:-2] + "AA"
    elif case == "no cookie":
        data["csrf_token"] = token
        client.delete_cookie(CSRF_COOKIE)
    elif case == "token of another browser":
        data["csrf_token"] = field_token(other)
    r = client.post("/form", data=data)
    assert r.status_code == 400 and "Bitte laden Sie die Seite neu" in r.json["message"]
    assert app.config["changes"] == []


def test_a_token_rendered_before_signing_in_is_not_accepted_for_the_signed_in_session(app):
    client = app.test_client()
    anonymous_token = field_token(client)
    client.set_cookie(SESSION_COOKIE, token_of())
    assert client.post("/form", data={"csrf_token": anonymous_token}).status_code == 400
    assert client.post("/form", data={"csrf_token": field_token(client)}).status_code == 200


def test_json_with_a_bearer_token_needs_no_csrf_token(app):
    r = app.test_client().post("/api/things", json={}, headers={"Authorization": f"Bearer {token_of()}"})
    assert r.status_code == 201


def test_json_authenticated_by_the_cookie_needs_the_csrf_header(app):
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, token_of())
    assert client.post("/api/things", json={}).status_code == 400
    assert client.post("/api/things", json={}, headers={CSRF_HEADER: field_token(client)}).status_code == 201
    assert app.config["changes"] == ["api"]


def test_anonymous_json_is_exempt_but_an_anonymous_form_post_is_not(app):
    client = app.test_client()
    assert client.post("/api/things", json={}).status_code == 201
    assert client.post("/form", data={"x": "1"}).status_code == 400
    assert client.post("/form", data="x=1", content_type="text/plain").status_code == 400
