"""Data protection on PostgreSQL: a participant's data as JSON, erasure on request (participant and organiser),
and erasure after the retention time."""
import json
import threading
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from treffpunkt_registration import privacy
from treffpunkt_registration.housekeeping import Housekeeping, default_jobs
from treffpunkt_registration.models import (attendance, meetings, rate_limits, registration_links, registration_rounds,
                                            registrations, rounds)
from treffpunkt_shared.auth import Principal, sign_token
from treffpunkt_shared.contracts import PARTICIPANT_ERASED
from treffpunkt_shared.testing import database_hits
from treffpunkt_shared.timeutil import utcnow
from registration_testing import (SECRET, confirm_link, events_for, manage_link, outbox_events, page_csrf, person,
                                  publish_agenda, publish_meeting, round_item)

CANARY = "kanarienvogel" + uuid.uuid4().hex[:8]


def canary_person(i=0, **extra):
    return person(i, first_name=f"{CANARY}vor", last_name=f"{CANARY}nach", email=f"{CANARY}.{i}@example.org",
                  phone="+49 611 " + "1" * 6, dietary_needs=f"vegetarisch {CANARY}",
                  accessibility_needs="Rollstuhlplatz", photo_consent=True, **extra)


def register(client, meeting_id, data):
    r = client.post(f"/api/meetings/{meeting_id}/registrations", json=data)
    assert r.status_code == 201, r.json
    return r.json["id"]


def register_and_confirm(client, engine, meeting_id, data) -> tuple[str, str]:
    registration_id = register(client, meeting_id, data)
    assert client.post(f"/api/confirmations/{confirm_link(engine, registration_id)}").status_code == 200
    return registration_id, manage_link(engine, registration_id)


def organiser_headers(meeting_ids=(), role="organiser"):
    principal = Principal(id="org-1", name="Orga Nisatorin", email="orga@hsm.example", role=role,
                          meeting_ids=frozenset(str(m) for m in meeting_ids), signed_in_at=int(utcnow().timestamp()))
    return {"Authorization": f"Bearer {sign_token(principal, SECRET)}"}


def row_of(engine, registration_id):
    with engine.connect() as conn:
        return conn.execute(sa.select(registrations).where(registrations.c.id == registration_id)).first()


def count(engine, table, *where):
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar()


def erase_through_the_link(client, token):
    page = client.get(f"/anmeldung/{token}/loeschen")
    assert page.status_code == 200
    return client.post(f"/anmeldung/{token}/loeschen", data={"csrf_token": page_csrf(page.text), "confirm": "yes"})


# ------------------------------------------------------------------ export

def test_a_participant_downloads_everything_held_about_their_registration_through_the_personal_link(client, engine):
    meeting_id = publish_meeting(engine)
    publish_agenda(engine, meeting_id, [round_item("r1", "Ungeklärte Identität", 1, 2, capacity=10)])
    registration_id, token = register_and_confirm(client, engine, meeting_id, canary_person(rounds=["r1"]))
    with engine.begin() as tx:
        tx.execute(attendance.insert().values(registration_id=registration_id, day=date(2026, 9, 16),
                                              checked_in_at=utcnow()))
    r = client.get(f"/anmeldung/{token}/daten.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert "attachment" in r.headers["Content-Disposition"] and r.headers["Cache-Control"] == "no-store"
    data = json.loads(r.data)
    assert data["registration"]["id"] == registration_id and data["registration"]["status"] == "confirmed"
    assert data["person"]["first_name"] == f"{CANARY}vor" and data["person"]["email"] == f"{CANARY}.0@example.org"
    assert data["person"]["phone"] and data["person"]["dietary_needs"] == f"vegetarisch {CANARY}"
    assert data["consents"]["privacy_notice"]["version"] == "2026-11-01"
    assert data["consents"]["privacy_notice"]["given_at"] and data["consents"]["photographs"]["given"] is True
    assert data["history"]["created_at"] and data["history"]["confirmed_at"] and data["history"]["erased_at"] is None
    assert [(x["item_id"], x["place_held"]) for x in data["rounds"]] == [("r1", True)]
    assert data["attendance"] == [{"day": "2026-09-16", "checked_in_at": data["attendance"][0]["checked_in_at"]}]
    assert {link["purpose"] for link in data["personal_links"]} == {"confirm", "manage"}
    assert token not in r.text  # the links' tokens exist only in the emails
    assert "submission_key" not in r.text and "email_key" not in r.text


@pytest.mark.parametrize("token, status", [("nope", 404), ("x" * 500, 404), ("0" * 32, 404),
                                           ("%00", 400)])  # NUL in any path: 400 for every route (shared.http)
def test_the_export_with_a_wrong_link_is_a_4xx_never_a_500(client, engine, token, status):
    assert client.get(f"/anmeldung/{token}/daten.json").status_code == status
    assert client.get(f"/anmeldung/{token}/loeschen").status_code == status


def test_only_organisers_of_the_meeting_get_a_participants_data(client, engine):
    meeting_id, other_meeting = publish_meeting(engine), publish_meeting(engine)
    registration_id = register(client, meeting_id, canary_person())
    url = f"/api/meetings/{meeting_id}/registrations/{registration_id}/data"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=organiser_headers([other_meeting])).status_code == 403
    assert client.get(url, headers={"Authorization": "Bearer forged"}).status_code == 401
    r = client.get(url, headers=organiser_headers([meeting_id]))
    assert r.status_code == 200 and r.json["person"]["last_name"] == f"{CANARY}nach"
    assert client.get(url, headers=organiser_headers(role="administrator")).status_code == 200
    # A registration of another meeting is not found through this meeting, nor is an unknown or malformed id.
    assert client.get(f"/api/meetings/{other_meeting}/registrations/{registration_id}/data",
                      headers=organiser_headers([other_meeting])).status_code == 404
    assert client.get(f"/api/meetings/{meeting_id}/registrations/{uuid.uuid4()}/data",
                      headers=organiser_headers([meeting_id])).status_code == 404
    assert client.get(f"/api/meetings/{meeting_id}/registrations/nope/data",
                      headers=organiser_headers([meeting_id])).status_code == 404


