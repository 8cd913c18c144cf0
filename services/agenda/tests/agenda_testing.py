"""Helpers for the agenda's tests (fixtures are in conftest.py): the test secret, tokens for accounts."""
from __future__ import annotations

import re
import time

from treffpunkt_shared.auth import Principal, sign_token

SECRET = "agenda-test-secret-" + "k" * 32
PASSWORD = "Wissensmanagement-2016"


def token_for(account: dict, secret: str = SECRET, *, signed_in_at: float | None = None) -> str:
    principal = Principal(id=account["id"], name=account["name"], email=account["email"], role=account["role"],
                          meeting_ids=frozenset(account.get("meeting_ids", ())),
                          signed_in_at=int(time.time() if signed_in_at is None else signed_in_at))
    return sign_token(principal, secret)


def bearer(account: dict, **kwargs) -> dict:
    return {"Authorization": f"Bearer {token_for(account, **kwargs)}"}


def csrf_of(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def signed_in_browser(app, email: str, password: str = PASSWORD):
    """A test client signed in through the sign-in form, whose form posts carry the CSRF token of its session
    (as a real browser's forms do); a post that names its own ``csrf_token`` keeps it."""
    browser = app.test_client()
    r = browser.post("/anmelden", data={"email": email, "password": password,
                                        "csrf_token": csrf_of(browser.get("/anmelden"))})
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    token = csrf_of(browser.get("/organiser/meetings/new"))
    post = browser.post

    def post_with_token(*args, **kwargs):
        data = kwargs.get("data")
        if data is None and "json" not in kwargs:
            kwargs["data"] = {"csrf_token": token}  # a form that is only a button
        elif isinstance(data, dict) and not data.get("csrf_token"):
            kwargs["data"] = {**data, "csrf_token": token}
        return post(*args, **kwargs)

    browser.post = post_with_token
    return browser
