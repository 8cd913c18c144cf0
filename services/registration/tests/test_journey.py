"""The participant journey on PostgreSQL: double opt-in, waiting list and promotion, expiry, rounds, quotas,
personal links, double posts and rate limits."""
import re
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from treffpunkt_registration import registrations as journey
from treffpunkt_registration.models import meetings, registration_links, registrations, rounds
from treffpunkt_shared.timeutil import utcnow
from registration_testing import (confirm_link, events_for, manage_link, outbox_events, page_csrf, person,
                                  publish_agenda, publish_meeting, round_item)


def register(client, meeting_id, i=0, **overrides):
    r = client.post(f"/api/meetings/{meeting_id}/registrations", json=person(i, **overrides))
    assert r.status_code == 201, r.text
    return r.json


def confirmed(client, engine, meeting_id, i=0, **overrides):
    reg = register(client, meeting_id, i, **overrides)
    assert client.get(f"/bestaetigen/{confirm_link(engine, reg['id'])}").status_code == 303
    return reg


def status_of(engine, registration_id):
    with engine.connect() as conn:
        row = conn.execute(sa.select(registrations).where(registrations.c.id == registration_id)).first()
    return row.status, row.has_place


def seats_taken(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(meetings.c.seats_taken)).scalar()


def test_following_the_confirmation_link_confirms_the_place_and_mails_the_personal_link(client, engine):
    meeting_id = publish_meeting(engine)
    reg = register(client, meeting_id)
    r = client.get(f"/bestaetigen/{confirm_link(engine, reg['id'])}")
    assert r.status_code == 303 and "/anmeldung/" in r.headers["Location"]
    page = client.get(r.headers["Location"])
    assert "Ihre Anmeldung ist bestätigt" in page.text and "Ihr Platz ist bestätigt." in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    [received, confirmation] = events_for(engine, reg["id"])
    assert confirmation["type"] == "registration.confirmed"
    assert confirmation["payload"]["sequence"] == 2 and confirmation["payload"]["previous_status"] == "pending"
    token = confirmation["payload"]["links"]["manage_url"].rsplit("/", 1)[1]
    assert r.headers["Location"].split("?")[0].endswith(token)
    assert status_of(engine, reg["id"]) == ("confirmed", True)


def test_a_second_click_on_the_confirmation_link_changes_nothing(client, engine):
    meeting_id = publish_meeting(engine)
    reg = register(client, meeting_id)
    token = confirm_link(engine, reg["id"])
    client.get(f"/bestaetigen/{token}")
    # The link was used: it no longer opens anything, and no second event is written.
    assert client.get(f"/bestaetigen/{token}").status_code == 404
    assert [e["type"] for e in events_for(engine, reg["id"])] == ["registration.received", "registration.confirmed"]


def test_a_participant_beyond_the_capacity_confirms_onto_the_waiting_list_with_their_position(client, engine):
    meeting_id = publish_meeting(engine, capacity=1)
    confirmed(client, engine, meeting_id, 0)
    second = confirmed(client, engine, meeting_id, 1)
    event = events_for(engine, second["id"])[-1]
    assert event["type"] == "registration.waitlisted" and event["payload"]["waitlist_position"] == 1
    assert event["payload"]["links"]["manage_url"]


