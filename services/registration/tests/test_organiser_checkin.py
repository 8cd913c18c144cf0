"""Check-in on the day and the attendance figures per authority."""
from __future__ import annotations

import re
from datetime import timedelta

from registration_testing import MEETING_START, bearer, organiser, page_csrf, publish_meeting, registered, sign_in_browser

TWO_DAYS = {"ends_at": (MEETING_START + timedelta(days=1, hours=6)).isoformat()}
DAY1, DAY2 = MEETING_START.date().isoformat(), (MEETING_START.date() + timedelta(days=1)).isoformat()


def _mark(client, meeting_id, headers, registration_id, day, attended=True):
    return client.post(f"/api/organiser/meetings/{meeting_id}/attendance", headers=headers,
                       json={"registration_id": registration_id, "day": day, "attended": attended})


def test_check_in_marks_confirmed_participants_present_per_day_and_can_be_undone(client, engine, settings):
    meeting_id = publish_meeting(engine, **TWO_DAYS)
    giessen = [registered(engine, settings, meeting_id, i) for i in range(3)]
    bamf = registered(engine, settings, meeting_id, 5, organisation="BAMF")
    headers = bearer(organiser(meeting_id))
    assert _mark(client, meeting_id, headers, giessen[0], DAY1).json["changed"] is True
    assert _mark(client, meeting_id, headers, giessen[0], DAY1).json["changed"] is False  # twice: once
    assert _mark(client, meeting_id, headers, giessen[1], DAY1).status_code == 200
    assert _mark(client, meeting_id, headers, giessen[0], DAY2).status_code == 200
    assert _mark(client, meeting_id, headers, bamf, DAY2).status_code == 200
    assert _mark(client, meeting_id, headers, giessen[1], DAY1, attended=False).json["changed"] is True  # undo
    figures = client.get(f"/api/organiser/meetings/{meeting_id}/attendance", headers=headers).json
    by_key = {a["authority_key"]: a for a in figures["authorities"]}
    assert by_key["ausländerbehörde giessen"] | {"name": None} == {
        "authority_key": "ausländerbehörde giessen", "name": None, "confirmed": 3,
        "per_day": {DAY1: 1, DAY2: 1}, "any_day": 1}
    assert by_key["bamf"]["per_day"] == {DAY1: 0, DAY2: 1} and by_key["bamf"]["any_day"] == 1
    assert figures["total"] == {"confirmed": 4, "per_day": {DAY1: 1, DAY2: 2}, "any_day": 2}
    assert figures["present"] == {DAY1: [giessen[0]], DAY2: sorted([giessen[0], bamf])}


def test_only_confirmed_participants_of_the_meeting_on_its_days_can_be_checked_in(client, engine, settings):
    meeting_id = publish_meeting(engine, capacity=1)
    other_meeting = publish_meeting(engine)
    registered(engine, settings, meeting_id, 1)
    waiting = registered(engine, settings, meeting_id, 2)
    elsewhere = registered(engine, settings, other_meeting, 3)
    headers = bearer(organiser(meeting_id, other_meeting))
    refused = _mark(client, meeting_id, headers, waiting, DAY1)
    assert refused.status_code == 409 and "Nur bestätigte" in refused.json["message"]
    assert _mark(client, meeting_id, headers, elsewhere, DAY1).status_code == 404
    bad = client.post(f"/api/organiser/meetings/{meeting_id}/attendance", headers={**headers, "Accept-Language": "en"},
                      json={"day": DAY2, "attended": "ja", "seat": 4})
    assert bad.status_code == 422
    assert bad.json["errors"] == {"registration_id": ["Required."], "day": ["Not a day of this meeting (YYYY-MM-DD)."],
                                  "attended": ["Please give true or false."], "seat": ["Unknown field."]}


def test_the_check_in_page_marks_present_and_undoes_with_forms_that_need_the_csrf_token(client, engine, settings):
    meeting_id = publish_meeting(engine)
    anna = registered(engine, settings, meeting_id, 1, first_name="Anna", last_name="Becker")
    registered(engine, settings, meeting_id, 2, first_name="Bernd", last_name="Schäfer")
    sign_in_browser(client, organiser(meeting_id))
    url = f"/organiser/meetings/{meeting_id}/checkin/{DAY1}"
    page = client.get(url)
    assert page.status_code == 200 and "0 von 2" in page.text
    assert 'aria-label="Anna Becker: als anwesend markieren"' in page.text
    action = f"/organiser/meetings/{meeting_id}/checkin/{DAY1}/{anna}"
    assert client.post(action, data={"attended": "1"}).status_code == 400  # no CSRF token
    marked = client.post(action, data={"attended": "1", "csrf_token": page_csrf(page.text), "q": "becker"})
    assert marked.status_code == 303 and marked.headers["Location"].endswith(f"#r-{anna}")
    after = client.get(marked.headers["Location"].split("#")[0])
    assert "1 von 2" in after.text and "Schäfer" not in after.text  # the search is kept
    assert 'aria-label="Anna Becker: Check-in rückgängig machen"' in after.text
    undone = client.post(action, data={"attended": "0", "csrf_token": page_csrf(after.text)})
    assert undone.status_code == 303 and "0 von 2" in client.get(url).text
    figures = client.get(f"/organiser/meetings/{meeting_id}/attendance")
    assert figures.status_code == 200 and re.search(r'<th scope="row">Gesamt</th><td class="num">2</td>', figures.text)
    assert client.get(f"/organiser/meetings/{meeting_id}/checkin/2001-01-01").status_code == 404
