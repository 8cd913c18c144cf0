"""Helpers for the registration service's tests (fixtures are in conftest.py): meetings and agendas put into
the read model as their events would, participants, the links an event carries, the outbox's events."""
from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from treffpunkt_registration.agenda_model import apply_agenda
from treffpunkt_registration.meetings import apply_meeting_published
from treffpunkt_registration.models import outbox
from treffpunkt_shared.contracts import AGENDA_PUBLISHED, MEETING_PUBLISHED

SECRET = "registration-test-secret-" + "r" * 32
# A meeting in the future, so that changes through the personal link are still allowed.
MEETING_START = (datetime.now(timezone.utc) + timedelta(days=60)).replace(hour=8, minute=0, second=0, microsecond=0)


def publish_meeting(engine, capacity=60, revision=1, meeting_id=None, **extra) -> str:
    meeting_id = meeting_id or str(uuid.uuid4())
    payload = {"meeting_id": meeting_id, "title": "2. Landesnetzwerktreffen", "series": "", "number": 2,
               "starts_at": MEETING_START.isoformat(), "ends_at": (MEETING_START + timedelta(hours=6)).isoformat(),
               "timezone": "Europe/Berlin", "host": "", "description": "", "theme": "Wissensmanagement",
               "venue": {"name": "Regierungspräsidium Darmstadt", "address": "Luisenplatz 2, 64283 Darmstadt",
                         "room": "Ludwig-Bergsträßer-Saal"},
               "capacity": capacity, "registration_opens_at": None, "registration_closes_at": None,
               "revision": revision, **extra}
    loaded = MEETING_PUBLISHED.load_payload(json.loads(json.dumps(payload)))
    with engine.begin() as tx:
        apply_meeting_published(tx, loaded)
    return meeting_id


def round_item(item_id: str, title: str, start_h: float, end_h: float, capacity=None, kind="discussion_round",
               status="scheduled") -> dict:
    return {"item_id": item_id, "kind": kind, "title": title, "status": status, "capacity": capacity,
            "starts_at": (MEETING_START + timedelta(hours=start_h)).isoformat(),
            "ends_at": (MEETING_START + timedelta(hours=end_h)).isoformat(), "room": f"Raum {item_id}",
            "guiding_questions": ["Welche Verfahrensweisen gibt es bei ungeklärter Identität?"]}


def publish_agenda(engine, meeting_id: str, items: list[dict], revision: int = 1) -> None:
    welcome = {"item_id": "welcome", "kind": "welcome", "title": "Begrüßung", "status": "scheduled",
               "starts_at": MEETING_START.isoformat(), "ends_at": (MEETING_START + timedelta(minutes=30)).isoformat(),
               "speakers": [{"name": "Werner Appel"}]}
    payload = AGENDA_PUBLISHED.load_payload(json.loads(json.dumps({
        "meeting": {"meeting_id": meeting_id, "title": "2. Landesnetzwerktreffen",
                    "starts_at": MEETING_START.isoformat(), "ends_at": (MEETING_START + timedelta(hours=6)).isoformat(),
                    "venue": {"name": "Regierungspräsidium Darmstadt"}},
        "agenda": {"meeting_id": meeting_id, "revision": revision, "items": [welcome, *items]}})))
    with engine.begin() as tx:
        apply_agenda(tx, meeting_id, payload["agenda"])


def person(i=0, **overrides) -> dict:
    return {"first_name": "Erika", "last_name": f"Muster{i}", "email": f"erika{i}@example.org",
            "organisation": "Ausländerbehörde Gießen", "function": "Sachgebietsleitung", "privacy_consent": True,
            **overrides}


def form_token(client, meeting_id) -> str:
    """The CSRF token of the registration form, as a browser gets it (its cookie stays in the client)."""
    page = client.get(f"/meetings/{meeting_id}")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def page_csrf(page_text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_text).group(1)


def outbox_events(engine) -> list[dict]:
    with engine.connect() as conn:
        return [json.loads(r.body) for r in conn.execute(sa.select(outbox).order_by(outbox.c.seq))]


def events_for(engine, registration_id: str) -> list[dict]:
    return [e for e in outbox_events(engine) if e["payload"].get("registration_id") == registration_id]


def token_of(url: str) -> str:
    return url.rstrip("/").split("/")[-1] if not url.endswith(".ics") else url.split("/")[-2]


def confirm_link(engine, registration_id: str) -> str:
    """The token of the newest confirmation link mailed for the registration (from its events)."""
    urls = [e["payload"]["links"].get("confirm_url") for e in events_for(engine, registration_id)]
    return token_of([u for u in urls if u][-1])


def manage_link(engine, registration_id: str) -> str:
    urls = [e["payload"]["links"].get("manage_url") for e in events_for(engine, registration_id)]
    return token_of([u for u in urls if u][-1])


# ------------------------------------------------------------------ the organisers' side

def organiser(*meeting_ids: str, role: str = "organiser"):
    """A signed-in organiser (token as the agenda would issue it) assigned to ``meeting_ids``."""
    import time

    from treffpunkt_shared.auth import Principal
    return Principal(id=str(uuid.uuid4()), name="Erika Organisatorin", email="orga@example.org", role=role,
                     meeting_ids=frozenset(meeting_ids), signed_in_at=int(time.time()))


def bearer(principal) -> dict:
    from treffpunkt_shared.auth import sign_token
    return {"Authorization": f"Bearer {sign_token(principal, SECRET)}"}


def sign_in_browser(client, principal) -> None:
    """The browser carries the agenda's sign-in cookie (CSRF then applies to its forms)."""
    from treffpunkt_shared.auth import SESSION_COOKIE, sign_token
    client.set_cookie(SESSION_COOKIE, sign_token(principal, SECRET))


def registered(engine, settings, meeting_id: str, i: int = 0, *, confirm: bool = True, **overrides) -> str:
    """A registration made through the participant journey (and confirmed by its link unless ``confirm``
    is False); returns its id."""
    from treffpunkt_registration import registrations as journey
    state = journey.register(engine, settings, meeting_id, person(i, **overrides))
    if confirm:
        journey.confirm(engine, settings, state["id"])
    return state["id"]


def event_types(engine, registration_id: str) -> list[str]:
    return [e["type"] for e in events_for(engine, registration_id)]