def test_a_cancellation_promotes_the_first_on_the_waiting_list_exactly_once(client, engine):
    meeting_id = publish_meeting(engine, capacity=2)
    first = confirmed(client, engine, meeting_id, 0)
    confirmed(client, engine, meeting_id, 1)
    waiting = [confirmed(client, engine, meeting_id, i) for i in (2, 3)]
    manage = client.get(f"/anmeldung/{manage_link(engine, first['id'])}")
    token = manage_link(engine, first["id"])
    form = client.get(f"/anmeldung/{token}/stornieren")
    assert "wirklich stornieren" in form.text
    r = client.post(f"/anmeldung/{token}/stornieren", data={"csrf_token": page_csrf(form.text)})
    assert r.status_code == 303
    assert "Ihre Anmeldung ist storniert." in client.get(r.headers["Location"]).text
    # A second post (double click) cancels nothing more and promotes nobody else.
    client.post(f"/anmeldung/{token}/stornieren", data={"csrf_token": page_csrf(form.text)})
    assert status_of(engine, first["id"]) == ("cancelled", False)
    assert status_of(engine, waiting[0]["id"]) == ("confirmed", True)
    assert status_of(engine, waiting[1]["id"]) == ("waitlisted", False)
    promoted = [e for e in outbox_events(engine) if e["type"] == "registration.promoted"]
    assert [e["payload"]["registration_id"] for e in promoted] == [waiting[0]["id"]]
    assert promoted[0]["payload"]["links"]["manage_url"]
    assert events_for(engine, first["id"])[-1]["payload"]["cancelled_by"] == "participant"
    assert seats_taken(engine) == 2
    # The one still waiting moved up to position 1.
    assert client.get(f"/api/registrations/{manage_link(engine, waiting[1]['id'])}").json["waitlist_position"] == 1
    assert manage.status_code == 200


def test_concurrent_cancellations_give_each_freed_place_to_exactly_one_waiting_participant(settings, engine, app):
    meeting_id = publish_meeting(engine, capacity=10)
    client = app.test_client()
    holders = [confirmed(client, engine, meeting_id, i) for i in range(10)]
    waiting = [confirmed(client, engine, meeting_id, i) for i in range(10, 25)]
    barrier = threading.Barrier(10)

    def cancel(reg):
        barrier.wait()
        return journey.cancel(engine, settings, reg["id"])

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(cancel, holders))
    promoted = [e["payload"]["registration_id"] for e in outbox_events(engine) if e["type"] == "registration.promoted"]
    # The first ten in line, each once; the other five still wait, in order.
    assert sorted(promoted) == sorted(r["id"] for r in waiting[:10]) and len(promoted) == 10
    assert all(status_of(engine, r["id"]) == ("waitlisted", False) for r in waiting[10:])
    assert seats_taken(engine) == 10


def test_an_unconfirmed_registration_expires_and_its_place_goes_to_the_waiting_list(client, engine, settings):
    meeting_id = publish_meeting(engine, capacity=1)
    forgetful = register(client, meeting_id, 0)
    waiting = confirmed(client, engine, meeting_id, 1)
    assert journey.expire_overdue(engine, settings) == 0  # not yet due
    with engine.begin() as tx:
        tx.execute(registrations.update().where(registrations.c.id == forgetful["id"])
                   .values(confirm_by=utcnow() - timedelta(minutes=1)))
    assert journey.expire_overdue(engine, settings) == 1
    assert journey.expire_overdue(engine, settings) == 0  # once
    assert status_of(engine, forgetful["id"]) == ("expired", False)
    assert status_of(engine, waiting["id"]) == ("confirmed", True)
    assert events_for(engine, forgetful["id"])[-1]["type"] == "registration.expired"
    assert events_for(engine, waiting["id"])[-1]["type"] == "registration.promoted"
    # Its confirmation link is dead now.
    assert client.get(f"/bestaetigen/{confirm_link(engine, forgetful['id'])}").status_code == 404


def test_a_waiting_participant_who_has_not_confirmed_yet_keeps_the_freed_place_until_they_confirm(client, engine):
    meeting_id = publish_meeting(engine, capacity=1)
    holder = confirmed(client, engine, meeting_id, 0)
    late = register(client, meeting_id, 1)  # pending, on the waiting list
    client.delete(f"/api/registrations/{manage_link(engine, holder['id'])}")
    assert status_of(engine, late["id"]) == ("pending", True)
    client.get(f"/bestaetigen/{confirm_link(engine, late['id'])}")
    assert events_for(engine, late["id"])[-1]["type"] == "registration.confirmed"


