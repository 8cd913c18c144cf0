"""Registering, on PostgreSQL: validation, capacity, duplicates, and the event written with the registration."""
import json
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from treffpunkt_registration import registrations as registrations_module
from treffpunkt_registration.app import MIGRATIONS, create_app
from treffpunkt_registration.config import Settings
from treffpunkt_registration.meetings import apply_meeting_published
from treffpunkt_registration.models import meetings, outbox, registrations
from treffpunkt_shared.db import make_engine, upgrade_database


@pytest.fixture
def settings(postgres_url_for, amqp_url, namespace):
    return Settings(database_url=postgres_url_for("registration"), amqp_url=amqp_url, namespace=namespace,
                    db_pool_size=20)


@pytest.fixture
def engine(settings):
    engine = make_engine(settings.database_url, pool_size=20)
    upgrade_database(engine, MIGRATIONS)
    yield engine
    engine.dispose()


@pytest.fixture
def client(settings, engine):
    return create_app(settings, engine=engine).test_client()


def publish_meeting(engine, capacity=60, revision=1, meeting_id=None, **extra):
    meeting_id = meeting_id or str(uuid.uuid4())
    payload = {"meeting_id": meeting_id, "title": "2. Landesnetzwerktreffen", "series": "", "number": 2,
               "starts_at": "2016-09-16T08:00:00+00:00", "ends_at": "2016-09-16T14:00:00+00:00",
               "timezone": "Europe/Berlin", "host": "", "description": "", "theme": "Wissensmanagement",
               "venue": {"name": "Regierungspräsidium Darmstadt", "address": "", "room": "Ludwig-Bergsträßer-Saal"},
               "capacity": capacity, "registration_opens_at": None, "registration_closes_at": None,
               "revision": revision, **extra}
    from treffpunkt_shared.contracts import MEETING_PUBLISHED
    loaded = MEETING_PUBLISHED.load_payload(json.loads(json.dumps(payload)))
    with engine.begin() as tx:
        apply_meeting_published(tx, loaded)
    return meeting_id


def person(i=0, **overrides):
    return {"first_name": "Erika", "last_name": f"Muster{i}", "email": f"erika{i}@example.org",
            "organisation": "Ausländerbehörde Gießen", "function": "Sachgebietsleitung", "privacy_consent": True,
            **overrides}


def form_token(client, meeting_id) -> str:
    """The CSRF token of the registration form, as a browser gets it (its cookie stays in the client)."""
    page = client.get(f"/meetings/{meeting_id}")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def outbox_events(engine):
    with engine.connect() as conn:
        return [json.loads(r.body) for r in conn.execute(sa.select(outbox).order_by(outbox.c.seq))]


def test_a_registration_is_confirmed_and_its_event_is_written_with_it(client, engine):
    meeting_id = publish_meeting(engine)
    r = client.post(f"/api/meetings/{meeting_id}/registrations", json=person())
    assert r.status_code == 201 and r.json["status"] == "confirmed"
    [event] = outbox_events(engine)
    assert event["type"] == "registration.confirmed"
    assert event["payload"]["registration_id"] == r.json["id"]
    assert event["payload"]["participant"]["email"] == "erika0@example.org"
    assert event["payload"]["meeting"]["venue"]["room"] == "Ludwig-Bergsträßer-Saal"


def test_when_writing_the_event_fails_the_registration_is_not_saved_either(client, engine, monkeypatch):
    meeting_id = publish_meeting(engine)

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT INTO outbox", {}, Exception("disk full"))

    monkeypatch.setattr(registrations_module, "add_to_outbox", broken)
    r = client.post(f"/api/meetings/{meeting_id}/registrations", json=person())
    assert r.status_code == 500
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(registrations)).scalar() == 0
        assert conn.execute(sa.select(meetings.c.seats_taken)).scalar() == 0


