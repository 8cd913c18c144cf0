"""Every route of every service is walked from its URL map: what is not on the short public list must refuse
anonymous and forged callers, and organisers may touch only the meetings assigned to them.

The list of routes is never written down here: a new organiser endpoint is checked the day it is added,
and fails this test unless it is protected (or consciously put on one of the lists below).
"""
from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, replace

import pytest
from flask import Flask
from werkzeug.routing import Rule, UUIDConverter

from treffpunkt_agenda import accounts as agenda_accounts
from treffpunkt_agenda.app import MIGRATIONS as AGENDA_MIGRATIONS, create_app as agenda_app
from treffpunkt_agenda.config import Settings as AgendaSettings
from treffpunkt_notify.app import MIGRATIONS as NOTIFY_MIGRATIONS, create_app as notify_app
from treffpunkt_notify.config import Settings as NotifySettings
from treffpunkt_notify.mailer import CapturingMailer
from treffpunkt_registration.app import MIGRATIONS as REGISTRATION_MIGRATIONS, create_app as registration_app
from treffpunkt_registration.config import Settings as RegistrationSettings
from treffpunkt_shared.auth import ADMINISTRATOR, ORGANISER, SESSION_COOKIE, Principal, sign_token
from treffpunkt_shared.db import make_engine, upgrade_database

SECRET = "access-test-secret-" + "a" * 32
SIGN_IN_URL = "http://127.0.0.1:8001/anmelden"
SERVICES = ("agenda", "registration", "notify")

# Anyone may call these (health checks, signing in, the participants' pages and API).
PUBLIC = {
    "agenda": {"health.healthz", "health.readyz", "static",
               "auth.sign_in", "auth.sign_in_submit",  # the sign-in page and form
               "auth.create_session",  # email + password → token
               "auth.delete_session",  # only clears the caller's own cookie
               "api-docs.openapi_json",  # describes the API, holds no data
               # the published programme: drafts answer 404 there (tested in services/agenda)
               "public.index", "public.meeting", "public.agenda_json", "public.agenda_ics", "public.document"},
    "registration": {"health.healthz", "health.readyz", "static",
                     "pages.index", "pages.meeting", "pages.submit", "pages.registered",
                     "registration_api.meetings_index", "registration_api.meeting_show",
                     "registration_api.create_registration",
                     # behind a participant's personal link: the unguessable token in the address is the key
                     # (refusal of wrong, expired and revoked tokens: services/registration/tests/test_journey.py)
                     "personal.confirm", "personal.manage", "personal.change", "personal.cancel_form",
                     "personal.cancel", "personal.calendar", "personal.renew",
                     # data protection: export and erasure (services/registration/tests/test_privacy.py), and
                     # the page saying the data is erased (it shows nothing of anybody)
                     "personal.data_export", "personal.erase_form", "personal.erase", "personal.erased",
                     "registration_api.confirm", "registration_api.registration_show",
                     "registration_api.registration_change", "registration_api.registration_cancel"},
    "notify": {"health.healthz", "health.readyz", "static"},
}
# Any signed-in organiser may call these although no meeting is named in the address (they show each
# organiser their own share). Every other protected route is for administrators, or names a meeting.
FOR_EVERY_ORGANISER = {
    "agenda": {"meetings_api.Meetings", "organiser.meetings", "organiser.new_meeting", "organiser.create",
               "accounts.home", "accounts.account",
               "auth.sign_out", "auth.sign_out_submit", "auth.show_session"},
    # their meetings, and the list of authorities that every meeting's form offers
    "registration": {"organiser.meetings_index", "organiser_api.meetings_index", "organiser.authorities_page",
                     "organiser.authorities_add", "organiser.authorities_remove"},
    "notify": {"notify_pages.deliveries"},
}


@dataclass
class Service:
    name: str
    app: Flask
    admin: Principal
    organiser: Principal  # assigned to another meeting than the one in the paths
    meeting_id: str  # the meeting every path names: it exists where the service keeps meetings