ROUNDS = [round_item("r1", "Diskussionsrunde 1: Ungeklärte Identität", 1, 2.5, capacity=2),
          round_item("r2", "Diskussionsrunde 2: Wissensmanagement", 1, 2.5, capacity=5),
          round_item("w1", "Workshop: Aktenführung", 3, 4.5, kind="workshop")]


def test_the_form_offers_the_rounds_per_time_slot_and_shows_full_ones_as_full(client, engine):
    meeting_id = publish_meeting(engine)
    publish_agenda(engine, meeting_id, ROUNDS)
    confirmed(client, engine, meeting_id, 0, rounds=["r1"])
    confirmed(client, engine, meeting_id, 1, rounds=["r1", "w1"])
    page = client.get(f"/meetings/{meeting_id}").text
    assert page.count('<fieldset class="slot"') == 2
    r1 = re.search(r'<input type="radio"[^>]*value="r1"[^>]*>', page).group(0)
    assert "disabled" in r1 and "ausgebucht" in page
    assert "disabled" not in re.search(r'<input type="radio"[^>]*value="r2"[^>]*>', page).group(0)
    assert "Begrüßung" in page and "Werner Appel" in page  # the agenda preview


def test_a_round_that_filled_up_meanwhile_is_refused_at_its_field_and_nothing_is_booked(client, engine):
    meeting_id = publish_meeting(engine)
    publish_agenda(engine, meeting_id, ROUNDS)
    register(client, meeting_id, 0, rounds=["r1"])
    register(client, meeting_id, 1, rounds=["r1"])
    r = client.post(f"/api/meetings/{meeting_id}/registrations", json=person(2, rounds=["r1", "w1"]))
    assert r.status_code == 409 and r.json["errors"]["rounds"]["r1"]
    assert seats_taken(engine) == 2
    with engine.connect() as conn:
        taken = dict(conn.execute(sa.select(rounds.c.item_id, rounds.c.places_taken)).all())
    assert taken == {"r1": 2, "r2": 0, "w1": 0}
    # The same in the form: the error sits at the slot's radio group, the entered values stay.
    page = client.get(f"/meetings/{meeting_id}")
    slot = re.search(r'name="(round_[0-9T]+)" value="r1"', client.get(f"/meetings/{meeting_id}").text)
    data = {**{k: v for k, v in person(3).items() if k != "privacy_consent"}, "privacy_consent": "yes",
            "csrf_token": page_csrf(page.text)}
    slot_field = re.search(r'name="(round_[0-9T]+)"', page.text).group(1)
    # r1 is disabled in the form; a stale page still posts it.
    r = client.post(f"/meetings/{meeting_id}", data={**data, slot_field: "r1"})
    assert r.status_code == 409 and f'id="{slot_field}-error"' in r.text and "ausgebucht" in r.text
    assert 'value="Muster3"' in r.text
    # The full round is not ticked any more: "Keine Auswahl" is, until the participant chooses again.
    assert "checked" not in re.search(r'<input type="radio"[^>]*value="r1"[^>]*>', r.text).group(0)
    assert "checked" in re.search(rf'<input type="radio" id="{slot_field}-none"[^>]*>', r.text).group(0)
    assert slot is not None


@pytest.mark.parametrize("choice, message", [
    (["r1", "r2"], "je Zeitfenster höchstens eine Runde"),
    (["nope"], "gibt es in diesem Programm nicht"),
    (["w1", "w1"], "nur einmal"),
])
def test_impossible_round_choices_get_a_clear_message_at_the_rounds(client, engine, choice, message):
    meeting_id = publish_meeting(engine)
    publish_agenda(engine, meeting_id, ROUNDS)
    r = client.post(f"/api/meetings/{meeting_id}/registrations", json=person(rounds=choice))
    assert r.status_code == 422 and message in " ".join(r.json["errors"]["rounds"])
    assert seats_taken(engine) == 0