@pytest.mark.parametrize("change, field, message", [
    ({"first_name": ""}, "first_name", "Bitte geben Sie Ihren Vornamen an."),
    ({"email": "keine-adresse"}, "email", "Bitte geben Sie eine gültige E-Mail-Adresse an."),
    ({"privacy_consent": False}, "privacy_consent", "Bitte stimmen Sie der Datenschutzerklärung zu."),
    ({"organisation": None}, "organisation", "Bitte geben Sie Ihre Behörde oder Organisation an."),
    ({"last_name": "Muster\r\nBcc: victim@example.org"}, "last_name", "Zeilenumbrüche"),
    ({"first_name": "x" * 101}, "first_name", "höchstens 100 Zeichen"),
])
def test_each_bad_field_gets_its_own_german_message(client, engine, change, field, message):
    meeting_id = publish_meeting(engine)
    r = client.post(f"/api/meetings/{meeting_id}/registrations", json=person(**change))
    assert r.status_code == 422
    assert message in " ".join(r.json["errors"][field])


def test_messages_are_english_when_the_client_asks_for_english(client, engine):
    meeting_id = publish_meeting(engine)
    r = client.post(f"/api/meetings/{meeting_id}/registrations", json=person(email="nope"),
                    headers={"Accept-Language": "en"})
    assert r.json["errors"]["email"] == ["Please enter a valid email address."]


def test_bad_bodies_and_unknown_meetings_get_4xx_never_500(client, engine):
    meeting_id = publish_meeting(engine)
    url = f"/api/meetings/{meeting_id}/registrations"
    assert client.post(url, data="{oops", content_type="application/json").status_code == 400
    assert client.post(url, data="a=b", content_type="application/x-www-form-urlencoded").status_code == 415
    assert client.post(url, data=json.dumps(person(function="x" * 100_000)),
                       content_type="application/json").status_code == 413
    assert client.post(f"/api/meetings/{uuid.uuid4()}/registrations", json=person()).status_code == 404
    assert client.post("/api/meetings/nope/registrations", json=person()).status_code == 404


def test_the_same_email_cannot_register_twice_for_one_meeting(client, engine):
    meeting_id = publish_meeting(engine)
    url = f"/api/meetings/{meeting_id}/registrations"
    assert client.post(url, json=person()).status_code == 201
    r = client.post(url, json=person(email="ERIKA0@example.org"))
    assert r.status_code == 409 and "email" in r.json["errors"]
    assert len(outbox_events(engine)) == 1


def test_when_the_meeting_is_full_participants_are_put_on_the_waiting_list_in_order(client, engine):
    meeting_id = publish_meeting(engine, capacity=2)
    results = [client.post(f"/api/meetings/{meeting_id}/registrations", json=person(i)).json for i in range(4)]
    assert [r["status"] for r in results] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert [r["waitlist_position"] for r in results[2:]] == [1, 2]
    assert [e["type"] for e in outbox_events(engine)][2:] == ["registration.waitlisted"] * 2


def test_concurrent_registrations_never_overbook_a_meeting(settings, engine):
    meeting_id = publish_meeting(engine, capacity=25)
    app = create_app(settings, engine=engine)
    barrier = threading.Barrier(16)

    def register(i):
        client = app.test_client()
        if i < 16:
            barrier.wait()
        return client.post(f"/api/meetings/{meeting_id}/registrations", json=person(i)).json

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(register, range(80)))
    statuses = [r["status"] for r in results]
    assert statuses.count("confirmed") == 25 and statuses.count("waitlisted") == 55
    assert sorted(r["waitlist_position"] for r in results if r["status"] == "waitlisted") == list(range(1, 56))
    with engine.connect() as conn:
        assert conn.execute(sa.select(meetings.c.seats_taken)).scalar() == 25
        rows = {r.id: (r.status, r.waitlist_position) for r in conn.execute(sa.select(registrations))}
    events = outbox_events(engine)
    assert len(events) == 80
    # The event is written before the place is taken and rewritten when none is left: each one must end up
    # saying exactly what the registration row says.
    assert {e["payload"]["registration_id"]: (e["payload"]["status"], e["payload"]["waitlist_position"])
            for e in events} == rows
    assert all(e["type"] == f"registration.{e['payload']['status']}" for e in events)
    with engine.connect() as conn:  # the relay routes by the row's routing key, not by the body
        assert all(r.routing_key == json.loads(r.body)["type"] for r in conn.execute(sa.select(outbox)))


