"""Who sees notify's delivery log and captured mails: signed-in organisers their meetings' mails only."""
from __future__ import annotations

import time
import uuid

import pytest
import sqlalchemy as sa

from treffpunkt_notify.app import MIGRATIONS, create_app
from treffpunkt_notify.config import Settings
from treffpunkt_notify.handlers import make_handler
from treffpunkt_notify.mail_queue import queue_mail
from treffpunkt_notify.mailer import CapturingMailer
from treffpunkt_notify.models import mails
from treffpunkt_shared.auth import ADMINISTRATOR, ORGANISER, Principal, sign_token
from treffpunkt_shared.contracts import REGISTRATION_CONFIRMED, encode, make_envelope, parse_envelope
from treffpunkt_shared.db import make_engine, upgrade_database
from treffpunkt_shared.testing import registration_payload

SECRET = "notify-test-secret-" + "n" * 32
DARMSTADT, GIESSEN = str(uuid.uuid4()), str(uuid.uuid4())


@pytest.fixture
def settings(postgres_url_for, tmp_path):
    return Settings(database_url=postgres_url_for("notify"), session_secret=SECRET, smtp_host="capture",
                    mail_capture_dir=str(tmp_path / "mail"), sign_in_url="http://127.0.0.1:8001/anmelden")


@pytest.fixture
def engine(settings):
    engine = make_engine(settings.database_url)
    upgrade_database(engine, MIGRATIONS)
    with engine.begin() as tx:
        for meeting_id, recipient in ((DARMSTADT, "a@example.org"), (GIESSEN, "b@example.org"), (None, "c@example.org")):
            queue_mail(tx, logical_key=f"k:{uuid.uuid4()}", kind="registration_confirmed",
                       source_message_id=str(uuid.uuid4()), source_body=b"{}", correlation_id=None,
                       recipient=recipient, message=b"Subject: x\r\n\r\nx", meeting_id=meeting_id)
    yield engine
    engine.dispose()


def headers(role=ORGANISER, meetings=(DARMSTADT,), secret=SECRET) -> dict:
    principal = Principal(id=str(uuid.uuid4()), name="Erika", email="erika@example.org", role=role,
                          meeting_ids=frozenset(meetings), signed_in_at=int(time.time()))
    return {"Authorization": f"Bearer {sign_token(principal, secret)}"}


def recipients(response) -> list[str]:
    assert response.status_code == 200, response.json
    return sorted(d["recipient"] for d in response.json["deliveries"])


def test_an_administrator_sees_every_mail_and_an_organiser_those_of_their_meetings(settings, engine):
    client = create_app(settings, engine=engine).test_client()
    assert recipients(client.get("/api/deliveries", headers=headers(ADMINISTRATOR, ()))) == \
        ["a@example.org", "b@example.org", "c@example.org"]
    assert recipients(client.get("/api/deliveries", headers=headers())) == ["a@example.org"]
    assert recipients(client.get("/api/deliveries", headers=headers(meetings=()))) == []


def test_the_log_of_one_meeting_is_403_for_an_organiser_not_assigned_to_it(settings, engine):
    client = create_app(settings, engine=engine).test_client()
    assert recipients(client.get(f"/api/meetings/{DARMSTADT}/deliveries", headers=headers())) == ["a@example.org"]
    assert client.get(f"/api/meetings/{GIESSEN}/deliveries", headers=headers()).status_code == 403


def test_without_a_sign_in_or_with_a_foreign_signature_the_log_is_401(settings, engine):
    client = create_app(settings, engine=engine).test_client()
    assert client.get("/api/deliveries").status_code == 401
    assert client.get("/api/deliveries", headers=headers(ADMINISTRATOR, secret="f" * 40)).status_code == 401


def test_captured_mails_are_for_administrators_unless_the_embedded_demo_opens_them(settings, engine):
    mailer = CapturingMailer(settings.mail_capture_dir)
    closed = create_app(settings, engine=engine, mailer=mailer).test_client()
    r = closed.get("/mail", headers={"Accept": "text/html"})
    assert r.status_code == 303 and r.headers["Location"].startswith("http://127.0.0.1:8001/anmelden?next=")
    assert closed.get("/mail", headers=headers()).status_code == 403
    assert closed.get("/mail", headers=headers(ADMINISTRATOR, ())).status_code == 200
    demo = create_app(settings, engine=engine, mailer=mailer, public_mail_capture=True).test_client()
    assert demo.get("/mail").status_code == 200


def test_a_mail_is_filed_under_the_meeting_of_its_event(settings, engine):
    payload = registration_payload()
    body = encode(make_envelope(REGISTRATION_CONFIRMED, payload, producer="registration"))
    make_handler(engine, settings)(*parse_envelope(body, "application/json"))
    with engine.connect() as conn:
        stored = conn.execute(sa.select(mails.c.meeting_id).where(mails.c.recipient == "erika@example.org")).scalar()
    assert stored == payload["meeting"]["meeting_id"]
