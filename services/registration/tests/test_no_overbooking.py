"""No overbooking, ever: 300 concurrent registrations for 100 places, with rounds and an authority quota
smaller still, on PostgreSQL. Run several times (``OVERBOOKING_RUNS``, default 2) because a race shows only
sometimes."""
import os
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
import sqlalchemy as sa

from treffpunkt_registration.app import create_app
from treffpunkt_registration.models import authority_places, registration_rounds, registrations, rounds
from registration_testing import outbox_events, person, publish_agenda, publish_meeting, round_item

AUTHORITIES = [f"Ausländerbehörde {city}" for city in (
    "Gießen", "Kassel", "Darmstadt", "Offenbach", "Wiesbaden", "Marburg", "Fulda", "Hanau", "Wetzlar", "Limburg",
    "Frankfurt am Main", "Bad Homburg")]
QUOTA, CAPACITY, PEOPLE = 9, 100, 300
ROUND_CAPACITY = {"r1": 30, "r2": 40}
RUNS = int(os.environ.get("OVERBOOKING_RUNS", "2"))


@pytest.mark.parametrize("run", range(RUNS))
def test_300_concurrent_registrations_fill_exactly_100_places_and_no_round_or_quota_overflows(
        settings, engine, run):
    settings = replace(settings, rate_limit_per_address=10_000)
    app = create_app(settings, engine=engine)
    meeting_id = publish_meeting(engine, capacity=CAPACITY)
    with engine.begin() as tx:
        tx.execute(sa.text("UPDATE meetings SET authority_quota = :q"), {"q": QUOTA})
    publish_agenda(engine, meeting_id, [
        round_item("r1", "Diskussionsrunde 1", 1, 2.5, capacity=ROUND_CAPACITY["r1"]),
        round_item("r2", "Diskussionsrunde 2", 1, 2.5, capacity=ROUND_CAPACITY["r2"]),
        round_item("w1", "Workshop", 3, 4.5, kind="workshop")])
    rng = random.Random(run)
    wishes = [rng.choice([["r1"], ["r2"], ["r1", "w1"], []]) for _ in range(PEOPLE)]
    barrier = threading.Barrier(32)
    round_full_answers = Counter()

    def register(i):
        client = app.test_client()
        if i < 32:
            barrier.wait()
        body = person(i, organisation=AUTHORITIES[i % len(AUTHORITIES)], rounds=wishes[i])
        r = client.post(f"/api/meetings/{meeting_id}/registrations", json=body)
        if r.status_code == 409 and r.json["error"] == "round_full":
            # As a person would: choose again, without the full round.
            round_full_answers[i] += 1
            body["rounds"] = [x for x in body["rounds"] if x not in r.json["errors"]["rounds"]]
            r = client.post(f"/api/meetings/{meeting_id}/registrations", json=body)
        assert r.status_code == 201, r.text
        return r.json

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(register, range(PEOPLE)))

    assert sum(r["has_place"] for r in results) == CAPACITY
    with engine.connect() as conn:
        rows = conn.execute(sa.select(registrations)).all()
        held = Counter(r.item_id for r in conn.execute(
            sa.select(registration_rounds.c.item_id).where(registration_rounds.c.held.is_(True))))
        round_counters = dict(conn.execute(sa.select(rounds.c.item_id, rounds.c.places_taken)).all())
        quota_counters = dict(conn.execute(sa.select(authority_places.c.authority_key,
                                                     authority_places.c.places_taken)).all())
        seats = conn.execute(sa.text("SELECT seats_taken FROM meetings")).scalar()
    assert seats == CAPACITY == sum(r.has_place for r in rows)
    # Rounds: never past their capacity, and the counters agree with the held choices.
    for item_id, capacity in ROUND_CAPACITY.items():
        assert held[item_id] <= capacity and round_counters[item_id] == held[item_id]
    assert round_counters["w1"] == held["w1"]
    # Quota: nobody's authority holds more than its quota, and the counters agree.
    per_authority = Counter(r.authority_key for r in rows if r.has_place)
    assert max(per_authority.values()) <= QUOTA and per_authority == Counter(
        {k: v for k, v in quota_counters.items() if v})
    # The waiting list: 200 people, positions 1..200 in the order of their tickets, no gaps, no repeats.
    waiting = sorted((r for r in results if not r["has_place"]), key=lambda r: r["waitlist_position"])
    assert [r["waitlist_position"] for r in waiting] == list(range(1, PEOPLE - CAPACITY + 1))
    tickets = {r.id: r.waitlist_ticket for r in rows}
    assert [tickets[r["id"]] for r in waiting] == sorted(tickets[r["id"]] for r in waiting)
    # Exactly one event per registration, saying what its row says.
    events = outbox_events(engine)
    assert Counter(e["payload"]["registration_id"] for e in events) == Counter({r.id: 1 for r in rows})
    by_row = {r.id: r.has_place for r in rows}
    assert all((e["payload"]["waitlist_position"] is None) == by_row[e["payload"]["registration_id"]]
               for e in events)

    # Everybody confirms at once: 100 confirmations, 200 waiting-list places, each mailed once.
    links = {e["payload"]["registration_id"]: e["payload"]["links"]["confirm_url"].rsplit("/", 1)[1]
             for e in events}

    def confirm(r):
        return app.test_client().get(f"/bestaetigen/{links[r['id']]}").status_code

    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(confirm, results)) == {303}
    kinds = Counter(e["type"] for e in outbox_events(engine))
    assert kinds["registration.confirmed"] == CAPACITY and kinds["registration.waitlisted"] == PEOPLE - CAPACITY
    positions = sorted(e["payload"]["waitlist_position"] for e in outbox_events(engine)
                       if e["type"] == "registration.waitlisted")
    assert positions == list(range(1, PEOPLE - CAPACITY + 1))
