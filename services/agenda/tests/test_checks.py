"""The programme checks as pure functions of a meeting and its items."""
from datetime import datetime, timezone

from treffpunkt_agenda.checks import find_problems

DAY = {"starts_at": datetime(2016, 9, 16, 8, tzinfo=timezone.utc), "ends_at": datetime(2016, 9, 16, 14, tzinfo=timezone.utc)}
MEETING = {"timezone": "Europe/Berlin", "days": [DAY], "rooms": [{"room_id": "r1", "name": "A", "capacity": 10},
                                                                 {"room_id": "r2", "name": "B", "capacity": None}]}


def item(item_id, room_id, start_hour, end_hour, people=(), **extra):
    return {"item_id": item_id, "title": item_id, "kind": extra.get("kind", "talk"), "status": extra.get("status", "scheduled"),
            "room_id": room_id, "room": room_id, "starts_at": datetime(2016, 9, 16, start_hour, tzinfo=timezone.utc),
            "ends_at": datetime(2016, 9, 16, end_hour, tzinfo=timezone.utc), "speakers": list(people), "moderators": [],
            "capacity": extra.get("capacity"), "guiding_questions": extra.get("questions", ["?"])}


def codes(items):
    return sorted(p.code for p in find_problems(MEETING, items))


def test_back_to_back_items_in_one_room_are_fine_and_overlapping_ones_are_not():
    assert codes([item("a", "r1", 8, 9), item("b", "r1", 9, 10)]) == []
    assert codes([item("a", "r1", 8, 10), item("b", "r1", 9, 11)]) == ["room_double_booked"]


def test_a_cancelled_item_frees_its_room_and_its_people():
    person = {"name": "Jo Beispiel", "authority": "HMSI"}
    assert codes([item("a", "r1", 8, 10, [person]), item("b", "r1", 9, 11, [person], status="cancelled")]) == []


def test_a_placeholder_name_or_a_namesake_from_another_authority_is_not_a_person_in_two_places():
    nn = {"name": "N. N.", "authority": "HMSI"}
    assert codes([item("a", "r1", 8, 10, [nn]), item("b", "r2", 8, 10, [nn])]) == []
    assert codes([item("a", "r1", 8, 10, [{"name": "Anna Schmidt", "authority": "ABH Kassel"}]),
                  item("b", "r2", 8, 10, [{"name": "Anna Schmidt", "authority": "RP Gießen"}])]) == []
    assert codes([item("a", "r1", 8, 10, [{"name": "Anna Schmidt", "authority": "RP Gießen"}]),
                  item("b", "r2", 8, 10, [{"name": "anna  schmidt", "authority": "rp gießen"}])]) == ["person_in_two_places"]


def test_a_round_in_a_room_without_known_capacity_is_not_flagged_but_one_larger_than_its_room_is():
    assert codes([item("a", "r2", 8, 9, kind="workshop", capacity=500)]) == []
    assert codes([item("a", "r1", 8, 9, kind="workshop", capacity=11)]) == ["round_larger_than_room"]


def test_an_item_reaching_past_the_end_of_the_day_lies_outside_the_meeting():
    assert codes([item("a", None, 13, 15)]) == ["outside_meeting_days"]
