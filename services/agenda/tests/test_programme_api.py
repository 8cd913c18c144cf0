"""The programme through the organiser API, on PostgreSQL, with the events checked on the real broker."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import icalendar
import pytest

from treffpunkt_agenda.models import outbox
from treffpunkt_shared.contracts import parse_envelope
from treffpunkt_shared.messaging.relay import OutboxRelay
from treffpunkt_shared.messaging.topology import topology_for

TWO_DAYS = {
    "title": "3. Landesnetzwerktreffen", "series": "Landesnetzwerktreffen", "number": 3,
    "host": "Ausländerbehörde Gießen", "theme": "Identitätsklärung", "capacity": 80,
    "venue": {"name": "Regierungspräsidium Gießen", "address": "Landgraf-Philipp-Platz 1-7, 35390 Gießen"},
    "days": [{"date": "2016-09-15", "starts": "10:00", "ends": "17:00"},
             {"date": "2016-09-16", "starts": "09:00", "ends": "13:00"}],
    "rooms": [{"name": "Plenarsaal", "capacity": 100}, {"name": "Raum A", "capacity": 20},
              {"name": "Raum B", "capacity": 20}],
}


class Organiser:
    """The organiser's actions, so tests read like what an organiser does."""

    def __init__(self, client, auth):
        self.client, self.auth = client, auth

    def call(self, method: str, path: str, expect: int | None = None, **kwargs):
        r = getattr(self.client, method)(path, headers=self.auth, **kwargs)
        if expect is not None:
            assert r.status_code == expect, (r.status_code, r.get_json(silent=True) or r.data[:500])
        return r

    def meeting(self, **overrides) -> dict:
        return self.call("post", "/api/meetings", 201, json={**TWO_DAYS, **overrides}).json

    def room(self, meeting: dict, name: str) -> str:
        return next(r["room_id"] for r in meeting["rooms"] if r["name"] == name)

    def item(self, meeting: dict, expect: int = 201, **fields) -> dict:
        return self.call("post", f"/api/meetings/{meeting['id']}/items", expect, json=fields).json

    def change(self, meeting: dict, item: dict, expect: int = 200, **fields):
        return self.call("patch", f"/api/meetings/{meeting['id']}/items/{item['item_id']}", expect, json=fields)

    def publish(self, meeting: dict) -> None:
        self.call("post", f"/api/meetings/{meeting['id']}/publish", 200)
        self.call("post", f"/api/meetings/{meeting['id']}/agenda/publish", 200)


@pytest.fixture
def organiser(app, auth):
    """An administrator using the API with a bearer token (``auth`` comes from conftest.py)."""
    return Organiser(app.test_client(), auth)


@pytest.fixture
def relay(engine, settings):
    relay = OutboxRelay(engine, outbox, settings.amqp_url, topology_for(settings))
    yield relay
    relay._drop_connection()


def events(broker, relay, probe) -> list:
    """Publish what the outbox holds and read it back from the broker, checked against its contract."""
    relay.publish_pending()
    out = []
    for method, props, body in broker.drain(probe):
        envelope, contract, payload = parse_envelope(body, props.content_type)
        out.append((method.routing_key, json.loads(body)["payload"]))
    return out


def sample_programme(org: Organiser, meeting: dict) -> dict:
    """Day one: welcome, a talk, two parallel discussion rounds; day two: closing."""
    plenary, a, b = (org.room(meeting, n) for n in ("Plenarsaal", "Raum A", "Raum B"))
    items = {
        "welcome": org.item(meeting, kind="welcome", title="Begrüßung", starts_at="2016-09-15T10:00",
                            ends_at="2016-09-15T10:30", room_id=plenary,
                            speakers=[{"name": "Dr. Anna Schmidt", "function": "Referatsleiterin",
                                       "authority": "HMSI"}]),
        "talk": org.item(meeting, kind="talk", title="Wissensmanagement in der ABH", starts_at="2016-09-15T10:30",
                         ends_at="2016-09-15T11:30", room_id=plenary,
                         speakers=[{"name": "Jens Weber", "authority": "ABH Darmstadt"}]),
        "round_a": org.item(meeting, kind="discussion_round", title="Ungeklärte Identität",
                            starts_at="2016-09-15T13:00", ends_at="2016-09-15T14:30", room_id=a, capacity=20,
                            moderators=[{"name": "Petra Klein", "authority": "RP Gießen"}],
                            guiding_questions=["Welche Verfahrensweisen gibt es bei ungeklärter Identität?",
                                               "Welche Dokumente werden anerkannt?"]),
        "round_b": org.item(meeting, kind="discussion_round", title="Beschäftigungsduldung",
                            starts_at="2016-09-15T13:00", ends_at="2016-09-15T14:30", room_id=b, capacity=15,
                            moderators=[{"name": "Mehmet Yilmaz", "authority": "ABH Kassel"}],
                            guiding_questions=["Wie wird die Beschäftigung nachgewiesen?"]),
        "closing": org.item(meeting, kind="closing", title="Abschluss", starts_at="2016-09-16T12:00",
                            ends_at="2016-09-16T13:00", room_id=plenary),
    }
    return items


