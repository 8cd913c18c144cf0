"""``/readyz`` of every service reports its outbox's backlog for monitoring: how many events the relay has not
published yet and how long the oldest has waited (a growing age: the broker is away or the relay stopped)."""
from __future__ import annotations

import uuid
from importlib import import_module
from datetime import datetime, timedelta, timezone

from test_access import service  # noqa: F401  (the fixture)


def test_readiness_reports_the_outbox_backlog_and_the_age_of_its_oldest_row(service):  # noqa: F811
    client = service.app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 200
    before = ready.json["outbox"]["pending"]  # the fixture's own events (the agenda's), nothing relays them
    assert isinstance(before, int) and ready.json["outbox"]["oldest_seconds"] < 600

    deps = service.app.extensions["treffpunkt"]
    outbox = import_module(f"treffpunkt_{service.name}.models").outbox
    with deps["engine"].begin() as tx:
        tx.execute(outbox.insert().values(
            message_id=str(uuid.uuid4()), routing_key="test.stuck", body=b"{}", headers={},
            created_at=datetime.now(timezone.utc) - timedelta(minutes=10)))
    backlog = client.get("/readyz").json["outbox"]
    assert backlog["pending"] == before + 1 and backlog["oldest_seconds"] >= 600
