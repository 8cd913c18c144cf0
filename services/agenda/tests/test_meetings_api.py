"""The organiser API for meetings, on PostgreSQL, with the published event checked on the real broker."""
import json

import pytest

from treffpunkt_agenda.app import create_app
from treffpunkt_shared.messaging.relay import OutboxRelay
from treffpunkt_shared.messaging.topology import topology_for
from treffpunkt_agenda.models import outbox

MEETING = {
    "title": "2. Landesnetzwerktreffen", "series": "Landesnetzwerktreffen", "number": 2,
    "starts_at": "2016-09-16T10:00:00", "ends_at": "2016-09-16T16:00:00",
    "venue": {"name": "Regierungspräsidium Darmstadt", "room": "Ludwig-Bergsträßer-Saal",
              "address": "Luisenplatz 2, 64283 Darmstadt"},
    "theme": "Wissensmanagement", "capacity": 60,
}
# settings, engine, client and auth (an administrator's bearer token) come from conftest.py.


def test_a_meeting_is_created_as_draft_with_local_times_in_berlin(client, auth):
    r = client.post("/api/meetings", json=MEETING, headers=auth)
    assert r.status_code == 201, r.json
    assert r.json["status"] == "draft"
    assert r.json["starts_at"] == "2016-09-16T08:00:00+00:00"  # 10 Uhr Berlin summer time


def test_publishing_puts_meeting_published_with_its_contract_on_the_broker(client, engine, settings, broker, auth):
    probe = broker.probe(settings.namespace, "meeting.*")
    meeting = client.post("/api/meetings", json=MEETING, headers=auth).json
    r = client.post(f"/api/meetings/{meeting['id']}/publish", headers=auth, json={})
    assert r.status_code == 200 and r.json["status"] == "published" and r.json["revision"] == 1
    relay = OutboxRelay(engine, outbox, settings.amqp_url, topology_for(settings))
    assert relay.publish_pending() == 2  # and organiser.access_changed: the creator was assigned
    relay._drop_connection()
    method, props, body = broker.get(probe)
    envelope = json.loads(body)
    assert method.routing_key == "meeting.published" and props.content_type == "application/json"
    assert envelope["type"] == "meeting.published" and envelope["version"] == 1
    assert envelope["payload"]["venue"]["room"] == "Ludwig-Bergsträßer-Saal"
    assert envelope["payload"]["capacity"] == 60 and envelope["payload"]["revision"] == 1


def test_the_organiser_api_refuses_requests_without_a_valid_sign_in(client):
    assert client.get("/api/meetings").status_code == 401
    assert client.post("/api/meetings", json=MEETING, headers={"Authorization": "Bearer wrong"}).status_code == 401


@pytest.mark.parametrize("change, field", [
    ({"title": ""}, "title"),
    ({"ends_at": "2016-09-16T09:00:00"}, "ends_at"),
    ({"capacity": 0}, "capacity"),
    ({"venue": {}}, "venue"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"starts_at": "gestern"}, "starts_at"),
])
def test_invalid_meeting_data_is_answered_422_with_a_message_per_field(client, change, field, auth):
    r = client.post("/api/meetings", json={**MEETING, **change}, headers=auth)
    assert r.status_code == 422, r.json
    assert field in r.json["errors"]


def test_malformed_json_wrong_content_type_and_oversized_bodies_get_4xx_not_500(client, auth):
    assert client.post("/api/meetings", data="{", content_type="application/json", headers=auth).status_code == 400
    assert client.post("/api/meetings", data="title=x", content_type="text/plain", headers=auth).status_code == 415
    big = json.dumps({**MEETING, "description": "x" * 200_000})
    assert client.post("/api/meetings", data=big, content_type="application/json", headers=auth).status_code == 413
    assert client.post("/api/meetings", json=[1, 2], headers=auth).status_code == 400
    assert client.post("/api/meetings/not-a-uuid/publish", headers=auth).status_code == 404


def test_health_and_readiness_report_database_and_broker(client):
    assert client.get("/healthz").json == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json["checks"] == {"database": True, "broker": True}


def test_readiness_fails_when_the_broker_is_unreachable(settings, engine):
    from dataclasses import replace
    app = create_app(replace(settings, amqp_url="amqp://guest:guest@127.0.0.1:1//"), engine=engine)
    r = app.test_client().get("/readyz")
    assert r.status_code == 503 and r.json["checks"]["broker"] is False


def test_text_with_a_nul_character_is_refused_with_422_at_its_field_not_a_500(client, auth):
    # PostgreSQL cannot store NUL in text: unchecked, it became a DataError and a 500 (found by schemathesis).
    r = client.post("/api/meetings", headers=auth, json={
        "title": "Treffen\x00", "starts_at": "2030-03-12T10:00:00", "ends_at": "2030-03-12T16:00:00",
        "venue": {"name": "Regierungspräsidium\x00Gießen"}, "capacity": 40})
    assert r.status_code == 422, r.json
    assert "NUL" in " ".join(r.json["errors"]["title"]) and "venue" in r.json["errors"]