def test_a_two_day_meeting_keeps_its_days_and_rooms_with_local_times_in_berlin(organiser):
    meeting = organiser.meeting()
    assert [d["date"] for d in meeting["days"]] == ["2016-09-15", "2016-09-16"]
    assert meeting["days"][0]["starts_at"] == "2016-09-15T08:00:00+00:00"
    assert meeting["starts_at"] == "2016-09-15T08:00:00+00:00" and meeting["ends_at"] == "2016-09-16T11:00:00+00:00"
    assert [(r["name"], r["capacity"]) for r in meeting["rooms"]] == [
        ("Plenarsaal", 100), ("Raum A", 20), ("Raum B", 20)]


def test_an_item_ending_before_it_starts_or_in_an_unknown_room_is_refused_per_field_and_nothing_is_saved(organiser):
    meeting = organiser.meeting()
    r = organiser.item(meeting, 422, kind="talk", title="Vortrag", starts_at="2016-09-15T11:00",
                       ends_at="2016-09-15T10:00")
    assert "ends_at" in r["errors"]
    r = organiser.item(meeting, 422, kind="talk", title="Vortrag", starts_at="2016-09-15T10:00",
                       ends_at="2016-09-15T11:00", room_id="00000000-0000-0000-0000-000000000000")
    assert "room_id" in r["errors"]
    r = organiser.item(meeting, 422, kind="lecture", title="", starts_at="gestern", ends_at="2016-09-15T11:00",
                       capacity=-1)
    assert {"kind", "title", "starts_at", "capacity"} <= set(r["errors"])
    r = organiser.item(meeting, 422, kind="talk", title="Vortrag", starts_at="2016-09-15T10:00",
                       ends_at="2016-09-15T11:00", guiding_questions=["Nur für Runden?"])
    assert "guiding_questions" in r["errors"]
    assert organiser.call("get", f"/api/meetings/{meeting['id']}/agenda", 200).json["items"] == []


def test_double_booked_rooms_and_people_items_outside_the_days_and_oversized_rounds_are_reported(organiser):
    meeting = organiser.meeting()
    a = organiser.room(meeting, "Raum A")
    organiser.item(meeting, kind="discussion_round", title="Runde 1", starts_at="2016-09-15T13:00",
                   ends_at="2016-09-15T14:00", room_id=a, capacity=30,
                   moderators=[{"name": "Petra Klein"}], guiding_questions=["Frage?"])
    second = organiser.item(meeting, kind="workshop", title="Workshop 2", starts_at="2016-09-15T13:30",
                            ends_at="2016-09-15T15:00", room_id=a, moderators=[{"name": "petra  klein"}])
    organiser.item(meeting, kind="talk", title="Am Abend", starts_at="2016-09-15T18:00", ends_at="2016-09-15T19:00")
    codes = {p["code"] for p in second["problems"]}
    assert {"room_double_booked", "person_in_two_places", "round_without_questions"} <= codes
    agenda = organiser.call("get", f"/api/meetings/{meeting['id']}/agenda", 200).json
    all_codes = sorted(p["code"] for p in agenda["problems"])
    assert all_codes == ["outside_meeting_days", "person_in_two_places", "room_double_booked",
                         "round_larger_than_room", "round_without_questions"]
    assert all(p["message_de"] and p["message_en"] for p in agenda["problems"])


