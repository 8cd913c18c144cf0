"""The organisers' participant list: search, filters, counts per authority and round, the waiting list."""
from __future__ import annotations

import re
import uuid

from registration_testing import (bearer, organiser, publish_agenda, publish_meeting, registered, round_item,
                                  sign_in_browser)


def _meeting_with_people(engine, settings):
    meeting_id = publish_meeting(engine, capacity=3)
    publish_agenda(engine, meeting_id, [round_item("r1", "Identitätsklärung", 1, 2, capacity=2),
                                        round_item("r2", "Wissensmanagement", 1, 2)])
    ids = {
        "anna": registered(engine, settings, meeting_id, 1, first_name="Anna", last_name="Becker",
                           organisation="Ausländerbehörde Gießen", rounds=["r1"]),
        "bernd": registered(engine, settings, meeting_id, 2, first_name="Bernd", last_name="Schäfer",
                            organisation="ausländerbehörde  gießen", rounds=["r2"]),
        "carla": registered(engine, settings, meeting_id, 3, first_name="Carla", last_name="Yilmaz",
                            organisation="BAMF", email="c.yilmaz@bamf.example", confirm=False, rounds=["r1"]),
        # the meeting is full now: these wait, in this order
        "dieter": registered(engine, settings, meeting_id, 4, first_name="Dieter", last_name="Adler",
                             organisation="Regierungspräsidium Darmstadt", rounds=["r1"]),
        "erika": registered(engine, settings, meeting_id, 5, first_name="Erika", last_name="Zander",
                            organisation="BAMF", confirm=False),
    }
    return meeting_id, ids


def _names(response) -> list[str]:
    assert response.status_code == 200, response.json
    return [r["first_name"] for r in response.json["registrations"]]


def test_the_list_finds_participants_by_name_email_and_authority_and_filters_by_status_authority_and_round(
        client, engine, settings):
    meeting_id, ids = _meeting_with_people(engine, settings)
    headers = bearer(organiser(meeting_id))
    url = f"/api/organiser/meetings/{meeting_id}/registrations"
    assert _names(client.get(url, headers=headers)) == ["Dieter", "Anna", "Bernd", "Carla", "Erika"]
    assert _names(client.get(url, query_string={"q": "schäf"}, headers=headers)) == ["Bernd"]
    assert _names(client.get(url, query_string={"q": "bamf.example"}, headers=headers)) == ["Carla"]
    assert _names(client.get(url, query_string={"q": "gießen"}, headers=headers)) == ["Anna", "Bernd"]
    assert _names(client.get(url, query_string={"q": "anna gießen"}, headers=headers)) == ["Anna"]
    assert _names(client.get(url, query_string={"q": "%"}, headers=headers)) == []
    assert _names(client.get(url, query_string={"status": "confirmed"}, headers=headers)) == ["Anna", "Bernd"]
    assert _names(client.get(url, query_string={"status": "waitlisted"}, headers=headers)) == ["Dieter"]
    assert _names(client.get(url, query_string={"authority": "ausländerbehörde giessen"},
                             headers=headers)) == ["Anna", "Bernd"]
    assert _names(client.get(url, query_string={"round": "r1"}, headers=headers)) == ["Dieter", "Anna", "Carla"]
    assert _names(client.get(url, query_string={"round": "r1", "status": "pending"}, headers=headers)) == ["Carla"]
    dieter = next(r for r in client.get(url, headers=headers).json["registrations"] if r["id"] == ids["dieter"])
    assert dieter["waitlist_position"] == 1 and dieter["possible_actions"] == ["promote", "cancel"]
    assert dieter["rounds"] == [{"item_id": "r1", "title": "Identitätsklärung", "held": False}]


