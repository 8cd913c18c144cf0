"""Registering, on PostgreSQL: validation, capacity, duplicates, and the event written with the registration."""
import json
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from treffpunkt_registration import registration_events
from treffpunkt_registration.app import create_app
from treffpunkt_registration.models import meetings, outbox, registration_links, registrations
from registration_testing import form_token, outbox_events, person, publish_meeting


def test_a_registration_holds_a_place_until_confirmed_and_its_event_is_written_with_it(client, engine):
    meeting_id = publish_meeting(engine)
    r = client.post(f"/api/meetings/{meeting_id}/registrations", json=person())
    assert r.status_code == 201 and r.json["status"] == "pending" and r.json["has_place"] is True
    [event] = outbox_events(engine)
    assert event["type"] == "registration.received"
    assert event["payload"]["links"]["confirm_url"].startswith("http://anmeldung.test/bestaetigen/")
    assert event["payload"]["registration_id"] == r.json["id"]
    assert event["payload"]["participant"]["email"] == "erika0@example.org"
    assert event["payload"]["meeting"]["venue"]["room"] == "Ludwig-Bergsträßer-Saal"


def test_when_writing_the_event_fails_the_registration_is_not_saved_either(client, engine, monkeypatch):
    meeting_id = publish_meeting(engine)

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT INTO outbox", {}, Exception("disk full"))

    monkeypatch.setattr(registration_events, "add_to_outbox", broken)
    r = client.post(f"/api/meetings/{meeting_id}/registrations", json=person())
    assert r.status_code == 503 and r.headers["Retry-After"]  # the participant is asked to try again
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
    ({"dietary_needs": "vegan\x00"}, "dietary_needs", "Steuerzeichen"),
    # PostgreSQL cannot compare text holding NUL: unchecked, this was a 500.
    ({"rounds": ["r1\x00"]}, "rounds", "Steuerzeichen"),
])
def test_each_bad_field_gets_its_own_german_message(client, engine, change, field, message):
    meeting_id = publish_meeting(engine)
    r = client.post(f"/api/meetings/{meeting_id}/registrations", json=person(**change))
    assert r.status_code == 422
    errors = r.json["errors"][field]
    # A list field answers per entry: {"0": [...]}.
    texts = [m for v in errors.values() for m in v] if isinstance(errors, dict) else errors
    assert message in " ".join(texts)


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
    # Right after the first mail nothing is sent again (the form must not flood a mailbox) …
    assert [e["type"] for e in outbox_events(engine)] == ["registration.received"]
    with engine.begin() as tx:
        tx.execute(registration_links.update().values(created_at=sa.func.now() - sa.text("interval '3 minutes'")))
    # … a few minutes later the existing registration's link is mailed again: no second place.
    assert client.post(url, json=person(email=" erika0@EXAMPLE.org")).status_code == 409
    events = outbox_events(engine)
    assert [e["type"] for e in events] == ["registration.received", "registration.link_requested"]
    assert events[1]["payload"]["registration_id"] == events[0]["payload"]["registration_id"]
    assert events[1]["payload"]["links"]["confirm_url"] != events[0]["payload"]["links"]["confirm_url"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(meetings.c.seats_taken)).scalar() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(registrations)).scalar() == 1


def test_when_the_meeting_is_full_participants_are_put_on_the_waiting_list_in_order(client, engine):
    meeting_id = publish_meeting(engine, capacity=2)
    results = [client.post(f"/api/meetings/{meeting_id}/registrations", json=person(i)).json for i in range(4)]
    assert [r["has_place"] for r in results] == [True, True, False, False]
    assert [r["waitlist_position"] for r in results] == [None, None, 1, 2]
    assert [e["payload"]["waitlist_position"] for e in outbox_events(engine)] == [None, None, 1, 2]


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
    assert [r["has_place"] for r in results].count(True) == 25
    assert sorted(r["waitlist_position"] for r in results if not r["has_place"]) == list(range(1, 56))
    with engine.connect() as conn:
        assert conn.execute(sa.select(meetings.c.seats_taken)).scalar() == 25
        rows = {r.id: r.has_place for r in conn.execute(sa.select(registrations))}
    events = outbox_events(engine)
    assert len(events) == 80 and all(e["type"] == "registration.received" for e in events)
    # Each event says exactly what its registration row says.
    assert {e["payload"]["registration_id"]: e["payload"]["waitlist_position"] is None for e in events} == rows
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


def test_the_form_registers_and_asks_the_participant_to_confirm_by_email(client, engine):
    meeting_id = publish_meeting(engine)
    data = {k: v for k, v in person().items() if k != "privacy_consent"}
    r = client.post(f"/meetings/{meeting_id}", data={**data, "privacy_consent": "yes",
                                                     "csrf_token": form_token(client, meeting_id)})
    assert r.status_code == 303
    page = client.get(r.headers["Location"])
    assert "Bestätigungslink" in page.text and "ein Platz für Sie reserviert" in page.text


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