def _principal(role: str, meetings=(), account_id: str | None = None) -> Principal:
    return Principal(id=account_id or str(uuid.uuid4()), name="Erika Organisatorin", email="erika@example.org",
                     role=role, meeting_ids=frozenset(meetings), signed_in_at=int(time.time()))


def _account(engine, role: str) -> Principal:
    with engine.begin() as tx:
        account = agenda_accounts.create_account(tx, email=f"{role}-{uuid.uuid4().hex[:6]}@example.org",
                                                 name="Erika Organisatorin", role=role,
                                                 password="Wissensmanagement-2016")
    return _principal(role, account_id=account["id"])


@pytest.fixture(params=SERVICES)
def service(request, postgres_url_for, tmp_path):
    name = request.param
    url = postgres_url_for(name)
    engine = make_engine(url)
    try:
        if name == "agenda":
            upgrade_database(engine, AGENDA_MIGRATIONS)
            app = agenda_app(AgendaSettings(database_url=url, session_secret=SECRET), engine=engine)
            # The agenda believes its database, so its principals are real accounts: the organiser is
            # assigned to a meeting of their own, the paths name one created by an administrator.
            admin, organiser = _account(engine, ADMINISTRATOR), _account(engine, ORGANISER)
            client = app.test_client()
            _create_meeting(client, organiser)
            yield Service(name, app, admin, organiser, _create_meeting(client, admin))
        elif name == "registration":
            upgrade_database(engine, REGISTRATION_MIGRATIONS)
            app = registration_app(RegistrationSettings(database_url=url, session_secret=SECRET,
                                                        sign_in_url=SIGN_IN_URL), engine=engine)
            yield Service(name, app, _principal(ADMINISTRATOR), _principal(ORGANISER, [str(uuid.uuid4())]),
                          str(uuid.uuid4()))
        else:
            upgrade_database(engine, NOTIFY_MIGRATIONS)
            # With the capturing mailer, so that the captured-mail pages exist and are checked too.
            app = notify_app(NotifySettings(database_url=url, session_secret=SECRET, sign_in_url=SIGN_IN_URL),
                             engine=engine, mailer=CapturingMailer(tmp_path / "mail"))
            yield Service(name, app, _principal(ADMINISTRATOR), _principal(ORGANISER, [str(uuid.uuid4())]),
                          str(uuid.uuid4()))
    finally:
        engine.dispose()


def _create_meeting(client, creator: Principal) -> str:
    r = client.post("/api/meetings", headers={"Authorization": f"Bearer {sign_token(creator, SECRET)}"}, json={
        "title": "2. Landesnetzwerktreffen", "starts_at": "2016-09-16T10:00:00", "ends_at": "2016-09-16T16:00:00",
        "venue": {"name": "Regierungspräsidium Darmstadt"}, "capacity": 60})
    assert r.status_code == 201, r.json
    return r.json["id"]


# Signing out revokes the token it is called with, in every service: walked after every other route.
ENDS_THE_SESSION = {"auth.sign_out_submit", "auth.delete_session"}


def routes(service: Service, skip: set[str]):
    """(rule, method, path) for every route and method of the app that is not in ``skip``; a meeting in the
    path is ``service.meeting_id``, any other id a random one. The sign-out routes come last."""
    adapter = service.app.url_map.bind("localhost")
    for rule in sorted(service.app.url_map.iter_rules(), key=lambda r: r.endpoint in ENDS_THE_SESSION):
        if rule.endpoint in skip:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, adapter.build(rule.endpoint, _arguments(rule, service.meeting_id), method=method)


def _arguments(rule: Rule, meeting_id: str) -> dict:
    values = {}
    for name, converter in rule._converters.items():
        if name == "meeting_id":
            values[name] = meeting_id
        elif isinstance(converter, UUIDConverter):
            values[name] = str(uuid.uuid4())
        elif type(converter).__name__ in ("IntegerConverter", "NumberConverter"):
            values[name] = 1
        elif type(converter).__name__ == "AnyConverter":
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = "x"
    return values


