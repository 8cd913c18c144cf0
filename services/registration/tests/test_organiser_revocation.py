"""Registration believes the agenda's newest ``organiser.access_changed`` over the sign-in token: the events
go through the consumer's handler (with its inbox) into the real database, requests through the app."""
from __future__ import annotations

import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from treffpunkt_registration.meetings import make_handler
from treffpunkt_shared.auth import ADMINISTRATOR, ORGANISER, Principal, sign_token
from treffpunkt_shared.contracts import parse_envelope
from treffpunkt_shared.testing import access_changed_event

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from registration_testing import SECRET, publish_meeting  # noqa: E402


def token(organiser_id: str, *, role=ORGANISER, meetings=(), signed_in_at=None) -> dict:
    principal = Principal(id=organiser_id, name="Erika Organisatorin", email="erika@example.org", role=role,
                          meeting_ids=frozenset(meetings),
                          signed_in_at=int(time.time() - 60 if signed_in_at is None else signed_in_at))
    return {"Authorization": f"Bearer {sign_token(principal, SECRET)}"}


def consume(engine, body: bytes) -> None:
    make_handler(engine)(*parse_envelope(body, "application/json"))


def organiser_list(client, meeting_id: str, headers: dict) -> int:
    return client.get(f"/api/organiser/meetings/{meeting_id}/registrations", headers=headers).status_code


def test_an_older_access_event_arriving_after_a_newer_one_does_not_restore_access(client, engine):
    organiser_id, meeting_id = str(uuid.uuid4()), publish_meeting(engine)
    headers = token(organiser_id, meetings=[meeting_id])
    assignment = access_changed_event(organiser_id, 1, meeting_ids=[meeting_id])
    deactivation = access_changed_event(organiser_id, 2, active=False, meeting_ids=[meeting_id],
                                        not_before=datetime.now(timezone.utc).isoformat(), changes=["deactivated"])

    consume(engine, deactivation)
    assert organiser_list(client, meeting_id, headers) == 401
    consume(engine, assignment)  # late, after a retry: it must not count
    assert organiser_list(client, meeting_id, headers) == 401


def test_a_token_signed_in_after_not_before_still_works_and_one_signed_in_before_it_is_refused(client, engine):
    organiser_id, meeting_id = str(uuid.uuid4()), publish_meeting(engine)
    not_before = int(time.time()) - 30
    consume(engine, access_changed_event(
        organiser_id, 3, meeting_ids=[meeting_id], changes=["signed_out"],
        not_before=datetime.fromtimestamp(not_before, timezone.utc).isoformat()))

    assert organiser_list(client, meeting_id, token(organiser_id, meetings=[meeting_id],
                                                    signed_in_at=not_before - 1)) == 401
    for signed_in_at in (not_before, not_before + 10):
        assert organiser_list(client, meeting_id, token(organiser_id, meetings=[meeting_id],
                                                        signed_in_at=signed_in_at)) == 200


def test_role_and_meetings_come_from_the_newest_announced_access_not_from_the_token(client, engine):
    organiser_id, mine, other = str(uuid.uuid4()), publish_meeting(engine), publish_meeting(engine)
    consume(engine, access_changed_event(organiser_id, 1, meeting_ids=[mine], changes=["role_changed"]))

    demoted = token(organiser_id, role=ADMINISTRATOR)  # signed in while still an administrator
    assert organiser_list(client, other, demoted) == 403
    assert organiser_list(client, mine, demoted) == 200  # assigned since, though the token names no meeting
    listed = client.get("/api/organiser/meetings", headers=demoted).json["meetings"]
    assert [m["id"] for m in listed] == [mine]


def test_an_account_no_event_has_mentioned_is_as_its_token_says(client, engine):
    meeting_id = publish_meeting(engine)
    consume(engine, access_changed_event(str(uuid.uuid4()), 1, active=False, changes=["deactivated"]))  # another
    headers = token(str(uuid.uuid4()), meetings=[meeting_id])
    assert organiser_list(client, meeting_id, headers) == 200
