"""Taking an organiser's access away at the agenda counts in registration and notify too, through the real
broker: the agenda app writes ``organiser.access_changed`` through its outbox, its relay publishes it to
RabbitMQ, the registration and notify consumers keep it in PostgreSQL, and their apps refuse the token from
the next request. Without it they would believe the token for up to 8 hours."""
from __future__ import annotations

import json
import threading
import uuid
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from treffpunkt_agenda import accounts as agenda_accounts
from treffpunkt_agenda.announce_command import announce_access
from treffpunkt_agenda.app import MIGRATIONS as AGENDA_MIGRATIONS, create_app as agenda_app
from treffpunkt_agenda.config import Settings as AgendaSettings
from treffpunkt_agenda.models import outbox as agenda_outbox
from treffpunkt_notify.app import MIGRATIONS as NOTIFY_MIGRATIONS, create_app as notify_app
from treffpunkt_notify.config import Settings as NotifySettings
from treffpunkt_notify.handlers import make_handler as notify_handler
from treffpunkt_registration.app import MIGRATIONS as REGISTRATION_MIGRATIONS, create_app as registration_app
from treffpunkt_registration.config import Settings as RegistrationSettings
from treffpunkt_registration.meetings import make_handler as registration_handler
from treffpunkt_shared.auth import SESSION_COOKIE
from treffpunkt_shared.contracts import ENVELOPE_CONTENT_TYPE
from treffpunkt_shared.db import make_engine, upgrade_database
from treffpunkt_shared.messaging.consumer import ServiceConsumer
from treffpunkt_shared.messaging.relay import OutboxRelay
from treffpunkt_shared.messaging.topology import topology_for
from treffpunkt_shared.testing import access_changed_event, wait_until

SECRET = "revocation-test-secret-" + "v" * 32
SIGN_IN_URL = "http://127.0.0.1:8001/anmelden"
PASSWORD = "Wissensmanagement-2016"
RETRY_DELAYS_MS = (200, 400)
ACCESS_EVENT = "organiser.access_changed"
MEETING = {"title": "2. Landesnetzwerktreffen", "starts_at": "2030-09-16T10:00:00",
           "ends_at": "2030-09-16T16:00:00", "venue": {"name": "Regierungspräsidium Darmstadt"}, "capacity": 60}


class Stack:
    """The three apps (test clients) on their own databases, the agenda's relay and both consumers running."""

    def __init__(self, postgres_url_for, amqp_url: str, namespace: str, mail_dir: str):
        self.namespace = namespace
        common = {"amqp_url": amqp_url, "namespace": namespace, "session_secret": SECRET,
                  "retry_delays_ms": RETRY_DELAYS_MS}
        agenda = AgendaSettings(database_url=postgres_url_for("agenda"), **common)
        registration = RegistrationSettings(database_url=postgres_url_for("registration"),
                                            sign_in_url=SIGN_IN_URL, **common)
        notify = NotifySettings(database_url=postgres_url_for("notify"), sign_in_url=SIGN_IN_URL,
                                smtp_host="capture", mail_capture_dir=mail_dir, **common)
        self.agenda_database_url = agenda.database_url
        self.engines = {}
        for name, settings, migrations in (("agenda", agenda, AGENDA_MIGRATIONS),
                                           ("registration", registration, REGISTRATION_MIGRATIONS),
                                           ("notify", notify, NOTIFY_MIGRATIONS)):
            self.engines[name] = make_engine(settings.database_url)
            upgrade_database(self.engines[name], migrations)
        topology = topology_for(agenda)
        self.parts = {
            "agenda-relay": OutboxRelay(self.engines["agenda"], agenda_outbox, amqp_url, topology),
            "registration-consumer": ServiceConsumer(amqp_url, topology, "registration",
                                                     registration_handler(self.engines["registration"])),
            "notify-consumer": ServiceConsumer(amqp_url, topology, "notify",
                                               notify_handler(self.engines["notify"], notify)),
        }
        self.threads = [threading.Thread(target=part.run, daemon=True, name=f"revocation-{name}")
                        for name, part in self.parts.items()]
        for thread in self.threads:
            thread.start()
        assert self.parts["registration-consumer"].ready.wait(15) and self.parts["notify-consumer"].ready.wait(15)
        self.agenda = agenda_app(agenda, engine=self.engines["agenda"]).test_client()
        self.registration = registration_app(registration, engine=self.engines["registration"]).test_client()
        self.notify = notify_app(notify, engine=self.engines["notify"]).test_client()
        self.admin = self.account(agenda_accounts.ADMINISTRATOR)
        self.admin_headers = self.sign_in(self.admin)

    def stop(self) -> None:
        for part in self.parts.values():
            part.stop()
        for thread in self.threads:
            thread.join(15)
        for engine in self.engines.values():
            engine.dispose()

    def account(self, role: str = agenda_accounts.ORGANISER) -> dict:
        with self.engines["agenda"].begin() as tx:
            return agenda_accounts.create_account(tx, email=f"{role}-{uuid.uuid4().hex[:8]}@example.org",
                                                  name="Erika Organisatorin", role=role, password=PASSWORD)

    def sign_in(self, account: dict) -> dict:
        """Bearer headers with a token from the agenda's ``POST /api/session``, as an API client gets one."""
        r = self.agenda.post("/api/session", json={"email": account["email"], "password": PASSWORD})
        assert r.status_code == 200, r.json
        return {"Authorization": f"Bearer {r.json['token']}"}

    def published_meeting_of(self, organiser: dict) -> str:
        """A meeting the administrator creates, assigns ``organiser`` to and publishes; known to registration."""
        meeting_id = self.agenda.post("/api/meetings", json=MEETING, headers=self.admin_headers).json["id"]
        assign = self.agenda.put(f"/api/organisers/{organiser['id']}/meetings/{meeting_id}", headers=self.admin_headers)
        assert assign.status_code == 204
        publish = self.agenda.post(f"/api/meetings/{meeting_id}/publish", json={}, headers=self.admin_headers)
        assert publish.status_code == 200, publish.json
        # Behind the assignments in the outbox, so these are consumed too once it is.
        wait_until(lambda: self.consumed("registration", "meeting.published") and
                   self.consumed("notify", "meeting.published"), 20, message="meeting.published consumed")
        return meeting_id

    def consumed(self, service: str, message_type: str) -> int:
        with self.engines[service].connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM processed_messages WHERE type = :t"),
                                {"t": message_type}).scalar()

    @contextmanager
    def announced(self):
        """Around a change of access at the agenda: waits until registration and notify have both consumed
        one more ``organiser.access_changed`` than before it."""
        before = {s: self.consumed(s, ACCESS_EVENT) for s in ("registration", "notify")}
        yield
        wait_until(lambda: all(self.consumed(s, ACCESS_EVENT) > n for s, n in before.items()), 20,
                   message=f"{ACCESS_EVENT} consumed by registration and notify")