def test_publishing_an_agenda_with_problems_is_refused_with_the_list_and_nothing_is_published(
        organiser, broker, relay, settings):
    probe = broker.probe(settings.namespace, "agenda.*")
    meeting = organiser.meeting()
    a = organiser.room(meeting, "Raum A")
    for title in ("Eins", "Zwei"):
        organiser.item(meeting, kind="talk", title=title, starts_at="2016-09-15T10:00",
                       ends_at="2016-09-15T11:00", room_id=a)
    organiser.call("post", f"/api/meetings/{meeting['id']}/publish", 200)
    r = organiser.call("post", f"/api/meetings/{meeting['id']}/agenda/publish", 409)
    assert [p["code"] for p in r.json["problems"]] == ["room_double_booked"]
    assert organiser.call("get", f"/api/meetings/{meeting['id']}", 200).json["agenda_status"] == "draft"
    assert events(broker, relay, probe) == []


def test_an_agenda_cannot_be_published_before_its_meeting(organiser):
    meeting = organiser.meeting()
    sample_programme(organiser, meeting)
    r = organiser.call("post", f"/api/meetings/{meeting['id']}/agenda/publish", 409)
    assert "Treffen" in r.json["message"]


def test_publishing_the_agenda_puts_agenda_published_with_every_item_on_the_broker(
        organiser, broker, relay, settings):
    probe = broker.probe(settings.namespace, "#")
    meeting = organiser.meeting()
    items = sample_programme(organiser, meeting)
    organiser.publish(meeting)
    # (organiser.access_changed, for the creator's assignment to the new meeting, is not the point here)
    published = [(key, payload) for key, payload in events(broker, relay, probe) if not key.startswith("organiser.")]
    assert [key for key, _ in published] == ["meeting.published", "agenda.published"]
    meeting_state, agenda = published[0][1], published[1][1]
    assert meeting_state["status"] == "published" and len(meeting_state["days"]) == 2
    assert [r["name"] for r in meeting_state["rooms"]] == ["Plenarsaal", "Raum A", "Raum B"]
    assert agenda["agenda"]["revision"] == 1
    assert [i["title"] for i in agenda["agenda"]["items"]] == [
        "Begrüßung", "Wissensmanagement in der ABH", "Ungeklärte Identität", "Beschäftigungsduldung", "Abschluss"]
    round_a = next(i for i in agenda["agenda"]["items"] if i["item_id"] == items["round_a"]["item_id"])
    assert round_a["room"] == "Raum A" and round_a["capacity"] == 20
    assert round_a["guiding_questions"][0] == "Welche Verfahrensweisen gibt es bei ungeklärter Identität?"
    assert round_a["moderators"] == [{"name": "Petra Klein", "function": "", "authority": "RP Gießen"}]