# ------------------------------------------------------------------ erasure on request

def test_erasing_through_the_personal_link_asks_first_and_changes_nothing_before_the_confirmation(client, engine):
    meeting_id = publish_meeting(engine)
    registration_id, token = register_and_confirm(client, engine, meeting_id, canary_person())
    page = client.get(f"/anmeldung/{token}/loeschen")
    assert "Ihre Daten löschen" in page.text and "storniert" in page.text
    assert "Erase your data" in client.get(f"/anmeldung/{token}/loeschen?lang=en").text
    assert row_of(engine, registration_id).erased_at is None
    # A post without the form's token (forged from another site) erases nothing, nor does a bare post
    # without the confirmation button's value.
    assert client.post(f"/anmeldung/{token}/loeschen", data={"confirm": "yes"}).status_code == 400
    bare = client.post(f"/anmeldung/{token}/loeschen")
    assert bare.status_code == 303 and bare.headers["Location"].startswith(f"/anmeldung/{token}/loeschen")
    assert client.post(f"/anmeldung/{token}/loeschen",
                       data={"csrf_token": page_csrf(page.text)}).headers["Location"].split("?")[0].endswith("/loeschen")
    assert row_of(engine, registration_id).first_name == f"{CANARY}vor"


def test_an_authority_typed_by_the_erased_participant_alone_is_erased_too_a_listed_or_shared_one_stays(
        client, engine):
    from treffpunkt_registration.authority_list import add_authority
    from treffpunkt_registration.models import authority_places
    meeting_id = publish_meeting(engine, capacity=10)
    with engine.begin() as tx:
        tx.execute(meetings.update().where(meetings.c.id == meeting_id).values(authority_quota=3))
    add_authority(engine, "Regierungspräsidium Darmstadt")
    alone, alone_token = register_and_confirm(client, engine, meeting_id,
                                              canary_person(1, organisation=f"Kanzlei {CANARY}"))
    listed, listed_token = register_and_confirm(client, engine, meeting_id,
                                                canary_person(2, organisation="Regierungspräsidium Darmstadt"))
    shared, shared_token = register_and_confirm(client, engine, meeting_id,
                                                canary_person(3, organisation="Ausländerbehörde Gießen"))
    register_and_confirm(client, engine, meeting_id, person(4, organisation="ausländerbehörde  gießen"))
    for token in (alone_token, listed_token, shared_token):
        assert erase_through_the_link(client, token).status_code == 303
    assert (row_of(engine, alone).organisation, row_of(engine, alone).authority_key) == ("", "")
    assert row_of(engine, listed).organisation == "Regierungspräsidium Darmstadt"
    assert row_of(engine, shared).organisation == "Ausländerbehörde Gießen"
    assert database_hits(engine, CANARY) == []  # the typed name held the canary: gone with its quota counter
    assert count(engine, authority_places, authority_places.c.authority_key.like(f"%{CANARY}%")) == 0