def test_counts_per_authority_and_per_round_and_the_waiting_list_in_order(client, engine, settings):
    meeting_id, ids = _meeting_with_people(engine, settings)
    headers = bearer(organiser(meeting_id))
    body = client.get(f"/api/organiser/meetings/{meeting_id}/registrations", headers=headers).json
    by_authority = {a["authority_key"]: a for a in body["counts"]["authorities"]}
    assert by_authority["ausländerbehörde giessen"] | {"name": None} == {
        "authority_key": "ausländerbehörde giessen", "name": None, "confirmed": 2, "pending": 0, "waitlisted": 0,
        "places": 2, "total": 2}
    assert (by_authority["bamf"]["pending"], by_authority["bamf"]["waitlisted"], by_authority["bamf"]["places"]) \
        == (1, 1, 1)
    assert by_authority["regierungspräsidium darmstadt"]["waitlisted"] == 1
    rounds = {r["item_id"]: r for r in body["counts"]["rounds"]}
    assert (rounds["r1"]["capacity"], rounds["r1"]["held"], rounds["r1"]["wishes"]) == (2, 2, 1)
    assert (rounds["r2"]["held"], rounds["r2"]["wishes"]) == (1, 0)
    waiting = client.get(f"/api/organiser/meetings/{meeting_id}/waitlist", headers=headers).json["waitlist"]
    assert [(w["first_name"], w["waitlist_position"], w["status"]) for w in waiting] == [
        ("Dieter", 1, "waitlisted"), ("Erika", 2, "pending")]


def test_bad_filters_get_422_with_a_message_per_field_in_english_when_asked(client, engine, settings):
    meeting_id = publish_meeting(engine)
    headers = bearer(organiser(meeting_id))
    url = f"/api/organiser/meetings/{meeting_id}/registrations"
    r = client.get(url, query_string={"status": "gelöscht", "q": "x" * 101}, headers=headers)
    assert r.status_code == 422
    assert r.json["errors"] == {"status": ["Diesen Status gibt es nicht."], "q": ["Bitte höchstens 100 Zeichen eingeben."]}
    r = client.get(url, query_string={"status": "nope"}, headers={**headers, "Accept-Language": "en"})
    assert r.json["errors"] == {"status": ["There is no such status."]}


def test_an_unassigned_organiser_gets_403_and_an_anonymous_caller_401_or_the_sign_in_page(client, engine, settings):
    meeting_id, _ = _meeting_with_people(engine, settings)
    other = organiser(str(uuid.uuid4()))
    r = client.get(f"/api/organiser/meetings/{meeting_id}/registrations", headers=bearer(other))
    assert r.status_code == 403 and "Anna" not in r.text
    assert client.get(f"/organiser/meetings/{meeting_id}", headers=bearer(other)).status_code == 403
    assert client.get(f"/api/organiser/meetings/{meeting_id}/registrations").status_code == 401
    page = client.get(f"/organiser/meetings/{meeting_id}")
    assert page.status_code == 303 and "/anmelden" in page.headers["Location"]
    # The list of meetings shows each organiser only their own.
    assert client.get("/api/organiser/meetings", headers=bearer(other)).json == {"meetings": []}
    mine = client.get("/api/organiser/meetings", headers=bearer(organiser(meeting_id))).json["meetings"]
    assert [m["id"] for m in mine] == [meeting_id]


def test_the_list_page_is_german_with_english_on_request_with_table_headers_and_escaped_names(
        client, engine, settings):
    meeting_id, _ = _meeting_with_people(engine, settings)
    registered(engine, settings, meeting_id, 9, first_name="<script>alert(1)</script>", last_name="Evil")
    sign_in_browser(client, organiser(meeting_id))
    page = client.get(f"/organiser/meetings/{meeting_id}")
    assert page.status_code == 200
    assert '<html lang="de">' in page.text and "Teilnehmende" in page.text and "Warteliste" in page.text
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
    assert 'th scope="col"' in page.text and 'th scope="row"' in page.text
    assert re.search(r'<label for="q">', page.text) and 'id="q"' in page.text
    assert page.headers["Cache-Control"] == "no-store"
    english = client.get(f"/organiser/meetings/{meeting_id}?lang=en")
    assert '<html lang="en">' in english.text and "Participants" in english.text and "waiting list" in english.text
    filtered = client.get(f"/organiser/meetings/{meeting_id}", query_string={"status": "bogus", "lang": "de"})
    assert filtered.status_code == 200 and 'aria-describedby="status-error"' in filtered.text
