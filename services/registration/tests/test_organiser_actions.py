"""The organisers' manual steps: confirm, move to the waiting list, cancel, promote, give free places. They
are the participant journey's own functions, so they emit the same events and never overbook."""
from __future__ import annotations

import threading
import uuid

import sqlalchemy as sa

from registration_testing import (bearer, event_types, events_for, organiser, page_csrf, publish_meeting,
                                  registered, sign_in_browser)
from treffpunkt_registration.models import meetings, registrations


def _action(client, meeting_id, registration_id, action, headers):
    return client.post(f"/api/organiser/meetings/{meeting_id}/registrations/{registration_id}/actions",
                       json={"action": action}, headers=headers)


def _seats(engine, meeting_id):
    with engine.connect() as conn:
        row = conn.execute(sa.select(meetings.c.capacity, meetings.c.seats_taken)
                           .where(meetings.c.id == meeting_id)).first()
        holders = conn.execute(sa.select(sa.func.count()).select_from(registrations).where(
            registrations.c.meeting_id == meeting_id, registrations.c.has_place.is_(True))).scalar()
    return row.capacity, row.seats_taken, holders


def _close(engine, meeting_id, capacity):
    """Registration closed (meeting.closed): freed places are no longer given out by themselves."""
    publish_meeting(engine, capacity=capacity, revision=2, meeting_id=meeting_id, status="closed")


def test_a_manual_promotion_emits_registration_promoted_and_never_overbooks(client, engine, settings):
    meeting_id = publish_meeting(engine, capacity=2)
    first, second = (registered(engine, settings, meeting_id, i) for i in (1, 2))
    waiting_a, waiting_b = (registered(engine, settings, meeting_id, i) for i in (3, 4))
    headers = bearer(organiser(meeting_id))
    full = _action(client, meeting_id, waiting_b, "promote", headers)
    assert full.status_code == 409 and "kein Platz frei" in full.json["message"]
    _close(engine, meeting_id, 2)
    assert _action(client, meeting_id, first, "cancel", headers).status_code == 200
    assert _seats(engine, meeting_id) == (2, 1, 1)  # closed: the place stays free for the organiser
    promoted = _action(client, meeting_id, waiting_b, "promote", headers)  # out of turn
    assert promoted.status_code == 200, promoted.json
    assert promoted.json["status"] == "confirmed" and promoted.json["has_place"] is True
    assert event_types(engine, waiting_b)[-1] == "registration.promoted"
    assert _action(client, meeting_id, waiting_a, "promote", headers).status_code == 409
    assert _seats(engine, meeting_id) == (2, 2, 2)
    assert "registration.promoted" not in event_types(engine, waiting_a)
    assert second


def test_concurrent_promotions_for_one_free_place_give_it_exactly_once(app, engine, settings):
    meeting_id = publish_meeting(engine, capacity=1)
    holder = registered(engine, settings, meeting_id, 0)
    waiting = [registered(engine, settings, meeting_id, i) for i in range(1, 9)]
    _close(engine, meeting_id, 1)
    headers = bearer(organiser(meeting_id))
    assert _action(app.test_client(), meeting_id, holder, "cancel", headers).status_code == 200
    results = []

    def promote(registration_id):
        results.append(_action(app.test_client(), meeting_id, registration_id, "promote", headers).status_code)

    threads = [threading.Thread(target=promote, args=(r,)) for r in waiting]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [409] * 7
    assert _seats(engine, meeting_id) == (1, 1, 1)
    assert sum(event_types(engine, r).count("registration.promoted") for r in waiting) == 1


def test_an_organisers_cancellation_is_marked_as_such_and_the_next_in_line_gets_the_place(client, engine, settings):
    meeting_id = publish_meeting(engine, capacity=1)
    holder = registered(engine, settings, meeting_id, 1)
    next_in_line = registered(engine, settings, meeting_id, 2)
    r = _action(client, meeting_id, holder, "cancel", bearer(organiser(meeting_id)))
    assert r.status_code == 200 and r.json["status"] == "cancelled" and r.json["cancelled_by"] == "organiser"
    cancelled = events_for(engine, holder)[-1]
    assert cancelled["type"] == "registration.cancelled" and cancelled["payload"]["cancelled_by"] == "organiser"
    assert event_types(engine, next_in_line)[-1] == "registration.promoted"
    assert _seats(engine, meeting_id) == (1, 1, 1)