def test_a_waitlisted_participants_rounds_are_wishes_until_promoted(client, engine):
    meeting_id = publish_meeting(engine, capacity=1)
    publish_agenda(engine, meeting_id, ROUNDS)
    holder = confirmed(client, engine, meeting_id, 0, rounds=["r2"])
    waiting = confirmed(client, engine, meeting_id, 1, rounds=["r1"])
    assert events_for(engine, waiting["id"])[-1]["payload"]["rounds"][0]["held"] is False
    client.delete(f"/api/registrations/{manage_link(engine, holder['id'])}")
    promoted = events_for(engine, waiting["id"])[-1]
    assert promoted["type"] == "registration.promoted" and promoted["payload"]["rounds"][0]["held"] is True
    with engine.connect() as conn:
        assert dict(conn.execute(sa.select(rounds.c.item_id, rounds.c.places_taken)).all()) == {
            "r1": 1, "r2": 0, "w1": 0}


def test_changing_rounds_through_the_personal_link_moves_the_place_and_emits_an_update(client, engine):
    meeting_id = publish_meeting(engine)
    publish_agenda(engine, meeting_id, ROUNDS)
    reg = confirmed(client, engine, meeting_id, 0, rounds=["r1"])
    token = manage_link(engine, reg["id"])
    page = client.get(f"/anmeldung/{token}")
    slot_field = re.search(r'name="(round_[0-9T]+)" value="r1"', page.text).group(1)
    r = client.post(f"/anmeldung/{token}", data={slot_field: "r2", "dietary_needs": "vegetarisch",
                                                 "csrf_token": page_csrf(page.text)})
    assert r.status_code == 303
    event = events_for(engine, reg["id"])[-1]
    assert event["type"] == "registration.updated"
    assert [(x["item_id"], x["held"]) for x in event["payload"]["rounds"]] == [("r2", True)]
    with engine.connect() as conn:
        assert dict(conn.execute(sa.select(rounds.c.item_id, rounds.c.places_taken)).all()) == {
            "r1": 0, "r2": 1, "w1": 0}
        assert conn.execute(sa.select(registrations.c.dietary_needs)).scalar() == "vegetarisch"


def test_the_authority_quota_puts_the_fourth_of_one_authority_on_the_waiting_list(client, engine, settings):
    meeting_id = publish_meeting(engine, capacity=10)
    with engine.begin() as tx:
        tx.execute(meetings.update().values(authority_quota=3))
    giessen = [register(client, meeting_id, i, organisation=name) for i, name in enumerate(
        ["Ausländerbehörde Gießen", "ausländerbehörde  gießen", "Ausländerbehörde Gießen ", "AUSLÄNDERBEHÖRDE GIESSEN",
         "Ausländerbehörde Gießen"])]
    kassel = register(client, meeting_id, 9, organisation="Ausländerbehörde Kassel")
    # Case, spacing and ß/SS do not make another authority.
    assert [r["has_place"] for r in giessen] == [True, True, True, False, False]
    assert kassel["has_place"] is True
    # When one of Gießen's three cancels, the first waiting from Gießen gets the place.
    journey.cancel(engine, settings, giessen[0]["id"])
    assert status_of(engine, giessen[3]["id"]) == ("pending", True)
    assert status_of(engine, giessen[4]["id"]) == ("pending", False)


