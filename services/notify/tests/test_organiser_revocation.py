"""notify believes the agenda's newest ``organiser.access_changed`` over the sign-in token: the events go
through the consumer's handler (with its inbox) into the real database, requests through the app."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

from treffpunkt_notify.app import create_app
from treffpunkt_notify.handlers import make_handler
from treffpunkt_shared.auth import ORGANISER, SESSION_COOKIE, Principal, sign_token
from treffpunkt_shared.contracts import parse_envelope
from treffpunkt_shared.testing import access_changed_event

MEETING_ID = str(uuid.uuid4())


def signed_token(organiser_id: str, secret: str) -> str:
    principal = Principal(id=organiser_id, name="Erika Organisatorin", email="erika@example.org", role=ORGANISER,
                          meeting_ids=frozenset({MEETING_ID}), signed_in_at=int(time.time()) - 60)
    return sign_token(principal, secret)


def test_a_deactivated_organiser_is_refused_and_an_older_event_arriving_later_does_not_restore_access(
        notify_settings, notify_engine):
    settings, engine = notify_settings, notify_engine  # conftest.py
    client = create_app(settings, engine=engine).test_client()
    handle = make_handler(engine, settings)
    organiser_id = str(uuid.uuid4())
    bearer = {"Authorization": f"Bearer {signed_token(organiser_id, settings.session_secret)}"}
    assigned = access_changed_event(organiser_id, 4, meeting_ids=[MEETING_ID])
    deactivated = access_changed_event(organiser_id, 5, active=False, meeting_ids=[MEETING_ID],
                                       not_before=datetime.now(timezone.utc).isoformat(), changes=["deactivated"])

    handle(*parse_envelope(assigned, "application/json"))
    assert client.get(f"/api/meetings/{MEETING_ID}/deliveries", headers=bearer).status_code == 200
    handle(*parse_envelope(deactivated, "application/json"))
    handle(*parse_envelope(assigned, "application/json"))  # redelivered: the inbox has it already
    handle(*parse_envelope(access_changed_event(organiser_id, 3, meeting_ids=[MEETING_ID]), "application/json"))
    assert client.get(f"/api/meetings/{MEETING_ID}/deliveries", headers=bearer).status_code == 401

    browser = create_app(settings, engine=engine).test_client()
    browser.set_cookie(SESSION_COOKIE, signed_token(organiser_id, settings.session_secret))
    page = browser.get(f"/meetings/{MEETING_ID}/zustellungen", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["Location"].startswith(settings.sign_in_url)
    assert any(h.startswith(f"{SESSION_COOKIE}=;") for h in page.headers.getlist("Set-Cookie"))