def test_erasing_an_active_registration_gives_its_place_to_the_next_in_line_and_leaves_no_personal_data(
        client, engine):
    meeting_id = publish_meeting(engine, capacity=1)
    publish_agenda(engine, meeting_id, [round_item("r1", "Ungeklärte Identität", 1, 2, capacity=1)])
    first, token = register_and_confirm(client, engine, meeting_id, canary_person(rounds=["r1"]))
    second, _ = register_and_confirm(client, engine, meeting_id, person(5, rounds=["r1"]))
    assert row_of(engine, second).status == "waitlisted"
    with engine.begin() as tx:
        tx.execute(attendance.insert().values(registration_id=first, day=date(2026, 9, 16), checked_in_at=utcnow()))
    assert count(engine, rate_limits, rate_limits.c.key.like("email:%")) == 2

    r = erase_through_the_link(client, token)
    assert r.status_code == 303 and r.headers["Location"].startswith("/daten-geloescht")
    assert "Ihre Daten sind gelöscht" in client.get(r.headers["Location"]).text

    assert database_hits(engine, CANARY) == []
    row = row_of(engine, first)
    assert row.status == "cancelled" and row.erased_at is not None and not row.has_place
    assert (row.first_name, row.last_name, row.email, row.phone, row.function) == ("", "", "", "", "")
    assert row.organisation == "Ausländerbehörde Gießen"  # kept for the figures per authority
    for table in (registration_links, attendance, registration_rounds):
        assert count(engine, table, table.c.registration_id == first) == 0
    assert count(engine, rate_limits, rate_limits.c.key.like("email:%")) == 1  # only the other person's
    # The place and the round's place went to the next in line, in the same step.
    assert row_of(engine, second).status == "confirmed"
    with engine.connect() as conn:
        assert conn.execute(sa.select(meetings.c.seats_taken)).scalar() == 1
        assert conn.execute(sa.select(rounds.c.places_taken).where(rounds.c.item_id == "r1")).scalar() == 1
    assert [e["type"] for e in events_for(engine, second)][-1] == "registration.promoted"
    # The personal link is gone with the rest.
    assert client.get(f"/anmeldung/{token}").status_code == 404


def test_erasure_announces_participant_erased_with_nothing_personal_and_drops_the_unrelayed_events(client, engine):
    meeting_id = publish_meeting(engine)
    other = register(client, meeting_id, person(7))
    registration_id, token = register_and_confirm(client, engine, meeting_id, canary_person())
    assert len(events_for(engine, registration_id)) == 2  # received, confirmed: not relayed yet
    erase_through_the_link(client, token)
    mine = events_for(engine, registration_id)
    assert [e["type"] for e in mine] == ["participant.erased"]  # no registration.cancelled with the name
    payload = mine[0]["payload"]
    assert set(payload) == {"registration_id", "meeting_id", "erased_at", "reason"}
    assert payload["reason"] == "request" and payload["meeting_id"] == meeting_id
    PARTICIPANT_ERASED.load_payload(payload)  # valid under the shared contract
    assert [e["type"] for e in events_for(engine, other)] == ["registration.received"]  # others' events stay


def test_when_writing_participant_erased_fails_nothing_is_erased_or_cancelled(client, engine, monkeypatch):
    meeting_id = publish_meeting(engine, capacity=1)
    registration_id, token = register_and_confirm(client, engine, meeting_id, canary_person())
    waiting = register(client, meeting_id, person(3))
    before = len(outbox_events(engine))

    def broken(*args, **kwargs):
        raise sa.exc.OperationalError("INSERT INTO outbox", {}, Exception("disk full"))

    monkeypatch.setattr(privacy, "add_to_outbox", broken)
    page = client.get(f"/anmeldung/{token}/loeschen")
    r = client.post(f"/anmeldung/{token}/loeschen", data={"csrf_token": page_csrf(page.text), "confirm": "yes"})
    assert r.status_code == 503  # an OperationalError: the database cannot serve now
    row = row_of(engine, registration_id)
    assert row.status == "confirmed" and row.first_name == f"{CANARY}vor" and row.erased_at is None
    assert row_of(engine, waiting).has_place is False
    assert len(outbox_events(engine)) == before
    assert client.get(f"/anmeldung/{token}").status_code == 200


def test_an_organiser_erases_a_registration_once_and_a_second_request_is_answered_409(client, engine):
    meeting_id = publish_meeting(engine)
    registration_id = register(client, meeting_id, canary_person())  # still pending: cancelled, then erased
    url = f"/api/meetings/{meeting_id}/registrations/{registration_id}/erasure"
    assert client.post(url).status_code == 401
    assert client.post(url, headers=organiser_headers([publish_meeting(engine)])).status_code == 403
    assert row_of(engine, registration_id).erased_at is None
    r = client.post(url, headers=organiser_headers([meeting_id]))
    assert r.status_code == 200 and r.json["registration_id"] == registration_id
    row = row_of(engine, registration_id)
    assert row.status == "cancelled" and row.cancelled_by == "organiser" and row.erased_at is not None
    assert database_hits(engine, CANARY) == []
    again = client.post(url, headers=organiser_headers([meeting_id]) | {"Accept-Language": "en"})
    assert again.status_code == 409 and again.json["message"] == "The data of this registration has already been erased."
    assert [e["type"] for e in events_for(engine, registration_id)] == ["participant.erased"]
    # What is left can still be looked at: nothing personal.
    data = client.get(f"/api/meetings/{meeting_id}/registrations/{registration_id}/data",
                      headers=organiser_headers([meeting_id])).json
    assert data["person"]["email"] == "" and data["history"]["erased_at"]