def refused_anonymously(response) -> bool:
    if response.status_code == 401:
        return True
    return response.status_code in (302, 303) and "/anmelden" in response.headers.get("Location", "")


def forged_tokens(service: Service) -> dict[str, str]:
    admin = service.admin
    claims = {"v": 1, "id": admin.id, "name": admin.name, "email": admin.email, "role": ADMINISTRATOR,
              "m": [], "t": int(time.time())}
    unsigned = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    genuine = sign_token(service.organiser, SECRET)
    _, timestamp, signature = genuine.rsplit(".", 2)
    return {
        "unsigned": unsigned,
        "unsigned with a dot": unsigned + ".",
        "signed with another secret": sign_token(admin, "another-secret-" + "b" * 32),
        "expired": sign_token(replace(admin, signed_in_at=int(time.time()) - 9 * 3600), SECRET),
        "organiser's signature on admin claims": f"{unsigned}.{timestamp}.{signature}",
        "garbage": "Bearer Bearer ..",
    }


def test_the_lists_name_only_endpoints_that_exist(service):
    endpoints = {rule.endpoint for rule in service.app.url_map.iter_rules()}
    listed = (PUBLIC[service.name] | FOR_EVERY_ORGANISER[service.name]) - {"static"}
    assert listed <= endpoints, f"{service.name}: stale entries {sorted(listed - endpoints)}"


def test_every_non_public_route_refuses_anonymous_callers(service):
    client = service.app.test_client()
    checked = 0
    for rule, method, path in routes(service, PUBLIC[service.name]):
        for accept in ("text/html", "application/json"):
            r = client.open(path, method=method, headers={"Accept": accept})
            assert refused_anonymously(r), f"{service.name} {method} {rule.rule} ({accept}): {r.status_code}"
        checked += 1
    assert checked or service.name == "registration", f"{service.name} has no organiser routes?"


def test_every_non_public_route_refuses_forged_unsigned_and_expired_tokens(service):
    for label, token in forged_tokens(service).items():
        for rule, method, path in routes(service, PUBLIC[service.name]):
            by_header = service.app.test_client().open(path, method=method,
                                                       headers={"Authorization": f"Bearer {token}"})
            assert refused_anonymously(by_header), f"{service.name} {method} {rule.rule}, {label} bearer"
            browser = service.app.test_client()
            browser.set_cookie(SESSION_COOKIE, token)
            by_cookie = browser.open(path, method=method, headers={"Accept": "text/html"})
            assert refused_anonymously(by_cookie), f"{service.name} {method} {rule.rule}, {label} cookie"


def test_an_organiser_gets_403_for_a_meeting_not_assigned_and_for_administrators_routes(service):
    client = service.app.test_client()
    headers = {"Authorization": f"Bearer {sign_token(service.organiser, SECRET)}"}
    for rule, method, path in routes(service, PUBLIC[service.name]):
        if "meeting_id" not in rule.arguments and rule.endpoint in FOR_EVERY_ORGANISER[service.name]:
            continue
        r = client.open(path, method=method, headers=headers)
        assert r.status_code == 403, f"{service.name} {method} {rule.rule}: {r.status_code} for an organiser"


def test_with_a_valid_administrator_token_every_route_is_reached_without_a_server_error(service):
    """Shows that the refusals above come from the checks, not from tokens the services cannot read."""
    client = service.app.test_client()
    headers = {"Authorization": f"Bearer {sign_token(service.admin, SECRET)}"}
    for rule, method, path in routes(service, PUBLIC[service.name]):
        r = client.open(path, method=method, headers=headers)
        assert r.status_code not in (401, 403) and r.status_code < 500, \
            f"{service.name} {method} {rule.rule}: {r.status_code} for an administrator"