def test_wrong_expired_and_revoked_personal_links_open_nothing(client, engine):
    meeting_id = publish_meeting(engine)
    reg = confirmed(client, engine, meeting_id)
    token = manage_link(engine, reg["id"])
    assert client.get(f"/anmeldung/{token}").status_code == 200
    for i in range(1000):
        guess = secrets.token_urlsafe(32) if i % 2 else token[:-1] + ("A" if token[-1] != "A" else "B")
        assert client.get(f"/api/registrations/{guess}").status_code == 404
    assert client.get("/anmeldung/" + "x" * 500).status_code == 404
    page = client.get(f"/anmeldung/{token}")
    r = client.post(f"/anmeldung/{token}/neuer-link", data={"csrf_token": page_csrf(page.text)})
    assert r.status_code == 200
    assert client.get(f"/anmeldung/{token}").status_code == 404  # revoked
    new_token = manage_link(engine, reg["id"])
    assert new_token != token and client.get(f"/anmeldung/{new_token}").status_code == 200
    with engine.begin() as tx:
        tx.execute(registration_links.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get(f"/anmeldung/{new_token}").status_code == 404
    # Only digests are stored: the token itself is in no column.
    with engine.connect() as conn:
        assert new_token not in str(conn.execute(sa.select(registration_links)).all())


def test_the_personal_link_downloads_the_registration_as_icalendar(client, engine):
    meeting_id = publish_meeting(engine)
    publish_agenda(engine, meeting_id, ROUNDS)
    reg = confirmed(client, engine, meeting_id, rounds=["w1"])
    r = client.get(f"/anmeldung/{manage_link(engine, reg['id'])}/kalender.ics")
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    [event] = Calendar.from_ical(r.data).walk("VEVENT")
    assert str(event["summary"]) == "2. Landesnetzwerktreffen"
    assert "Ludwig-Bergsträßer-Saal" in str(event["location"]) and "Workshop: Aktenführung" in str(event["description"])
    assert str(event["uid"]) == f"meeting-{meeting_id}@treffpunkt"


def test_a_form_posted_twice_by_a_double_click_creates_one_registration(client, engine):
    meeting_id = publish_meeting(engine)
    page = client.get(f"/meetings/{meeting_id}").text
    key = re.search(r'name="submission_key" value="([^"]+)"', page).group(1)
    data = {**{k: v for k, v in person().items() if k != "privacy_consent"}, "privacy_consent": "yes",
            "csrf_token": page_csrf(page), "submission_key": key}
    first, second = client.post(f"/meetings/{meeting_id}", data=data), client.post(f"/meetings/{meeting_id}", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(outbox_events(engine)) == 1 and seats_taken(engine) == 1


def test_floods_from_one_address_are_limited_but_colleagues_behind_one_address_are_not(client, engine, settings):
    meeting_id = publish_meeting(engine, capacity=200)
    # Thirty colleagues of one authority behind one outgoing address register one after another.
    assert all(client.post(f"/api/meetings/{meeting_id}/registrations", json=person(i)).status_code == 201
               for i in range(30))
    # One address hammering with one email is stopped after the per-email limit …
    codes = [client.post(f"/api/meetings/{meeting_id}/registrations", json=person(99)).status_code
             for _ in range(settings.rate_limit_per_email + 2)]
    assert codes[0] == 201 and set(codes[1:settings.rate_limit_per_email]) == {409} and codes[-1] == 429
    # … and a flood of addresses from one client after the per-address limit.
    codes = [client.post(f"/api/meetings/{meeting_id}/registrations", json=person(1000 + i)).status_code
             for i in range(settings.rate_limit_per_address)]
    assert codes[-1] == 429 and 201 in codes


def test_registration_beyond_the_window_is_refused_and_the_late_visitor_is_told(client, engine):
    meeting_id = publish_meeting(engine, registration_closes_at=(utcnow() - timedelta(hours=1)).isoformat())
    r = client.post(f"/api/meetings/{meeting_id}/registrations", json=person())
    assert r.status_code == 409 and r.json["message"] == "Die Anmeldung ist geschlossen."
    assert "Registration is closed." in client.get(f"/meetings/{meeting_id}?lang=en").text


def test_a_larger_capacity_from_the_agenda_gives_the_new_places_to_those_waiting(client, engine, settings):
    import uuid
    from treffpunkt_registration.meetings import make_handler
    from treffpunkt_shared.contracts import MEETING_PUBLISHED, encode, make_envelope, parse_envelope
    meeting_id = publish_meeting(engine, capacity=1)
    confirmed(client, engine, meeting_id, 0)
    waiting = [confirmed(client, engine, meeting_id, i) for i in (1, 2, 3)]
    with engine.connect() as conn:
        row = conn.execute(sa.select(meetings)).first()
    payload = {"meeting_id": meeting_id, "title": row.title, "starts_at": row.starts_at.isoformat(),
               "ends_at": row.ends_at.isoformat(), "venue": {"name": row.venue_name}, "capacity": 3, "revision": 2}
    body = encode(make_envelope(MEETING_PUBLISHED, payload, producer="agenda", message_id=uuid.uuid4()))
    make_handler(engine, settings)(*parse_envelope(body, "application/json"))
    assert [status_of(engine, r["id"]) for r in waiting] == [("confirmed", True), ("confirmed", True),
                                                             ("waitlisted", False)]
    assert seats_taken(engine) == 3


def test_a_cancelled_meeting_cancels_every_registration_once_and_says_why(client, engine, settings):
    import uuid
    from treffpunkt_registration.meetings import make_handler
    from treffpunkt_shared.contracts import MEETING_CANCELLED, encode, make_envelope, parse_envelope
    meeting_id = publish_meeting(engine, capacity=1)
    holder = confirmed(client, engine, meeting_id, 0)
    waiting = confirmed(client, engine, meeting_id, 1)
    pending = register(client, meeting_id, 2)
    with engine.connect() as conn:
        row = conn.execute(sa.select(meetings)).first()
    payload = {"meeting_id": meeting_id, "title": row.title, "starts_at": row.starts_at.isoformat(),
               "ends_at": row.ends_at.isoformat(), "venue": {"name": row.venue_name}, "capacity": 1,
               "revision": 2, "status": "cancelled"}
    envelope = encode(make_envelope(MEETING_CANCELLED, payload, producer="agenda", message_id=uuid.uuid4()))
    handle = make_handler(engine, settings)
    handle(*parse_envelope(envelope, "application/json"))
    # The same state again (a later revision, still cancelled) cancels nobody a second time.
    payload["revision"] = 3
    handle(*parse_envelope(encode(make_envelope(MEETING_CANCELLED, payload, producer="agenda")), "application/json"))
    for reg in (holder, waiting, pending):
        assert status_of(engine, reg["id"]) == ("cancelled", False)
        cancellations = [e for e in events_for(engine, reg["id"]) if e["type"] == "registration.cancelled"]
        assert len(cancellations) == 1 and cancellations[0]["payload"]["cancelled_by"] == "meeting_cancelled"
    assert seats_taken(engine) == 0


@pytest.mark.parametrize("capacity, with_round", [(5, False), (1, False), (5, True), (1, True)])
def test_the_state_a_registration_returns_and_emits_is_what_reading_it_back_gives(settings, engine, capacity,
                                                                                  with_round):
    # register() builds the new registration's state from the values it wrote instead of reading it back.
    meeting_id = publish_meeting(engine, capacity=capacity)
    publish_agenda(engine, meeting_id, [round_item("r1", "Runde 1", 1, 2, capacity=10)])
    journey.register(engine, settings, meeting_id, person(99))  # someone ahead: with one place, a waiting list
    data = person(1, photo_consent=True, rounds=["r1"] if with_round else [])
    built = journey.register(engine, settings, meeting_id, data, submission_key=secrets.token_hex(8))
    with engine.connect() as conn:
        read_back = journey.registration_state(conn, built["id"])
    assert built == read_back
    event = events_for(engine, built["id"])[-1]["payload"]
    assert event["waitlist_position"] == (None if capacity > 1 else 1)
    assert built["has_place"] is (capacity > 1)
    assert [r["item_id"] for r in event["rounds"]] == (["r1"] if with_round else [])
