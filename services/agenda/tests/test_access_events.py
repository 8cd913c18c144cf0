"""Every change of an organiser account's access is announced as ``organiser.access_changed`` through the
outbox, in the transaction of the change; signing out, a new password and deactivation refuse the tokens
signed in before, in the agenda at once (the other services: tests/test_revocation_everywhere.py)."""
from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from treffpunkt_agenda import access_events, accounts
from treffpunkt_agenda.models import outbox
from treffpunkt_shared.contracts import CONTRACTS

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from agenda_testing import PASSWORD, bearer, signed_in_browser  # noqa: E402

MEETING = {"title": "Kassel", "starts_at": "2016-09-16T10:00:00", "ends_at": "2016-09-16T16:00:00",
           "venue": {"name": "Regierungspräsidium Kassel"}, "capacity": 60}


def access_events_in_outbox(engine, organiser_id: str) -> list[dict]:
    """The payloads of the account's organiser.access_changed events, checked against the contract."""
    with engine.connect() as conn:
        bodies = [json.loads(r.body) for r in conn.execute(sa.select(outbox).order_by(outbox.c.seq))]
    found = [b for b in bodies if b["type"] == "organiser.access_changed" and
             b["payload"]["organiser_id"] == organiser_id]
    for body in found:
        CONTRACTS[body["type"]].load_payload(body["payload"])
    return [b["payload"] for b in found]


def test_each_change_of_an_accounts_access_is_announced_with_its_whole_access_and_a_growing_revision(
        client, engine, auth, make_account):
    organiser = make_account()
    oid = organiser["id"]
    meeting_id = client.post("/api/meetings", json=MEETING, headers=auth).json["id"]

    assert client.put(f"/api/organisers/{oid}/meetings/{meeting_id}", headers=auth).status_code == 204
    assert client.put(f"/api/organisers/{oid}/meetings/{meeting_id}", headers=auth).status_code == 204  # no change
    assert client.patch(f"/api/organisers/{oid}", json={"role": "administrator"}, headers=auth).status_code == 200
    assert client.patch(f"/api/organisers/{oid}", json={"name": "Erika Neu"}, headers=auth).status_code == 200
    assert client.patch(f"/api/organisers/{oid}", json={"password": "Ein-neues-Passwort-2017"},
                        headers=auth).status_code == 200
    assert client.delete(f"/api/organisers/{oid}/meetings/{meeting_id}", headers=auth).status_code == 204
    assert client.patch(f"/api/organisers/{oid}", json={"active": False}, headers=auth).status_code == 200
    assert client.patch(f"/api/organisers/{oid}", json={"active": True, "role": "organiser"},
                        headers=auth).status_code == 200

    events = access_events_in_outbox(engine, oid)
    assert [e["changes"] for e in events] == [["meetings_changed"], ["role_changed"], ["password_changed"],
                                              ["meetings_changed"], ["deactivated"],
                                              ["reactivated", "role_changed"]]
    assert [e["revision"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert [(e["active"], e["role"], e["meeting_ids"]) for e in events] == [
        (True, "organiser", [meeting_id]), (True, "administrator", [meeting_id]),
        (True, "administrator", [meeting_id]), (True, "administrator", []), (False, "administrator", []),
        (True, "organiser", [])]
    # Only what can revoke tokens moves not_before; the later events carry it on.
    cut_offs = [e["not_before"] for e in events]
    assert cut_offs[:2] == [None, None] and cut_offs[2] is not None
    assert cut_offs[3] == cut_offs[2] and cut_offs[4] >= cut_offs[2] and cut_offs[5] == cut_offs[4]


def test_when_writing_the_event_fails_the_account_is_not_deactivated_either(client, engine, auth, make_account,
                                                                           monkeypatch):
    organiser = make_account()

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT INTO outbox", {}, Exception("disk full"))

    monkeypatch.setattr(access_events, "add_to_outbox", broken)
    r = client.patch(f"/api/organisers/{organiser['id']}", json={"active": False}, headers=auth)
    assert r.status_code == 503  # an OperationalError: the database cannot serve now
    with engine.connect() as conn:
        assert accounts.get_account(conn, organiser["id"])["active"] is True
    assert client.get("/api/session", headers=bearer(organiser)).status_code == 200


def test_signing_out_refuses_every_token_of_the_account_and_a_new_sign_in_in_the_same_second_counts(
        client, engine, make_account):
    organiser = make_account(email="erika@example.org")
    copied = bearer(organiser)
    browser = signed_in_browser(client.application, "erika@example.org")
    assert client.get("/api/session", headers=copied).status_code == 200

    r = browser.post("/abmelden")
    assert r.status_code == 303
    assert client.get("/api/session", headers=copied).status_code == 401  # a token the page never saw
    assert browser.get("/konto").status_code == 303
    [event] = access_events_in_outbox(engine, organiser["id"])
    assert event["changes"] == ["signed_out"] and event["active"] is True
    assert datetime.fromisoformat(event["not_before"]).timestamp() > time.time() - 1

    fresh = client.post("/api/session", json={"email": "erika@example.org", "password": PASSWORD})
    assert client.get("/api/session", headers={"Authorization": f"Bearer {fresh.json['token']}"}).status_code == 200
    assert signed_in_browser(client.application, "erika@example.org").get("/konto").status_code == 200


def test_signing_out_through_the_api_refuses_the_bearer_token_it_was_called_with(client, make_account):
    organiser = make_account()
    token = bearer(organiser)
    assert client.delete("/api/session", headers=token).status_code == 204
    assert client.get("/api/session", headers=token).status_code == 401


def test_reactivating_an_account_does_not_bring_back_the_tokens_it_had_before_it_was_deactivated(
        client, engine, make_account):
    organiser = make_account()
    old = bearer(organiser, signed_in_at=time.time() - 60)
    with engine.begin() as tx:
        accounts.set_active(tx, organiser["id"], False)
    with engine.begin() as tx:
        accounts.set_active(tx, organiser["id"], True)
    assert client.get("/api/session", headers=old).status_code == 401
    assert client.get("/api/session", headers=bearer(organiser, signed_in_at=time.time() + 1)).status_code == 200


def test_a_meetings_events_name_its_active_organisers_by_account_so_notify_can_match_their_access(
        client, engine, auth, admin, make_account):
    assigned, deactivated = make_account(), make_account()
    meeting_id = client.post("/api/meetings", json=MEETING, headers=auth).json["id"]
    for account in (assigned, deactivated):
        assert client.put(f"/api/organisers/{account['id']}/meetings/{meeting_id}", headers=auth).status_code == 204
    assert client.patch(f"/api/organisers/{deactivated['id']}", json={"active": False}, headers=auth).status_code == 200
    assert client.post(f"/api/meetings/{meeting_id}/publish", json={}, headers=auth).status_code == 200

    with engine.connect() as conn:
        [body] = [json.loads(r.body) for r in conn.execute(sa.select(outbox).where(
            outbox.c.routing_key == "meeting.published"))]
    payload = CONTRACTS[body["type"]].load_payload(body["payload"])
    assert sorted((str(o["organiser_id"]), o["email"]) for o in payload["organisers"]) == sorted(
        (a["id"], a["email"]) for a in (admin, assigned))  # the creator was assigned