def test_each_change_to_a_published_agenda_emits_agenda_changed_with_a_precise_diff(
        organiser, broker, relay, settings):
    meeting = organiser.meeting()
    items = sample_programme(organiser, meeting)
    organiser.publish(meeting)
    probe = broker.probe(settings.namespace, "agenda.changed")
    relay.publish_pending()
    mid = meeting["id"]

    # a move
    organiser.change(meeting, items["talk"], starts_at="2016-09-15T11:00", ends_at="2016-09-15T12:00")
    # a room change
    organiser.change(meeting, items["round_b"], room_id=organiser.room(meeting, "Plenarsaal"))
    # a speaker replaced
    organiser.change(meeting, items["welcome"], speakers=[{"name": "Staatssekretär Jo Beispiel", "authority": "HMSI"}])
    # a cancellation
    organiser.call("post", f"/api/meetings/{mid}/items/{items['closing']['item_id']}/cancel", 200)
    # an addition
    lunch = organiser.item(meeting, kind="lunch", title="Mittagessen", starts_at="2016-09-15T12:00",
                           ends_at="2016-09-15T13:00")
    # a removal
    organiser.call("delete", f"/api/meetings/{mid}/items/{lunch['item_id']}", 204)
    # no change at all: no event
    organiser.change(meeting, items["round_a"], title="Ungeklärte Identität")

    changed = [payload for _, payload in events(broker, relay, probe)]
    assert [c["revision"] for c in changed] == [2, 3, 4, 5, 6, 7]
    assert [c["previous_revision"] for c in changed] == [1, 2, 3, 4, 5, 6]
    (move,), (room,), (speaker,), (cancel,), (added,), (removed,) = (c["changes"] for c in changed)
    assert move["change"] == "updated" and move["item_id"] == items["talk"]["item_id"]
    assert move["moved"] == {"from": {"starts_at": "2016-09-15T08:30:00+00:00", "ends_at": "2016-09-15T09:30:00+00:00"},
                             "to": {"starts_at": "2016-09-15T09:00:00+00:00", "ends_at": "2016-09-15T10:00:00+00:00"}}
    assert move["room"] is None and changed[0]["times_changed"] is True
    assert room["room"] == {"from": "Raum B", "to": "Plenarsaal"} and room["moved"] is None
    assert speaker["speakers_added"] == [{"name": "Staatssekretär Jo Beispiel", "function": "", "authority": "HMSI"}]
    assert speaker["speakers_removed"][0]["name"] == "Dr. Anna Schmidt" and changed[2]["times_changed"] is False
    assert cancel["change"] == "cancelled" and cancel["item"]["status"] == "cancelled"
    assert added["change"] == "added" and added["item"]["title"] == "Mittagessen"
    assert removed["change"] == "removed" and removed["item_id"] == lunch["item_id"]
    # Every event carries the whole agenda after the edit, so notify can group a burst of them.
    assert len(changed[-1]["agenda"]["items"]) == 5
    assert all(c["meeting"]["meeting_id"] == mid for c in changed)


def test_a_change_that_would_make_a_published_agenda_wrong_is_refused_and_nothing_changes(
        organiser, broker, relay, settings):
    meeting = organiser.meeting()
    items = sample_programme(organiser, meeting)
    organiser.publish(meeting)
    probe = broker.probe(settings.namespace, "agenda.changed")
    relay.publish_pending()
    r = organiser.change(meeting, items["round_b"], 409, room_id=organiser.room(meeting, "Raum A"))
    assert [p["code"] for p in r.json["problems"]] == ["room_double_booked"]
    after = organiser.call("get", f"/api/meetings/{meeting['id']}/items/{items['round_b']['item_id']}", 200).json
    assert after["room"] == "Raum B"
    # shortening the meeting's second day would leave the closing outside it
    r = organiser.call("patch", f"/api/meetings/{meeting['id']}", 409,
                       json={"days": [TWO_DAYS["days"][0], {"date": "2016-09-16", "starts": "09:00", "ends": "11:00"}]})
    assert [p["code"] for p in r.json["problems"]] == ["outside_meeting_days"]
    assert organiser.call("get", f"/api/meetings/{meeting['id']}", 200).json["days"][1]["ends_at"] == \
        "2016-09-16T11:00:00+00:00"
    assert events(broker, relay, probe) == []


def test_round_results_are_published_after_the_round_with_their_event(organiser, broker, relay, settings):
    meeting = organiser.meeting()
    items = sample_programme(organiser, meeting)
    organiser.publish(meeting)
    probe = broker.probe(settings.namespace, "round.*")
    mid, rid = meeting["id"], items["round_a"]["item_id"]
    organiser.call("post", f"/api/meetings/{mid}/items/{rid}/result/publish", 422)  # no result written yet
    organiser.call("put", f"/api/meetings/{mid}/items/{rid}/result", 200,
                   json={"result": "Die Runde empfiehlt einen gemeinsamen Leitfaden."})
    organiser.call("put", f"/api/meetings/{mid}/items/{items['talk']['item_id']}/result", 409,
                   json={"result": "Vorträge haben keine Ergebnisse."})
    r = organiser.call("post", f"/api/meetings/{mid}/items/{rid}/result/publish", 200)
    assert r.json["result_published_at"]
    ((key, payload),) = events(broker, relay, probe)
    assert key == "round.results_published" and payload["result"].startswith("Die Runde empfiehlt")
    assert payload["round"]["guiding_questions"][1] == "Welche Dokumente werden anerkannt?"
    page = organiser.client.get(f"/meetings/{mid}").get_data(as_text=True)
    assert "Die Runde empfiehlt einen gemeinsamen Leitfaden." in page


