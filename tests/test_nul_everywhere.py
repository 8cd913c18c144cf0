"""PostgreSQL cannot store or compare text holding NUL: unchecked, such a value becomes a DataError and a 500.
Every route of every service is walked from its URL map (as in test_access.py) with NUL in the path, the
query string, a JSON body and a form body, signed in as an administrator: the answer is never a server
error. A route added tomorrow is checked the day it is added."""
from __future__ import annotations

import pytest

from treffpunkt_shared.auth import sign_token

from test_access import PUBLIC, SECRET, routes, service  # noqa: F401  (the fixture, and the route walk)

NUL = "a\x00b"
# The names the services' inputs use; a route that reads none of them still gets them (and must cope).
FIELDS = ("title", "name", "email", "q", "search", "subject", "body", "text", "audience", "value", "status",
          "first_name", "last_name", "organisation", "function", "phone", "rounds", "authority", "quota",
          "authority_quota", "confirmation_hours", "capacity", "role", "password", "reason", "day", "lang",
          "submission_key", "csrf_token", "starts_at", "ends_at", "venue", "description", "theme")


def _every_route(service):  # noqa: F811
    return list(routes(service, {"static"}))


@pytest.mark.parametrize("where", ["query", "json", "form"])
def test_nul_in_any_input_of_any_route_is_refused_without_a_server_error(service, where):  # noqa: F811
    client = service.app.test_client()
    headers = {"Authorization": f"Bearer {sign_token(service.admin, SECRET)}"}
    failures = []
    for rule, method, path in _every_route(service):
        kwargs = {}
        if where == "query":
            kwargs["query_string"] = {field: NUL for field in FIELDS}
        elif method in ("POST", "PUT", "PATCH", "DELETE") and where == "json":
            kwargs["json"] = {field: NUL for field in FIELDS} | {"rounds": [NUL], "venue": {"name": NUL}}
        elif method in ("POST", "PUT", "PATCH", "DELETE"):
            kwargs["data"] = {field: NUL for field in FIELDS}
        else:
            continue
        r = client.open(path, method=method, headers=headers, **kwargs)
        if r.status_code >= 500:
            failures.append(f"{method} {rule.rule}: {r.status_code}")
    assert not failures, f"{service.name}: NUL in the {where} gave server errors:\n" + "\n".join(failures)


def test_nul_in_a_path_segment_is_refused_without_a_server_error(service):  # noqa: F811
    client = service.app.test_client()
    headers = {"Authorization": f"Bearer {sign_token(service.admin, SECRET)}"}
    failures = []
    for rule, method, path in _every_route(service):
        if "/x" not in path and not rule.arguments:
            continue
        broken = path.replace("/x", "/a%00b") if "/x" in path else path.rstrip("/") + "/a%00b"
        r = client.open(broken, method=method, headers=headers)
        if r.status_code >= 500:
            failures.append(f"{method} {broken}: {r.status_code}")
    assert not failures, f"{service.name}: NUL in the path gave server errors:\n" + "\n".join(failures)


def test_a_participant_sending_nul_to_the_public_routes_gets_no_server_error(service):  # noqa: F811
    client = service.app.test_client()
    failures = []
    for rule, method, path in routes(service, {"static"}):
        if rule.endpoint not in PUBLIC[service.name]:
            continue
        for kwargs in ({"query_string": {f: NUL for f in FIELDS}},
                       {"json": {f: NUL for f in FIELDS}} if method != "GET" else {},
                       {"data": {f: NUL for f in FIELDS}} if method != "GET" else {}):
            r = client.open(path, method=method, **kwargs)
            if r.status_code >= 500:
                failures.append(f"{method} {rule.rule} {list(kwargs)}: {r.status_code}")
    assert not failures, f"{service.name}:\n" + "\n".join(failures)
