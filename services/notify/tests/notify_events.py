"""Builders for the events notify consumes in its tests (valid under the shared contracts)."""
from __future__ import annotations

import copy
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from treffpunkt_notify.app import MIGRATIONS
from treffpunkt_notify.config import Settings
from treffpunkt_notify.worker import worker_parts
from treffpunkt_shared.contracts import encode, make_envelope
from treffpunkt_shared.db import make_engine, upgrade_database

MEETING_ID = "6f1c1e0e-4a55-4f4e-9a37-0d7c2b0b6a11"
ROUND_A, ROUND_B = "round-identity", "round-labour"
START = datetime(2030, 9, 16, 8, 0, tzinfo=timezone.utc)


def meeting_snapshot(**overrides) -> dict:
    m = {"meeting_id": MEETING_ID, "title": "2. Landesnetzwerktreffen", "starts_at": START.isoformat(),
         "ends_at": (START + timedelta(hours=6)).isoformat(), "timezone": "Europe/Berlin",
         "venue": {"name": "Regierungspräsidium Darmstadt", "address": "Luisenplatz 2, 64283 Darmstadt",
                   "room": "Ludwig-Bergsträßer-Saal"}, "theme": "Wissensmanagement"}
    m.update(overrides)
    return m


def meeting_state(revision=1, organisers=(), **overrides) -> dict:
    """``organisers``: (name, email) or (name, email, account id) each."""
    return {**meeting_snapshot(**overrides), "status": "published", "capacity": 80, "revision": revision,
            "organisers": [dict(zip(("name", "email", "organiser_id"), o)) for o in organisers]}


def item(item_id, title, hour, *, kind="discussion_round", room="Raum 1", minutes=60, status="scheduled") -> dict:
    start = START.replace(hour=hour)
    return {"item_id": item_id, "kind": kind, "title": title, "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(minutes=minutes)).isoformat(), "room": room, "status": status,
            "documents": [], "speakers": [], "moderators": [], "guiding_questions": []}


def agenda(revision=1, items=None) -> dict:
    return {"meeting_id": MEETING_ID, "revision": revision, "timezone": "Europe/Berlin",
            "items": items if items is not None else [
                item("welcome", "Begrüßung", 8, kind="welcome", room="Ludwig-Bergsträßer-Saal", minutes=30),
                item(ROUND_A, "Ungeklärte Identität", 9),
                item(ROUND_B, "Arbeitsmarktzugang", 9, room="Raum 2")]}


def registration(*, status="confirmed", sequence=1, email="erika@example.org", first="Erika", last="Muster",
                 organisation="Ausländerbehörde Gießen", rounds=(ROUND_A,), registration_id=None, **overrides):
    titles = {ROUND_A: "Ungeklärte Identität", ROUND_B: "Arbeitsmarktzugang"}
    rid = registration_id or str(uuid.uuid4())
    p = {"registration_id": rid, "sequence": sequence, "status": status,
         "waitlist_position": 3 if status == "waitlisted" else None, "meeting": meeting_snapshot(),
         "participant": {"first_name": first, "last_name": last, "email": email, "organisation": organisation,
                         "function": "Sachbearbeitung", "language": "de"},
         "rounds": [{"item_id": r, "title": titles[r], "starts_at": START.replace(hour=9).isoformat(),
                     "ends_at": START.replace(hour=10).isoformat(), "room": "Raum 1" if r == ROUND_A else "Raum 2",
                     "held": status == "confirmed"} for r in rounds],
         "links": {"manage_url": f"https://anmeldung.example.org/r/{rid}/tok-manage",
                   "calendar_url": f"https://anmeldung.example.org/r/{rid}/termin.ics"}}
    if status == "pending":
        p["links"]["confirm_url"] = f"https://anmeldung.example.org/bestaetigen/tok-{rid}"
        p["confirm_by"] = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    p.update(overrides)
    return p


class Events:
    """Publishes contract envelopes onto the test's exchange, as the other services would."""

    def __init__(self, broker, namespace):
        self.broker, self.namespace = broker, namespace

    def publish(self, contract, payload=None, *, envelope=None) -> dict:
        envelope = envelope or make_envelope(contract, copy.deepcopy(payload), producer="test")
        self.broker.publish_raw(f"{self.namespace}.events", contract.type, encode(envelope),
                                content_type="application/json", message_id=envelope["id"])
        return envelope


def start_worker(settings, engine, *, without=(), **kwargs):
    """The worker's parts, each on its thread; those named in ``without`` (e.g. the scheduler, which the
    test then drives itself) are left out."""
    parts = {name: part for name, part in worker_parts(settings, engine, **kwargs).items() if name not in without}
    for part in parts.values():
        threading.Thread(target=part.run, daemon=True).start()
    assert parts["consumer"].ready.wait(15)
    return parts
