"""Schemathesis over the agenda's OpenAPI document: whatever a client sends, the API never answers 5xx."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings


@pytest.fixture
def fuzzed(app, auth):
    """The app (conftest.py) with one published meeting and one item, so generated calls reach them; the calls
    are made by a signed-in administrator, so they get past the sign-in to the validation."""
    client = app.test_client()
    meeting = client.post("/api/meetings", headers=auth, json={
        "title": "Fuzz", "capacity": 10, "venue": {"name": "RP", "room": "Saal"},
        "starts_at": "2016-09-16T10:00", "ends_at": "2016-09-16T16:00"}).json
    item = client.post(f"/api/meetings/{meeting['id']}/items", headers=auth, json={
        "kind": "workshop", "title": "W", "starts_at": "2016-09-16T11:00", "ends_at": "2016-09-16T12:00",
        "room_id": meeting["rooms"][0]["room_id"]}).json
    client.post(f"/api/meetings/{meeting['id']}/publish", headers=auth)
    return {"app": app, "auth": auth, "meeting_id": meeting["id"], "item_id": item["item_id"]}


@pytest.fixture
def api_schema(fuzzed):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", fuzzed["app"])


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_generated_request_makes_the_api_answer_with_a_server_error(case, fuzzed):
    # Half the calls aim at the real meeting and item, so bodies are checked past the 404 of a random id.
    if case.path_parameters and hash(repr(case.body)) % 2 == 0:
        case.path_parameters.update({k: fuzzed[k] for k in ("meeting_id", "item_id") if k in case.path_parameters})
    response = case.call(headers=fuzzed["auth"])
    assert response.status_code < 500, (case.method, case.formatted_path, case.body, response.text[:500])
