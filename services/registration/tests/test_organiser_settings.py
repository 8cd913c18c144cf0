"""The registration settings organisers own (per-authority quota, time to confirm) and their list of
authorities."""
from __future__ import annotations

import sqlalchemy as sa

from registration_testing import (bearer, event_types, organiser, page_csrf, publish_meeting, registered,
                                  sign_in_browser)
from treffpunkt_registration import registrations as journey
from treffpunkt_registration.models import registrations


def _status(engine, registration_id):
    with engine.connect() as conn:
        return conn.execute(sa.select(registrations.c.status, registrations.c.has_place)
                            .where(registrations.c.id == registration_id)).first()


def test_raising_the_quota_gives_waiting_people_of_that_authority_their_places_at_once(client, engine, settings):
    meeting_id = publish_meeting(engine, capacity=10)
    headers = bearer(organiser(meeting_id))
    url = f"/api/organiser/meetings/{meeting_id}/settings"
    assert client.patch(url, json={"authority_quota": 1}, headers=headers).json["places_given"] == 0
    giessen = [registered(engine, settings, meeting_id, i) for i in range(3)]
    bamf = registered(engine, settings, meeting_id, 9, organisation="BAMF")
    assert [tuple(_status(engine, r)) for r in giessen] == [("confirmed", True), ("waitlisted", False),
                                                            ("waitlisted", False)]
    assert tuple(_status(engine, bamf)) == ("confirmed", True)
    raised = client.patch(url, json={"authority_quota": 2}, headers=headers)
    assert raised.status_code == 200 and raised.json == {"authority_quota": 2, "confirmation_hours": 48,
                                                         "places_given": 1}
    assert tuple(_status(engine, giessen[1])) == ("confirmed", True)  # the first in line, in the same step
    assert event_types(engine, giessen[1])[-1] == "registration.promoted"
    assert tuple(_status(engine, giessen[2])) == ("waitlisted", False)
    removed = client.patch(url, json={"authority_quota": None}, headers=headers)
    assert removed.json["places_given"] == 1 and tuple(_status(engine, giessen[2])) == ("confirmed", True)


def test_lowering_the_quota_takes_no_place_away_but_gives_none_beyond_it(client, engine, settings):
    meeting_id = publish_meeting(engine, capacity=10)
    holders = [registered(engine, settings, meeting_id, i) for i in range(3)]
    headers = bearer(organiser(meeting_id))
    assert client.patch(f"/api/organiser/meetings/{meeting_id}/settings", json={"authority_quota": 1},
                        headers=headers).status_code == 200
    assert all(tuple(_status(engine, r)) == ("confirmed", True) for r in holders)
    late = registered(engine, settings, meeting_id, 7)
    assert tuple(_status(engine, late)) == ("waitlisted", False)


def test_a_new_confirmation_time_applies_to_new_registrations(client, engine, settings):
    meeting_id = publish_meeting(engine)
    assert client.patch(f"/api/organiser/meetings/{meeting_id}/settings", json={"confirmation_hours": 6},
                        headers=bearer(organiser(meeting_id))).status_code == 200
    state = journey.register(engine, settings, meeting_id, {
        "first_name": "Erika", "last_name": "Muster", "email": "e@example.org", "organisation": "BAMF"})
    hours = (state["confirm_by"] - state["created_at"]).total_seconds() / 3600
    assert abs(hours - 6) < 0.01


def test_bad_settings_get_422_with_a_message_per_field(client, engine, settings):
    meeting_id = publish_meeting(engine)
    headers = bearer(organiser(meeting_id))
    url = f"/api/organiser/meetings/{meeting_id}/settings"
    r = client.patch(url, json={"authority_quota": "3", "confirmation_hours": 0, "capacity": 500}, headers=headers)
    assert r.status_code == 422 and set(r.json["errors"]) == {"authority_quota", "confirmation_hours", "capacity"}
    r = client.patch(url, json={"authority_quota": True, "confirmation_hours": 10_000},
                     headers={**headers, "Accept-Language": "en"})
    assert r.json["errors"]["confirmation_hours"] == ["Please enter a whole number from 1 to 720 (hours)."]
    assert r.json["errors"]["authority_quota"][0].startswith("Please enter a whole number from 1 to 1000")
    assert client.get(url, headers=headers).json == {"authority_quota": None, "confirmation_hours": 48}


def test_the_settings_form_saves_and_shows_errors_at_their_fields_keeping_the_values(client, engine, settings):
    meeting_id = publish_meeting(engine)
    sign_in_browser(client, organiser(meeting_id))
    url = f"/organiser/meetings/{meeting_id}/settings"
    form = client.get(url)
    assert form.status_code == 200 and '<label for="authority_quota">' in form.text
    token = page_csrf(form.text)
    bad = client.post(url, data={"csrf_token": token, "authority_quota": "drei", "confirmation_hours": "48"})
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text and 'id="authority_quota-error"' in bad.text
    assert 'value="drei"' in bad.text and "authority_quota-hint authority_quota-error" in bad.text
    assert client.post(url, data={"authority_quota": "3", "confirmation_hours": "24"}).status_code == 400  # no CSRF
    saved = client.post(url, data={"csrf_token": token, "authority_quota": "3", "confirmation_hours": "24"})
    assert saved.status_code == 303
    page = client.get(saved.headers["Location"])
    assert "Die Einstellungen sind gespeichert." in page.text and 'value="3"' in page.text
    english = client.get(url + "?lang=en")
    assert "At most this many places per authority" in english.text


def test_organisers_add_and_remove_authorities_and_the_registration_form_offers_them(client, engine, settings):
    meeting_id = publish_meeting(engine)
    sign_in_browser(client, organiser("some-other-meeting"))
    page = client.get("/organiser/authorities")
    assert page.status_code == 200
    token = page_csrf(page.text)
    added = client.post("/organiser/authorities", data={"csrf_token": token, "name": "  Ausländerbehörde   Kassel "})
    assert added.status_code == 303
    twice = client.post("/organiser/authorities", data={"csrf_token": token, "name": "ausländerbehörde kassel"})
    assert twice.status_code == 422 and "Diese Behörde steht schon in der Liste." in twice.text
    assert 'id="name-error"' in twice.text
    empty = client.post("/organiser/authorities", data={"csrf_token": token, "name": " "})
    assert empty.status_code == 422 and "Bitte geben Sie den Namen der Behörde an." in empty.text
    assert "Ausländerbehörde Kassel" in client.get(f"/meetings/{meeting_id}").text
    listing = client.get("/organiser/authorities").text
    import re
    remove_url = re.search(r'action="(/organiser/authorities/\d+/remove[^"]*)"', listing).group(1)
    assert client.post(remove_url.replace("&amp;", "&"), data={}).status_code == 400  # no CSRF
    assert client.post(remove_url.replace("&amp;", "&"), data={"csrf_token": token}).status_code == 303
    assert "Ausländerbehörde Kassel" not in client.get(f"/meetings/{meeting_id}").text
