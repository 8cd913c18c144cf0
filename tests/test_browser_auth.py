"""Organiser sign-in in a real headless Chromium: the form, the cookie it gets, one sign-in for all services,
accessibility (axe-core) of the sign-in and account pages, and the browser behaviour the cookie relies on."""
from __future__ import annotations

import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from browser_support import assert_accessible  # noqa: E402
from embedded_server import DEMO_TITLE  # noqa: E402

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser


def sign_in(page, email: str, password: str) -> None:
    page.fill("#email", email)
    page.fill("#password", password)
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("^(Anmelden|Sign in)$")).click()


def test_an_organiser_signs_in_through_the_form_and_reaches_their_meetings(server, page):
    organiser = server.logins["organiser"]
    response = page.goto(f"{server.base_url}/agenda/konto")
    assert "/agenda/anmelden?next=" in page.url and response.status == 200
    sign_in(page, organiser["email"], organiser["password"])

    assert page.url == f"{server.base_url}/agenda/konto"
    assert page.get_by_role("heading", level=1).inner_text() == "Mein Konto"
    assert page.locator("#meetings li").count() == 1  # the demo meeting, the only one assigned
    assert DEMO_TITLE in page.locator("#meetings").inner_text()
    assert page.get_by_role("link", name="Konten").count() == 0  # not an administrator

    [cookie] = [c for c in page.context.cookies() if c["name"] == "treffpunkt_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    assert cookie["secure"]  # kept by Chromium on http://127.0.0.1 (see treffpunkt_shared/cookies.py)

    # The same sign-in counts in notify, which never saw the password.
    response = page.goto(f"{server.base_url}/notify/api/meetings/{server.meeting_id}/deliveries")
    assert response.status == 200 and "deliveries" in response.json()
    response = page.goto(f"{server.base_url}/notify/api/meetings/00000000-0000-4000-8000-000000000000/deliveries")
    assert response.status == 403

    page.goto(f"{server.base_url}/agenda/konto")
    with page.expect_navigation():
        page.get_by_role("button", name="Abmelden").click()
    assert "Sie sind abgemeldet." in page.locator("main").inner_text()
    assert page.goto(f"{server.base_url}/notify/api/deliveries").status == 401


def test_an_administrator_reaches_the_account_list_after_a_wrong_password(server, page):
    admin = server.logins["admin"]
    page.goto(f"{server.base_url}/agenda/anmelden")
    sign_in(page, admin["email"], "ganz-falsches-Passwort")
    assert page.get_attribute("#password", "aria-invalid") == "true"
    described = page.get_attribute("#password", "aria-describedby")
    assert page.locator(f"#{described}").inner_text() == "E-Mail-Adresse oder Passwort ist falsch."
    assert page.input_value("#email") == admin["email"] and page.input_value("#password") == ""

    sign_in(page, admin["email"], admin["password"])
    page.get_by_role("link", name="Konten", exact=True).click()
    page.wait_for_url(re.compile(r"/agenda/konten$"))
    assert page.get_by_role("link", name="Demo-Organisation").is_visible()


def test_the_sign_in_and_account_pages_have_no_axe_violations(server, axe_page):
    page = axe_page
    assert page.goto(f"{server.base_url}/agenda/anmelden").status == 200
    assert page.locator("html").get_attribute("lang") == "de"
    assert_accessible(page, "the sign-in page")

    sign_in(page, "", "")
    assert page.locator(".summary").is_visible()
    assert_accessible(page, "the sign-in page with errors")

    assert page.goto(f"{server.base_url}/agenda/anmelden?lang=en").status == 200
    assert page.locator("html").get_attribute("lang") == "en"
    assert_accessible(page, "the English sign-in page")

    admin = server.logins["admin"]
    page.goto(f"{server.base_url}/agenda/anmelden?lang=de")
    sign_in(page, admin["email"], admin["password"])
    assert_accessible(page, "the account page")
    for path, what in (("/agenda/konten", "the account list"), ("/agenda/konten/neu", "the new account form")):
        assert page.goto(server.base_url + path).status == 200
        assert_accessible(page, what)
    with page.expect_navigation():
        page.get_by_role("button", name="Konto anlegen").click()
    assert page.locator(".summary").is_visible()
    assert_accessible(page, "the new account form with errors")
    page.goto(f"{server.base_url}/agenda/konten")
    page.get_by_role("link", name="Demo-Organisation").click()
    page.wait_for_url(re.compile(r"/agenda/konten/[0-9a-f-]{36}$"))
    assert_accessible(page, "an account with its meetings")


class _CookieProbe(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the http.server interface)
        self.send_response(200)
        if self.path == "/set":
            self.send_header("Set-Cookie", "probe=1; Secure; HttpOnly; SameSite=Lax; Path=/")
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write((self.headers.get("Cookie") or "").encode())

    def log_message(self, *args):
        pass


def test_chromium_keeps_secure_cookies_on_plain_http_loopback_and_sends_them_to_every_port(page):
    """The assumption behind the default COOKIE_SECURE and the one sign-in across ports: if a Chromium
    update changes it, this fails before the sign-in quietly breaks for local development."""
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _CookieProbe) for _ in range(2)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    try:
        first, second = (f"http://127.0.0.1:{s.server_address[1]}" for s in servers)
        page.goto(f"{first}/set")
        page.goto(f"{second}/read")
        assert page.locator("body").inner_text() == "probe=1"
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()