def test_an_older_revision_of_a_meeting_never_overwrites_a_newer_one(engine):
    meeting_id = publish_meeting(engine, revision=2, capacity=80)
    publish_meeting(engine, revision=1, capacity=10, meeting_id=meeting_id)
    with engine.connect() as conn:
        assert conn.execute(sa.select(meetings.c.capacity)).scalar() == 80


def test_registration_is_refused_when_the_window_has_closed(client, engine):
    meeting_id = publish_meeting(engine, registration_closes_at="2016-09-01T00:00:00+00:00")
    r = client.post(f"/api/meetings/{meeting_id}/registrations", json=person())
    assert r.status_code == 409
    page = client.get(f"/meetings/{meeting_id}")
    assert "Die Anmeldung ist geschlossen." in page.text and "<form" not in page.text


def test_the_form_shows_each_error_at_its_field_and_keeps_the_entered_values(client, engine):
    meeting_id = publish_meeting(engine)
    r = client.post(f"/meetings/{meeting_id}", data={"first_name": "Erika", "email": "kaputt",
                                                     "csrf_token": form_token(client, meeting_id)})
    assert r.status_code == 422
    page = r.text
    assert 'value="Erika"' in page and 'value="kaputt"' in page
    assert 'id="email-error"' in page and 'aria-describedby="email-error"' in page
    assert "Bitte geben Sie eine gültige E-Mail-Adresse an." in page
    assert 'id="privacy_consent-error"' in page


def test_the_form_registers_and_redirects_to_a_thank_you_page(client, engine):
    meeting_id = publish_meeting(engine)
    data = {k: v for k, v in person().items() if k != "privacy_consent"}
    r = client.post(f"/meetings/{meeting_id}", data={**data, "privacy_consent": "yes",
                                                     "csrf_token": form_token(client, meeting_id)})
    assert r.status_code == 303
    thanks = client.get(r.headers["Location"])
    assert "Ihr Platz ist bestätigt" in thanks.text


@pytest.mark.parametrize("token", [None, "forged", "from-another-browser"])
def test_the_form_without_its_own_csrf_token_is_refused_and_registers_nobody(settings, engine, token):
    from treffpunkt_registration.app import create_app as make_app
    app = make_app(settings, engine=engine)
    meeting_id = publish_meeting(engine)
    browser, other_browser = app.test_client(), app.test_client()
    form_token(browser, meeting_id)  # the browser has its CSRF cookie
    data = {k: v for k, v in person().items() if k != "privacy_consent"}
    data["privacy_consent"] = "yes"
    if token == "forged":
        data["csrf_token"] = "A" * 43
    elif token == "from-another-browser":
        data["csrf_token"] = form_token(other_browser, meeting_id)
    r = browser.post(f"/meetings/{meeting_id}", data=data)
    assert r.status_code == 400 and "Bitte laden Sie die Seite neu" in r.text
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(registrations)).scalar() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 0


def test_html_typed_into_the_form_is_shown_escaped_never_executed(client, engine):
    meeting_id = publish_meeting(engine)
    r = client.post(f"/meetings/{meeting_id}", data={"first_name": "<script>alert(1)</script>",
                                                     "csrf_token": form_token(client, meeting_id)})
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;" in r.text


def test_unknown_pages_get_a_german_404_page(client):
    r = client.get(f"/meetings/{uuid.uuid4()}")
    assert r.status_code == 404 and "Seite nicht gefunden" in r.text


def test_a_closed_or_cancelled_meeting_takes_no_more_registrations_and_says_why(client, engine):
    meeting_id = publish_meeting(engine, revision=1)
    publish_meeting(engine, revision=2, meeting_id=meeting_id, status="closed")
    assert client.post(f"/api/meetings/{meeting_id}/registrations", json=person()).status_code == 409
    assert "keine Anmeldung möglich" in client.get(f"/meetings/{meeting_id}").text
    publish_meeting(engine, revision=3, meeting_id=meeting_id, status="published")
    assert client.post(f"/api/meetings/{meeting_id}/registrations", json=person()).status_code == 201
    publish_meeting(engine, revision=4, meeting_id=meeting_id, status="cancelled")
    assert client.post(f"/api/meetings/{meeting_id}/registrations", json=person(1)).status_code == 409
    page = client.get(f"/meetings/{meeting_id}").text
    assert "Dieses Treffen wurde abgesagt." in page and "<form" not in page