def test_a_cancelled_registration_can_still_be_erased_and_then_can_register_again(client, engine):
    meeting_id = publish_meeting(engine)
    registration_id, token = register_and_confirm(client, engine, meeting_id, canary_person())
    assert client.delete(f"/api/registrations/{token}").status_code == 200
    erase_through_the_link(client, token)
    assert row_of(engine, registration_id).erased_at is not None
    assert database_hits(engine, CANARY) == []
    register(client, meeting_id, canary_person())  # a new registration with the same address is a new one


# ------------------------------------------------------------------ retention

def _move_meeting(engine, meeting_id, ends_days_ago: float):
    ends = utcnow() - timedelta(days=ends_days_ago)
    with engine.begin() as tx:
        tx.execute(meetings.update().where(meetings.c.id == meeting_id)
                   .values(starts_at=ends - timedelta(hours=6), ends_at=ends))


def test_retention_erases_a_meeting_after_its_retention_days_without_cancelling_and_keeps_the_figures(
        client, engine, settings):
    old, recent = publish_meeting(engine, capacity=2), publish_meeting(engine)
    people = [register_and_confirm(client, engine, old, canary_person(i))[0] for i in range(3)]  # 2 + 1 waiting
    kept = register(client, recent, canary_person(9))
    _move_meeting(engine, old, settings.retention_days + 1)
    _move_meeting(engine, recent, settings.retention_days - 1)
    before = {e["id"] for e in outbox_events(engine)}

    assert privacy.erase_past_retention(engine, settings) == 3
    for registration_id in people:
        assert row_of(engine, registration_id).erased_at is not None
    assert [row_of(engine, r).status for r in people] == ["confirmed", "confirmed", "waitlisted"]
    new_events = [e for e in outbox_events(engine) if e["id"] not in before]
    assert sorted(e["type"] for e in new_events) == ["participant.erased"] * 3  # nobody cancelled or promoted
    assert {e["payload"]["reason"] for e in new_events} == {"retention"}
    with engine.connect() as conn:
        erased_at = conn.execute(sa.select(meetings.c.id, meetings.c.personal_data_erased_at)).all()
        per_authority = conn.execute(sa.select(registrations.c.organisation, sa.func.count()).where(
            registrations.c.meeting_id == old, registrations.c.status == "confirmed")
            .group_by(registrations.c.organisation)).all()
    assert {m: at is not None for m, at in erased_at} == {old: True, recent: False}
    assert per_authority == [("Ausländerbehörde Gießen", 2)]
    # Only the recent meeting's participant is still there, under their name.
    assert database_hits(engine, f"{CANARY}.9@") and database_hits(engine, f"{CANARY}.0@") == []
    assert row_of(engine, kept).erased_at is None
    assert privacy.erase_past_retention(engine, settings) == 0  # done once


def test_retention_in_several_workers_at_once_erases_each_registration_once(client, engine, settings):
    meeting_ids = [publish_meeting(engine) for _ in range(3)]
    for meeting_id in meeting_ids:
        for i in range(4):
            register(client, meeting_id, canary_person(i))
        _move_meeting(engine, meeting_id, settings.retention_days + 2)
    results, barrier = [], threading.Barrier(4)

    def worker():
        barrier.wait()
        results.append(privacy.erase_past_retention(engine, settings))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # Anything a worker skipped (meeting locked by another) is done by the next run; nothing twice.
    results.append(privacy.erase_past_retention(engine, settings))
    assert sum(results) == 12
    erased = [e for e in outbox_events(engine) if e["type"] == "participant.erased"]
    assert len(erased) == len({e["payload"]["registration_id"] for e in erased}) == 12
    assert database_hits(engine, CANARY) == []


def test_the_worker_runs_the_retention_job_with_its_other_housekeeping(client, engine, settings):
    assert default_jobs()["retention"] is privacy.erase_past_retention
    meeting_id = publish_meeting(engine)
    register(client, meeting_id, canary_person())
    _move_meeting(engine, meeting_id, settings.retention_days + 1)
    done = Housekeeping(engine, settings).run_once()
    assert done["retention"] == 1 and database_hits(engine, CANARY) == []
