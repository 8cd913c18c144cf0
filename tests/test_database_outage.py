"""When PostgreSQL cannot be reached (restarting, refusing connections, gone for a moment), every route of every
service answers 503 with Retry-After and a bilingual message, never a 500, and serves again as soon as the
database is back. The outage is real: the service's database stops accepting connections and its backends
are terminated, so the pooled connections die as they would in a restart.

The routes are walked from each app's URL map (as in test_access.py), so a route added tomorrow is checked
the day it is added."""
from __future__ import annotations

import contextlib

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from treffpunkt_shared.auth import sign_token
from treffpunkt_shared.http import DATABASE_UNAVAILABLE

from test_access import SECRET, routes, service  # noqa: F401  (the fixture, and the route walk)


@contextlib.contextmanager
def database_refusing_connections(url: str):
    name = make_url(url).database
    admin = sa.create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                         {"n": name})
        yield
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


def _database_url(service) -> str:  # noqa: F811
    return service.app.extensions["treffpunkt"]["engine"].url.render_as_string(hide_password=False)


def test_every_route_answers_503_with_retry_after_while_the_database_is_down_and_serves_again_after(service):  # noqa: F811
    client = service.app.test_client()
    headers = {"Authorization": f"Bearer {sign_token(service.admin, SECRET)}"}
    walked = [(rule, method, path) for rule, method, path in routes(service, {"static"})]
    server_errors, unavailable = [], []
    with database_refusing_connections(_database_url(service)):
        for rule, method, path in walked:
            for accept in ("text/html", "application/json"):
                r = client.open(path, method=method, headers=headers | {"Accept": accept})
                if r.status_code == 503 and rule.endpoint != "health.readyz":
                    assert r.headers.get("Retry-After") == "5", f"{method} {rule.rule}"
                    body = r.get_data(as_text=True)
                    assert "nicht erreichbar" in body and "briefly unavailable" in body, body[:300]
                    if accept == "application/json" or rule.rule.startswith("/api/"):
                        assert r.json["error"] == "service_unavailable"
                    unavailable.append(rule.rule)
                elif r.status_code >= 500 and r.status_code != 503:
                    server_errors.append(f"{method} {rule.rule} ({accept}): {r.status_code}")
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json["checks"]["database"] is False
        assert ready.json["outbox"] is None  # not readable now: reported as unknown, not as an error
    assert not server_errors, f"{service.name}: server errors while the database was down:\n" + "\n".join(server_errors)
    # The walk really reached the database: most routes need it.
    assert len(set(unavailable)) >= 3, unavailable

    assert client.get("/readyz").status_code == 200
    for rule, method, path in walked:
        if method == "GET" and rule.rule in unavailable:
            r = client.get(path, headers=headers | {"Accept": "application/json"})
            assert r.status_code != 503, f"GET {rule.rule} still unavailable after the database came back"


def test_the_unavailable_message_is_german_first_then_english():
    german, english = DATABASE_UNAVAILABLE.split(" / ")
    assert german.startswith("Der Dienst") and english.startswith("The service")
