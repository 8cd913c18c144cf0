"""The demo meeting of the embedded mode, from the seed text: the 2. Landesnetzwerktreffen of the HMSI on
16 September 2016, hosted by the Ausländerbehörde Darmstadt, with a programme built from the press release
(the breakout rooms and times are illustrative; "N. N." marks people the text does not name)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import treffpunkt_agenda.meetings as agenda_meetings
from treffpunkt_agenda.programme import Programme

BERLIN = ZoneInfo("Europe/Berlin")

DEMO_MEETING = {
    "title": "2. Landesnetzwerktreffen der hessischen Ausländerbehörden",
    "series": "Landesnetzwerktreffen", "number": 2,
    "starts_at": datetime(2016, 9, 16, 10, 0, tzinfo=BERLIN),
    "ends_at": datetime(2016, 9, 16, 16, 0, tzinfo=BERLIN),
    "days": [{"date": datetime(2016, 9, 16).date(), "starts_at": datetime(2016, 9, 16, 10, 0, tzinfo=BERLIN),
              "ends_at": datetime(2016, 9, 16, 16, 0, tzinfo=BERLIN)}],
    "timezone": "Europe/Berlin",
    "host": "Ausländerbehörde der Wissenschaftsstadt Darmstadt",
    "venue": {"name": "Regierungspräsidium Darmstadt", "address": "Luisenplatz 2, 64283 Darmstadt",
              "room": "Ludwig-Bergsträßer-Saal"},
    "rooms": [{"room_id": None, "name": "Ludwig-Bergsträßer-Saal", "capacity": 80},
              {"room_id": None, "name": "Besprechungsraum 1", "capacity": 25},
              {"room_id": None, "name": "Besprechungsraum 2", "capacity": 25}],
    "theme": "Wissensmanagement",
    "description": ("Austausch über den Umgang der hessischen Ausländerbehörden mit dem Thema "
                    "Wissensmanagement und Lösungsansätze, alle Mitarbeiterinnen und Mitarbeiter auf demselben "
                    "Wissensstand zu halten. Diskussionsrunde u. a. zu: „Welche Verfahrensweisen gibt es bei "
                    "ungeklärter Identität?“"),
    "capacity": 60,
    "registration_opens_at": None, "registration_closes_at": None,
}

NN_HMSI = {"name": "N. N.", "function": "Moderation", "authority": "Hessisches Ministerium für Soziales und Integration"}


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(2016, 9, 16, hour, minute, tzinfo=BERLIN)


def _programme(rooms: dict[str, str]) -> list[dict]:
    saal, r1, r2 = rooms["Ludwig-Bergsträßer-Saal"], rooms["Besprechungsraum 1"], rooms["Besprechungsraum 2"]

    def item(kind, title, start, end, room, **extra):
        return {"kind": kind, "title": title, "description": extra.get("description", ""), "starts_at": start,
                "ends_at": end, "room_id": room, "speakers": extra.get("speakers", []),
                "moderators": extra.get("moderators", []), "capacity": extra.get("capacity"),
                "guiding_questions": extra.get("questions", [])}

    return [
        item("welcome", "Begrüßung", _at(10), _at(10, 15), saal,
             speakers=[{"name": "Werner Appel", "function": "Leiter des Bürger- und Ordnungsamtes",
                        "authority": "Wissenschaftsstadt Darmstadt"}]),
        item("talk", "Wissensmanagement in den hessischen Ausländerbehörden: Austausch über den derzeitigen Umgang",
             _at(10, 15), _at(11, 15), saal, moderators=[NN_HMSI]),
        item("discussion_round", "Flüchtlingsangelegenheiten in der Behörde", _at(11, 15), _at(12, 30), r1,
             capacity=25, moderators=[NN_HMSI],
             questions=["Welche Ansätze wurden gefunden, um die Bearbeitung von Flüchtlingsangelegenheiten in "
                        "Behörden zu gewährleisten?"]),
        item("discussion_round", "Ungeklärte Identität", _at(11, 15), _at(12, 30), r2, capacity=25,
             moderators=[{"name": "N. N.", "function": "Moderation", "authority": "Ausländerbehörde Darmstadt"}],
             questions=["Welche Verfahrensweisen gibt es bei ungeklärter Identität?"]),
        item("lunch", "Mittagessen", _at(12, 30), _at(13, 30), None),
        item("workshop", "Lösungsansätze: alle Mitarbeiterinnen und Mitarbeiter auf demselben Wissensstand",
             _at(13, 30), _at(15, 30), saal, capacity=60, moderators=[NN_HMSI],
             questions=["Wie werden neue Erlasse und Rechtsprechung im Team bekannt gemacht?",
                        "Welche Werkzeuge (Wiki, Handbuch, Teambesprechung) haben sich bewährt?"]),
        item("closing", "Abschluss und Ausblick auf das nächste Landesnetzwerktreffen", _at(15, 30), _at(16), saal),
    ]


def seed_demo(engine, base_url: str) -> None:
    """Create, publish and give a published agenda to the demo meeting, once."""
    if agenda_meetings.list_meetings(engine):
        return
    meeting = agenda_meetings.create_meeting(engine, DEMO_MEETING)
    rooms = {r["name"]: r["room_id"] for r in meeting["rooms"]}
    programme = Programme(engine, base_url)
    for entry in _programme(rooms):
        programme.add_item(meeting["id"], entry)
    agenda_meetings.publish_meeting(engine, meeting["id"])
    programme.publish_agenda(meeting["id"])