@pytest.fixture
def stack(postgres_url_for, amqp_url, namespace, tmp_path):
    running = Stack(postgres_url_for, amqp_url, namespace, str(tmp_path / "mail"))
    yield running
    running.stop()


def organiser_list(stack: Stack, meeting_id: str, headers: dict) -> int:
    return stack.registration.get(f"/api/organiser/meetings/{meeting_id}/registrations", headers=headers).status_code


def delivery_log(stack: Stack, meeting_id: str, headers: dict) -> int:
    return stack.notify.get(f"/api/meetings/{meeting_id}/deliveries", headers=headers).status_code


def signed_in_organiser(stack: Stack) -> tuple[dict, str, dict]:
    """An organiser assigned to a published meeting, and their token, which both services honour now:
    (account, meeting id, bearer headers)."""
    organiser = stack.account()
    meeting_id = stack.published_meeting_of(organiser)
    token = stack.sign_in(organiser)  # names the meeting among the organiser's
    assert organiser_list(stack, meeting_id, token) == 200 and delivery_log(stack, meeting_id, token) == 200
    return organiser, meeting_id, token


def test_after_an_administrator_deactivates_an_organiser_their_token_is_refused_in_registration_and_notify(stack):
    organiser, meeting_id, token = signed_in_organiser(stack)

    with stack.announced():
        r = stack.agenda.patch(f"/api/organisers/{organiser['id']}", json={"active": False},
                               headers=stack.admin_headers)
        assert r.status_code == 200 and r.json["active"] is False

    assert organiser_list(stack, meeting_id, token) == 401
    assert delivery_log(stack, meeting_id, token) == 401
    # A browser with the same token in its cookie is sent to the sign-in page, and the cookie is cleared.
    browser = stack.registration.application.test_client()
    browser.set_cookie(SESSION_COOKIE, token["Authorization"].split()[1])
    page = browser.get(f"/organiser/meetings/{meeting_id}", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["Location"].startswith(SIGN_IN_URL)
    assert any(h.startswith(f"{SESSION_COOKIE}=;") and "Max-Age=0" in h for h in page.headers.getlist("Set-Cookie"))


def test_after_an_organiser_is_removed_from_a_meeting_registration_refuses_them_its_organiser_list(stack):
    organiser, meeting_id, token = signed_in_organiser(stack)

    with stack.announced():
        r = stack.agenda.delete(f"/api/organisers/{organiser['id']}/meetings/{meeting_id}",
                                headers=stack.admin_headers)
        assert r.status_code == 204

    assert organiser_list(stack, meeting_id, token) == 403
    assert delivery_log(stack, meeting_id, token) == 403
    # Still signed in, only without the meeting.
    mine = stack.registration.get("/api/organiser/meetings", headers=token)
    assert mine.status_code == 200 and meeting_id not in [m["id"] for m in mine.json["meetings"]]


def test_signing_out_refuses_a_copied_token_in_all_three_services_and_a_new_sign_in_counts_again(stack):
    organiser, meeting_id, copied = signed_in_organiser(stack)

    with stack.announced():
        assert stack.agenda.delete("/api/session", headers=copied).status_code == 204
        assert stack.agenda.get("/api/session", headers=copied).status_code == 401  # the agenda: at once
    assert organiser_list(stack, meeting_id, copied) == 401
    assert delivery_log(stack, meeting_id, copied) == 401

    # Signed in again (likely within the same second): issued after not_before, so it counts everywhere.
    fresh = stack.sign_in(organiser)
    assert stack.agenda.get("/api/session", headers=fresh).status_code == 200
    assert organiser_list(stack, meeting_id, fresh) == 200 and delivery_log(stack, meeting_id, fresh) == 200


def test_an_access_event_that_breaks_the_contract_is_dead_lettered_by_both_consumers_with_the_reason(stack, broker):
    organiser = stack.account()
    body = json.loads(access_changed_event(organiser["id"], 1))  # the agenda would refuse to write this one:
    del body["payload"]["active"]
    body["payload"]["role"] = "superuser"
    broker.publish_raw(f"{stack.namespace}.events", ACCESS_EVENT, json.dumps(body).encode(),
                       content_type=ENVELOPE_CONTENT_TYPE, message_id=body["id"])

    for service in ("registration", "notify"):
        _method, props, _body = broker.get(f"{stack.namespace}.{service}.dead", 20)
        reason = props.headers["x-dead-reason"]
        assert reason.startswith(f"invalid payload for {ACCESS_EVENT}") and "active" in reason and "role" in reason
        assert stack.consumed(service, ACCESS_EVENT) == 0


def kept_access(stack: Stack, service: str, organiser_id: str):
    with stack.engines[service].connect() as conn:
        return conn.execute(sa.text("SELECT revision, active, received_at FROM organiser_access "
                                    "WHERE organiser_id = :id"), {"id": organiser_id}).first()


def test_an_account_deactivated_before_access_events_existed_is_refused_everywhere_once_announce_access_ran(stack):
    organiser = stack.account()
    meeting_id = stack.agenda.post("/api/meetings", json=MEETING, headers=stack.admin_headers).json["id"]
    agenda_db = stack.engines["agenda"]
    # Assigned as a version without access events did it: nothing announced, revision 0.
    with agenda_db.begin() as tx:
        tx.execute(sa.text("INSERT INTO meeting_organisers (meeting_id, organiser_id) VALUES (:m, :o)"),
                   {"m": meeting_id, "o": organiser["id"]})
    assert stack.agenda.post(f"/api/meetings/{meeting_id}/publish", json={},
                             headers=stack.admin_headers).status_code == 200
    wait_until(lambda: stack.consumed("registration", "meeting.published") and
               stack.consumed("notify", "meeting.published"), 20, message="meeting.published consumed")
    token = stack.sign_in(organiser)
    with agenda_db.begin() as tx:
        tx.execute(sa.text("UPDATE organisers SET active = false, tokens_not_before = now() WHERE id = :o"),
                   {"o": organiser["id"]})
    # What registration and notify cannot know by themselves: the token is still believed there.
    assert organiser_list(stack, meeting_id, token) == 200 and delivery_log(stack, meeting_id, token) == 200

    assert announce_access([], stack.agenda_database_url) == 0
    wait_until(lambda: kept_access(stack, "registration", organiser["id"]) and
               kept_access(stack, "notify", organiser["id"]), 20, message="announcement consumed")
    assert organiser_list(stack, meeting_id, token) == 401 and delivery_log(stack, meeting_id, token) == 401
    assert organiser_list(stack, meeting_id, stack.admin_headers) == 200  # the others' access stays

    before = {s: kept_access(stack, s, organiser["id"]) for s in ("registration", "notify")}
    consumed = {s: stack.consumed(s, ACCESS_EVENT) for s in before}
    assert announce_access([], stack.agenda_database_url) == 0  # twice: harmless
    wait_until(lambda: all(stack.consumed(s, ACCESS_EVENT) >= n + 2 for s, n in consumed.items()), 20,
               message="second announcement consumed")
    assert {s: kept_access(stack, s, organiser["id"]) for s in before} == before  # same revision: not taken again
    assert tuple(before["notify"][:2]) == (1, False)
