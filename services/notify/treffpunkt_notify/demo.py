"""Demo data for the organisers' preview page: every mail of the catalogue, rendered as it would be sent."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from . import catalogue

_MEETING_ID = "00000000-0000-4000-8000-000000000001"
_REG = "00000000-0000-4000-8000-0000000000aa"
_START = datetime(2030, 9, 16, 8, 0, tzinfo=timezone.utc)


def _iso(d: datetime) -> str:
    return d.isoformat()


MEETING = {"meeting_id": _MEETING_ID, "title": "2. Landesnetzwerktreffen der Ausländerbehörden",
           "starts_at": _iso(_START), "ends_at": _iso(_START + timedelta(hours=6)), "timezone": "Europe/Berlin",
           "venue": {"name": "Regierungspräsidium Darmstadt", "address": "Luisenplatz 2, 64283 Darmstadt",
                     "room": "Ludwig-Bergsträßer-Saal"}, "theme": "Wissensmanagement"}
PARTICIPANT = {"first_name": "Erika", "last_name": "Musterfrau", "email": "erika.musterfrau@example.org",
               "organisation": "Ausländerbehörde Gießen", "function": "Sachgebietsleitung", "language": "de"}
LINKS = {"confirm_url": "https://example.org/anmeldung/bestaetigen/DEMO",
         "manage_url": "https://example.org/anmeldung/DEMO", "calendar_url": "https://example.org/anmeldung/DEMO.ics"}


def _item(item_id, title, hour, kind="discussion_round", room="Raum 1.12", minutes=60):
    start = _START.replace(hour=hour)
    return {"item_id": item_id, "kind": kind, "title": title, "starts_at": _iso(start),
            "ends_at": _iso(start + timedelta(minutes=minutes)), "room": room, "status": "scheduled",
            "documents": [], "speakers": [], "moderators": [], "guiding_questions": []}


ITEMS = [_item("welcome", "Begrüßung und Einführung", 8, "welcome", "Ludwig-Bergsträßer-Saal", 30),
         _item("r1", "Diskussionsrunde 1: Ungeklärte Identität", 9),
         _item("r2", "Diskussionsrunde 2: Zugang zum Arbeitsmarkt", 9, room="Raum 1.14"),
         _item("lunch", "Mittagessen", 11, "lunch", "Kantine")]
ROUNDS = [{"item_id": "r1", "title": ITEMS[1]["title"], "kind": "discussion_round", "starts_at": ITEMS[1]["starts_at"],
           "ends_at": ITEMS[1]["ends_at"], "room": "Raum 1.12", "held": True}]
RECIPIENT = SimpleNamespace(registration_id=_REG, meeting_id=_MEETING_ID, sequence=2, status="confirmed",
                            participant=PARTICIPANT, organisation=PARTICIPANT["organisation"], rounds=ROUNDS,
                            links=LINKS, registered_at=_START - timedelta(days=30), confirmed_at=None,
                            cancelled_at=None)
ORGANISER = {"name": "Max Mustermann", "email": "max.mustermann@example.org"}


def _registration(status="confirmed", **extra):
    return {"registration_id": _REG, "sequence": 2, "status": status, "waitlist_position": 4,
            "meeting": MEETING, "participant": PARTICIPANT, "rounds": ROUNDS, "links": LINKS,
            "confirm_by": _iso(_START - timedelta(days=40)), "cancelled_by": "participant",
            "previous_status": "confirmed", **extra}


def _changes():
    moved = dict(ITEMS[1], starts_at=_iso(_START.replace(hour=10)), ends_at=_iso(_START.replace(hour=11)))
    return catalogue.merge_changes([[
        {"item_id": "r1", "title": ITEMS[1]["title"], "kind": "discussion_round", "change": "updated",
         "moved": {"from": {"starts_at": ITEMS[1]["starts_at"], "ends_at": ITEMS[1]["ends_at"]},
                   "to": {"starts_at": moved["starts_at"], "ends_at": moved["ends_at"]}}, "item": moved},
        {"item_id": "lunch", "title": "Mittagessen", "kind": "lunch", "change": "updated",
         "room": {"from": "Kantine", "to": "Foyer"}, "item": ITEMS[3]}]]), [ITEMS[0], moved, ITEMS[2], ITEMS[3]]


def preview(settings, kind: str) -> catalogue.Prepared:
    """The mail ``kind`` rendered with demo data (KeyError for an unknown kind)."""
    builders = {
        **{k: (lambda k=k: catalogue.registration_mail(settings, k, _registration(
            status={"registration_received": "pending", "registration_waitlisted": "waitlisted",
                    "registration_cancelled": "cancelled"}.get(k, "confirmed")), envelope_id="demo"))
           for k in catalogue.REGISTRATION_MAILS.values()},
        "agenda_published": lambda: catalogue.agenda_published_mail(
            settings, MEETING, {"revision": 1, "items": ITEMS}, RECIPIENT),
        "agenda_changed": lambda: catalogue.agenda_changed_mail(
            settings, MEETING, _changes()[0], from_revision=1, to_revision=3, times_changed=True,
            recipient=RECIPIENT, agenda_items=_changes()[1], meeting_revision=1),
        "reminder": lambda: catalogue.reminder_mail(settings, MEETING, 1, RECIPIENT, ITEMS),
        "round_results": lambda: catalogue.round_results_mail(settings, {
            "meeting": MEETING, "published_at": _iso(_START + timedelta(days=3)),
            "round": dict(ITEMS[1], documents=[{"document_id": "d1", "kind": "result", "filename": "Ergebnis.pdf",
                                                "content_type": "application/pdf", "size": 1000,
                                                "url": "https://example.org/dokumente/Ergebnis.pdf"}]),
            "result": "Die Runde hat drei Verfahrensweisen verglichen.\n\nEmpfehlung: ein gemeinsames Merkblatt."},
            RECIPIENT),
        "broadcast": lambda: catalogue.broadcast_mail(settings, MEETING, SimpleNamespace(
            id="demo", subject="Hinweis zur Anreise / Travel note",
            body="Bitte beachten Sie die Baustelle am Luisenplatz.\n\nPlease note the roadworks.",
            created_by="Max Mustermann"), RECIPIENT),
        "organiser_digest": lambda: catalogue.digest_mail(
            settings, MEETING, ORGANISER, since=_START - timedelta(days=31), until=_START - timedelta(days=30),
            new=[RECIPIENT], cancelled=[], counts={"confirmed": 41, "waitlisted": 3, "pending": 2}),
        "organiser_mail_failed": lambda: catalogue.mail_failed_mail(settings, MEETING, ORGANISER, {
            "mail_id": "demo", "recipient": PARTICIPANT["email"], "kind": "reminder", "subject": "Erinnerung",
            "attempts": 1, "error": "550 5.1.1 Mailbox unavailable", "registration_id": _REG}),
    }
    return builders[kind]()
