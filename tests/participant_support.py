"""Shared by the participant-side browser tests: a meeting with two parallel discussion rounds made through the
agenda's JSON API, and the links in the mails a participant receives.

Not a test module: ``from participant_support import ...`` (after putting tests/ on sys.path).
"""
from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

import requests

from treffpunkt_shared.testing import parse_mail as shared_parse_mail

ROUND_A = "Ungeklärte Identität"
ROUND_B = "Flüchtlingsangelegenheiten in der Behörde"
LINK = re.compile(r"https?://[^\s\"'<>]+")


@dataclass(frozen=True)
class RoundsMeeting:
    id: str
    title: str
    day: date
    round_ids: dict  # {title: item_id in the agenda (the value of its radio button)}


def create_meeting_with_rounds(agenda_api: str, token: str, *, capacity: int, round_capacity: int | None = None,
                               title: str | None = None) -> RoundsMeeting:
    """A meeting ~two months ahead with a welcome and two parallel discussion rounds (11:15–12:30), created,
    published and its agenda published by ``agenda_api`` (``…/api`` of the agenda service)."""
    auth = {"Authorization": f"Bearer {token}"}
    day = date.today() + timedelta(days=60)
    title = title or f"Landesnetzwerktreffen {uuid.uuid4().hex[:6]}"
    response = requests.post(f"{agenda_api}/meetings", headers=auth, timeout=10, json={
        "title": title, "theme": "Wissensmanagement",
        "venue": {"name": "Regierungspräsidium Darmstadt", "address": "Luisenplatz 2, 64283 Darmstadt",
                  "room": "Ludwig-Bergsträßer-Saal"},
        "days": [{"date": day.isoformat(), "starts": "10:00", "ends": "16:00"}], "capacity": capacity,
        "rooms": [{"name": "Ludwig-Bergsträßer-Saal", "capacity": 80}, {"name": "Besprechungsraum 1", "capacity": 25},
                  {"name": "Besprechungsraum 2", "capacity": 25}]})
    assert response.status_code == 201, response.text
    meeting = response.json()
    rooms = {r["name"]: r["room_id"] for r in meeting["rooms"]}

    def add(kind, item_title, start, end, room, **extra):
        r = requests.post(f"{agenda_api}/meetings/{meeting['id']}/items", headers=auth, timeout=10, json={
            "kind": kind, "title": item_title, "starts_at": f"{day}T{start}", "ends_at": f"{day}T{end}",
            "room_id": rooms[room], **extra})
        assert r.status_code == 201, r.text
        return r.json()["item_id"]

    add("welcome", "Begrüßung", "10:00", "10:15", "Ludwig-Bergsträßer-Saal",
        speakers=[{"name": "Werner Appel", "function": "Leiter des Bürger- und Ordnungsamtes"}])
    round_ids = {
        ROUND_A: add("discussion_round", ROUND_A, "11:15", "12:30", "Besprechungsraum 2", capacity=round_capacity,
                     guiding_questions=["Welche Verfahrensweisen gibt es bei ungeklärter Identität?"]),
        ROUND_B: add("discussion_round", ROUND_B, "11:15", "12:30", "Besprechungsraum 1", capacity=round_capacity),
    }
    for step in ("publish", "agenda/publish"):
        r = requests.post(f"{agenda_api}/meetings/{meeting['id']}/{step}", headers=auth, timeout=10)
        assert r.ok, r.text
    return RoundsMeeting(id=meeting["id"], title=title, day=day, round_ids=round_ids)


def wait_for_meeting_page(registration_base: str, meeting: RoundsMeeting, timeout: float = 30.0) -> None:
    """Until the registration service's read model has the meeting and both rounds (events travel a moment)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        response = requests.get(f"{registration_base}/meetings/{meeting.id}", timeout=5)
        text = response.text
        if response.status_code == 200 and all(f'value="{i}"' in text for i in meeting.round_ids.values()):
            return
        time.sleep(0.2)
    raise AssertionError(f"meeting {meeting.id} with its rounds not on the registration page:\n{text[:2000]}")


def parse_mail(data: bytes) -> EmailMessage:
    return shared_parse_mail(data)


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return body.get_content() if body else ""


def link_in(message: EmailMessage, path_part: str) -> str:
    """The first link in the mail's plain text whose path contains ``path_part`` (``/bestaetigen/``)."""
    links = [u.rstrip(".,;)") for u in LINK.findall(text_of(message)) if path_part in u]
    assert links, f"no link with {path_part!r} in:\n{text_of(message)}"
    return links[0]


def captured_mails(var: Path, recipient: str) -> list[EmailMessage]:
    """The embedded server's captured mails (var/mail/*.eml) to ``recipient``, oldest first."""
    found = []
    for path in sorted((var / "mail").glob("*.eml")):
        message = parse_mail(path.read_bytes())
        if recipient in str(message["To"]):
            found.append(message)
    return found


def wait_for_captured(var: Path, recipient: str, subject_part: str, timeout: float = 20.0) -> EmailMessage:
    """The newest captured mail to ``recipient`` whose subject contains ``subject_part``."""
    deadline = time.monotonic() + timeout
    subjects = []
    while time.monotonic() < deadline:
        mails = captured_mails(var, recipient)
        subjects = [str(m["Subject"]) for m in mails]
        matching = [m for m in mails if subject_part in str(m["Subject"])]
        if matching:
            return matching[-1]
        time.sleep(0.1)
    raise AssertionError(f"no mail to {recipient} with {subject_part!r} in the subject; got {subjects}")


def register_confirmed(server, first: str, last: str, organisation: str) -> str:
    """Register through the embedded server's API and confirm as its organiser (``server.token``); the id."""
    r = requests.post(f"{server.base_url}/api/meetings/{server.meeting_id}/registrations", timeout=10, json={
        "first_name": first, "last_name": last, "email": f"{last.lower()}.{uuid.uuid4().hex[:8]}@example.org",
        "organisation": organisation, "privacy_consent": True})
    assert r.status_code == 201, r.text
    registration_id = r.json()["id"]
    confirmed = requests.post(f"{server.base_url}/api/organiser/meetings/{server.meeting_id}/registrations/"
                              f"{registration_id}/actions", json={"action": "confirm"}, timeout=10,
                              headers={"Authorization": f"Bearer {server.token}"})
    assert confirmed.status_code == 200, confirmed.text
    return registration_id
