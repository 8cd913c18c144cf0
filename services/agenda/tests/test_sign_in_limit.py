"""The sign-in rate limit, kept in the agenda database and so shared by every worker and process."""
from __future__ import annotations

import re
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from treffpunkt_agenda.app import create_app
from treffpunkt_agenda.models import sign_in_attempts
from treffpunkt_agenda.sign_in_limit import SignInLimiter, SignInLimits
from treffpunkt_shared.db import make_engine
from treffpunkt_shared.timeutil import utcnow

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from agenda_testing import PASSWORD  # noqa: E402

EMAIL = "erika@example.org"


def api_sign_in(client, password, address="198.51.100.7", email=EMAIL):
    return client.post("/api/session", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers={"Accept-Language": "de"})


def test_after_five_failures_even_the_right_password_is_answered_429(client, make_account):
    make_account(email=EMAIL)
    assert [api_sign_in(client, "falsch-falsch-falsch").status_code for _ in range(5)] == [401] * 5
    r = api_sign_in(client, PASSWORD)
    assert r.status_code == 429 and "token" not in r.json
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in r.json["message"]
    assert 800 < int(r.headers["Retry-After"]) <= 901


def test_the_limit_is_shared_by_two_app_instances_on_the_same_database(settings, engine, make_account):
    make_account(email=EMAIL)
    second_engine = make_engine(settings.database_url)  # another worker: its own app, its own connections
    try:
        first = create_app(settings, engine=engine).test_client()
        second = create_app(settings, engine=second_engine).test_client()
        for client in (first, second, first, second, first):
            assert api_sign_in(client, "falsch-falsch-falsch").status_code == 401
        assert api_sign_in(second, PASSWORD).status_code == 429
        assert api_sign_in(first, PASSWORD).status_code == 429
    finally:
        second_engine.dispose()


def test_the_sign_in_page_says_so_in_german_or_english_with_status_429(client, make_account):
    make_account(email=EMAIL)
    for _ in range(5):
        api_sign_in(client, "falsch-falsch-falsch", address="127.0.0.1")
    page = client.get("/anmelden?lang=en")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/anmelden", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 429 and "Too many failed sign-in attempts" in r.text and "Retry-After" in r.headers


def test_the_account_holder_elsewhere_is_not_locked_out_by_failures_from_one_address(client, make_account):
    make_account(email=EMAIL)
    for _ in range(5):
        api_sign_in(client, "falsch-falsch-falsch", address="203.0.113.66")
    assert api_sign_in(client, PASSWORD, address="203.0.113.66").status_code == 429
    assert api_sign_in(client, PASSWORD, address="198.51.100.7").status_code == 200


def test_a_successful_sign_in_forgets_the_failures_of_its_account(client, make_account):
    make_account(email=EMAIL)
    for _ in range(4):
        api_sign_in(client, "falsch-falsch-falsch")
    assert api_sign_in(client, PASSWORD).status_code == 200
    assert [api_sign_in(client, "falsch-falsch-falsch").status_code for _ in range(5)] == [401] * 5
    assert api_sign_in(client, PASSWORD).status_code == 429


def test_many_accounts_tried_from_one_address_are_stopped_too(settings, engine, make_account):
    limits = SignInLimits(per_email_and_address=5, per_email=20, per_address=8)
    client = create_app(settings, engine=engine, sign_in_limits=limits).test_client()
    codes = [api_sign_in(client, "falsch-falsch-falsch", email=f"person{i}@example.org").status_code
             for i in range(10)]
    assert codes == [401] * 8 + [429] * 2


def test_parallel_attempts_never_get_past_the_limit(engine):
    limiter = SignInLimiter(engine, SignInLimits(per_email_and_address=5))
    with ThreadPoolExecutor(12) as pool:
        attempts = list(pool.map(lambda _: limiter.attempt(EMAIL, "198.51.100.7"), range(24)))
    assert sum(a.allowed for a in attempts) <= 5


def test_attempts_leave_the_window_after_fifteen_minutes_and_store_no_address_or_email(engine):
    now = utcnow()
    limiter = SignInLimiter(engine, SignInLimits(), clock=lambda: now)
    for _ in range(5):
        assert limiter.attempt(EMAIL, "198.51.100.7").allowed
    assert not limiter.attempt(EMAIL, "198.51.100.7").allowed
    later = SignInLimiter(engine, SignInLimits(), clock=lambda: now + timedelta(minutes=15, seconds=1))
    assert later.attempt(EMAIL, "198.51.100.7").allowed
    with engine.connect() as conn:
        keys = conn.execute(sa.select(sign_in_attempts.c.key)).scalars().all()
    assert keys and not any(EMAIL in k or "198.51.100.7" in k for k in keys)