def test_results_of_a_round_still_to_come_cannot_be_published(organiser):
    soon = datetime.now(timezone.utc) + timedelta(days=30)
    meeting = organiser.meeting(days=None, starts_at=soon.isoformat(), ends_at=(soon + timedelta(hours=6)).isoformat(),
                                rooms=[{"name": "Saal"}])
    item = organiser.item(meeting, kind="workshop", title="Workshop", starts_at=(soon + timedelta(hours=1)).isoformat(),
                          ends_at=(soon + timedelta(hours=2)).isoformat())
    organiser.call("put", f"/api/meetings/{meeting['id']}/items/{item['item_id']}/result", 200, json={"result": "x"})
    organiser.call("post", f"/api/meetings/{meeting['id']}/publish", 200)
    r = organiser.call("post", f"/api/meetings/{meeting['id']}/items/{item['item_id']}/result/publish", 409)
    assert "nach der Runde" in r.json["message"]


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_documents_of_the_wrong_type_or_too_large_are_refused_and_a_pdf_is_served_as_a_download(organiser):
    meeting = organiser.meeting()
    items = sample_programme(organiser, meeting)
    url = f"/api/meetings/{meeting['id']}/items/{items['talk']['item_id']}/documents"

    def upload(name, data, expect):
        import io
        return organiser.call("post", url, expect, data={"kind": "slides", "file": (io.BytesIO(data), name)},
                              content_type="multipart/form-data")

    assert "file" in upload("folien.exe", b"MZ\x90\x00", 422).json["errors"]
    assert "file" in upload("folien.pdf", b"<script>alert(1)</script>", 422).json["errors"]
    assert upload("riesig.pdf", PDF + b"0" * (11 * 1024 * 1024), 413).json["error"]
    doc = upload("../../Folien Wissensmanagement ä.pdf", PDF, 201).json
    assert doc["filename"] == "Folien Wissensmanagement ae.pdf" and doc["content_type"] == "application/pdf"
    assert organiser.client.get(f"/meetings/{meeting['id']}/documents/{doc['document_id']}").status_code == 404
    organiser.publish(meeting)
    r = organiser.client.get(f"/meetings/{meeting['id']}/documents/{doc['document_id']}")
    assert r.status_code == 200 and r.data == PDF
    assert r.headers["Content-Disposition"].startswith("attachment;")
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_html_typed_into_text_fields_is_shown_escaped_on_the_public_page(organiser):
    meeting = organiser.meeting(title="<script>alert('t')</script> Treffen")
    organiser.item(meeting, kind="talk", title="<img src=x onerror=alert(1)>", starts_at="2016-09-15T10:00",
                   ends_at="2016-09-15T11:00", speakers=[{"name": "<b>Fett</b>"}])
    organiser.publish(meeting)
    page = organiser.client.get(f"/meetings/{meeting['id']}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>Fett</b>" not in page


def test_drafts_are_invisible_to_the_public(organiser):
    meeting = organiser.meeting()
    sample_programme(organiser, meeting)
    for path in ("", "/agenda.json", "/agenda.ics"):
        assert organiser.client.get(f"/meetings/{meeting['id']}{path}").status_code == 404
    organiser.call("post", f"/api/meetings/{meeting['id']}/publish", 200)
    page = organiser.client.get(f"/meetings/{meeting['id']}").get_data(as_text=True)
    assert "Das Programm wird noch erstellt." in page and "Ungeklärte Identität" not in page


def test_the_public_page_shows_both_days_and_parallel_rounds_in_german_and_english(organiser):
    meeting = organiser.meeting()
    sample_programme(organiser, meeting)
    organiser.publish(meeting)
    page = organiser.client.get(f"/meetings/{meeting['id']}").get_data(as_text=True)
    assert "Donnerstag, 15. September 2016" in page and "Freitag, 16. September 2016" in page
    assert page.count('class="slot-parallel"') == 2 and "Leitfragen" in page
    english = organiser.client.get(f"/meetings/{meeting['id']}?lang=en").get_data(as_text=True)
    assert "Thursday, 15 September 2016" in english and "Guiding questions" in english and 'lang="en"' in english


def test_the_agenda_as_icalendar_parses_and_round_trips_with_berlin_times_and_rooms(organiser):
    meeting = organiser.meeting()
    items = sample_programme(organiser, meeting)
    organiser.publish(meeting)
    organiser.call("post", f"/api/meetings/{meeting['id']}/items/{items['closing']['item_id']}/cancel", 200)
    r = organiser.client.get(f"/meetings/{meeting['id']}/agenda.ics")
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(r.data)
    assert cal.to_ical() == icalendar.Calendar.from_ical(cal.to_ical()).to_ical()  # round trip
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    vevents = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert len(vevents) == 5
    round_a = vevents[f"{items['round_a']['item_id']}@treffpunkt"]
    start = round_a.decoded("DTSTART")
    assert start == datetime(2016, 9, 15, 11, 0, tzinfo=timezone.utc)
    assert str(start.tzinfo) == "Europe/Berlin" and round_a["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert str(round_a["LOCATION"]).startswith("Raum A, Regierungspräsidium Gießen")
    assert "Welche Verfahrensweisen" in str(round_a["DESCRIPTION"])
    assert str(vevents[f"{items['closing']['item_id']}@treffpunkt"]["STATUS"]) == "CANCELLED"
    assert int(round_a["SEQUENCE"]) == 2


def test_the_agenda_as_json_carries_the_meeting_and_items(organiser):
    meeting = organiser.meeting()
    sample_programme(organiser, meeting)
    organiser.publish(meeting)
    data = organiser.client.get(f"/meetings/{meeting['id']}/agenda.json").json
    assert data["meeting"]["title"] == "3. Landesnetzwerktreffen" and data["agenda_revision"] == 1
    assert len(data["items"]) == 5 and "result" not in data["items"][2]


def test_a_cancelled_meeting_emits_meeting_cancelled_and_can_no_longer_be_changed(
        organiser, broker, relay, settings):
    probe = broker.probe(settings.namespace, "meeting.*")
    meeting = organiser.meeting()
    organiser.call("post", f"/api/meetings/{meeting['id']}/publish", 200)
    organiser.call("post", f"/api/meetings/{meeting['id']}/status", 200, json={"status": "cancelled"})
    assert [(k, p["status"], p["revision"]) for k, p in events(broker, relay, probe)] == [
        ("meeting.published", "published", 1), ("meeting.cancelled", "cancelled", 2)]
    organiser.call("patch", f"/api/meetings/{meeting['id']}", 409, json={"title": "Neu"})
    organiser.call("post", f"/api/meetings/{meeting['id']}/status", 409, json={"status": "published"})
    r = organiser.call("post", f"/api/meetings/{meeting['id']}/status", 422, json={"status": "vertagt"})
    assert "status" in r.json["errors"]


def test_changing_a_published_meeting_emits_its_new_state_with_a_higher_revision(
        organiser, broker, relay, settings):
    probe = broker.probe(settings.namespace, "meeting.*")
    meeting = organiser.meeting()
    organiser.call("post", f"/api/meetings/{meeting['id']}/publish", 200)
    r = organiser.call("patch", f"/api/meetings/{meeting['id']}", 200, json={"capacity": 120})
    assert r.json["capacity"] == 120 and r.json["title"] == TWO_DAYS["title"] and len(r.json["days"]) == 2
    assert [(k, p["capacity"], p["revision"]) for k, p in events(broker, relay, probe)] == [
        ("meeting.published", 80, 1), ("meeting.published", 120, 2)]


def test_a_room_used_by_an_item_cannot_be_removed(organiser):
    meeting = organiser.meeting()
    sample_programme(organiser, meeting)
    r = organiser.call("patch", f"/api/meetings/{meeting['id']}", 422, json={"rooms": [{"name": "Plenarsaal"}]})
    assert "rooms" in r.json["errors"]


def test_the_openapi_document_describes_every_api_route(organiser):
    spec = organiser.client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    paths = set(spec["paths"])
    app = organiser.client.application
    api_rules = {re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule) for r in app.url_map.iter_rules()
                 if r.rule.startswith("/api/") and r.rule != "/api/openapi.json"}
    documented = set(paths)
    assert api_rules <= documented, api_rules - documented
    assert "AgendaItemInput" in spec["components"]["schemas"]