def test_the_organisers_confirmation_emits_registration_confirmed_like_the_participants_own_link(
        client, engine, settings):
    meeting_id = publish_meeting(engine, capacity=1)
    with_place = registered(engine, settings, meeting_id, 1, confirm=False)
    without = registered(engine, settings, meeting_id, 2, confirm=False)
    headers = bearer(organiser(meeting_id))
    assert _action(client, meeting_id, with_place, "confirm", headers).json["status"] == "confirmed"
    assert event_types(engine, with_place) == ["registration.received", "registration.confirmed"]
    assert events_for(engine, with_place)[-1]["payload"]["links"]["manage_url"]
    assert _action(client, meeting_id, without, "confirm", headers).json["status"] == "waitlisted"
    assert event_types(engine, without)[-1] == "registration.waitlisted"
    again = _action(client, meeting_id, with_place, "confirm", headers)
    assert again.status_code == 409 and len(events_for(engine, with_place)) == 2


def test_moving_to_the_waiting_list_emits_registration_waitlisted_and_the_place_goes_to_the_next(
        client, engine, settings):
    meeting_id = publish_meeting(engine, capacity=1)
    holder = registered(engine, settings, meeting_id, 1)
    next_in_line = registered(engine, settings, meeting_id, 2)
    r = _action(client, meeting_id, holder, "waitlist", bearer(organiser(meeting_id)))
    assert r.status_code == 200 and r.json["status"] == "waitlisted" and r.json["waitlist_position"] == 1
    assert event_types(engine, holder)[-1] == "registration.waitlisted"
    assert event_types(engine, next_in_line)[-1] == "registration.promoted"
    assert _seats(engine, meeting_id) == (1, 1, 1)


def test_bad_steps_get_4xx_with_a_message_per_field_and_change_nothing(client, engine, settings):
    meeting_id = publish_meeting(engine)
    other_meeting = publish_meeting(engine)
    cancelled = registered(engine, settings, meeting_id, 1)
    elsewhere = registered(engine, settings, other_meeting, 2)
    headers = bearer(organiser(meeting_id, other_meeting))
    assert _action(client, meeting_id, cancelled, "cancel", headers).status_code == 200
    before = len(events_for(engine, cancelled))
    url = f"/api/organiser/meetings/{meeting_id}/registrations/{cancelled}/actions"
    unknown = client.post(url, json={"action": "delete", "why": 1}, headers=headers)
    assert unknown.status_code == 422 and set(unknown.json["errors"]) == {"action", "why"}
    missing = client.post(url, json={}, headers={**headers, "Accept-Language": "en"})
    assert missing.status_code == 422 and missing.json["errors"] == {"action": ["Required."]}
    assert client.post(url, data="action=cancel", headers=headers).status_code == 415
    assert _action(client, meeting_id, cancelled, "cancel", headers).status_code == 409
    assert _action(client, meeting_id, cancelled, "promote", headers).status_code == 409
    # A registration of another meeting is not reachable through this meeting's address.
    assert _action(client, meeting_id, elsewhere, "cancel", headers).status_code == 404
    assert _action(client, meeting_id, str(uuid.uuid4()), "cancel", headers).status_code == 404
    assert len(events_for(engine, cancelled)) == before and event_types(engine, elsewhere)[-1] == "registration.confirmed"


def test_each_step_on_the_page_asks_first_and_its_form_needs_the_csrf_token(client, engine, settings):
    meeting_id = publish_meeting(engine, capacity=5)
    registration_id = registered(engine, settings, meeting_id, 1)
    sign_in_browser(client, organiser(meeting_id))
    detail = client.get(f"/organiser/meetings/{meeting_id}/registrations/{registration_id}")
    assert detail.status_code == 200 and "Anmeldung stornieren …" in detail.text
    url = f"/organiser/meetings/{meeting_id}/registrations/{registration_id}/cancel"
    question = client.get(url)
    assert question.status_code == 200 and "Anmeldung stornieren?" in question.text
    assert client.post(url, data={}).status_code == 400  # no CSRF token: refused, nothing happens
    assert event_types(engine, registration_id)[-1] == "registration.confirmed"
    done = client.post(url, data={"csrf_token": page_csrf(question.text)})
    assert done.status_code == 303
    assert client.get(done.headers["Location"]).text.count("Die Anmeldung ist storniert.") == 1
    assert event_types(engine, registration_id)[-1] == "registration.cancelled"
    # Asked again, the page says the step no longer fits and offers no form.
    again = client.get(url)
    assert "Dieser Schritt passt nicht" in again.text and 'name="csrf_token"' not in again.text
    late = client.post(url, data={"csrf_token": page_csrf(question.text)})
    assert late.status_code == 409 and "bereits storniert" in late.text
