"""The embedded mode's database is SQLite, which has no row locks: concurrent registrations must still give
exactly the places there are, and never a 500."""
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import sqlalchemy as sa

from treffpunkt_registration.app import MIGRATIONS, create_app
from treffpunkt_registration.config import Settings
from treffpunkt_registration.models import meetings
from treffpunkt_shared.db import make_engine, upgrade_database
from registration_testing import SECRET, person, publish_meeting


def test_concurrent_registrations_on_sqlite_never_overbook_and_never_fail(tmp_path):
    settings = replace(Settings(), database_url=f"sqlite:///{tmp_path}/registration.db", amqp_url="memory://",
                       session_secret=SECRET, rate_limit_per_address=10_000)
    engine = make_engine(settings.database_url)
    upgrade_database(engine, MIGRATIONS)
    app = create_app(settings, engine=engine)
    meeting_id = publish_meeting(engine, capacity=5)

    def register(i):
        return app.test_client().post(f"/api/meetings/{meeting_id}/registrations", json=person(i))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(register, range(24)))
    assert [a.status_code for a in answers] == [201] * 24
    assert sum(a.json["has_place"] for a in answers) == 5
    assert sorted(a.json["waitlist_position"] for a in answers if not a.json["has_place"]) == list(range(1, 20))
    with engine.connect() as conn:
        assert conn.execute(sa.select(meetings.c.seats_taken)).scalar() == 5
    engine.dispose()


def test_the_organisers_search_on_sqlite_ignores_the_case_of_umlauts_as_on_postgresql(tmp_path):
    from registration_testing import bearer, organiser, registered
    settings = replace(Settings(), database_url=f"sqlite:///{tmp_path}/registration.db", amqp_url="memory://",
                       session_secret=SECRET)
    engine = make_engine(settings.database_url)
    upgrade_database(engine, MIGRATIONS)
    client = create_app(settings, engine=engine).test_client()
    meeting_id = publish_meeting(engine, capacity=5)
    registered(engine, settings, meeting_id, 1, first_name="Bernd", last_name="Schäfer")
    registered(engine, settings, meeting_id, 2, first_name="Özlem", last_name="Adler", organisation="BAMF")
    url = f"/api/organiser/meetings/{meeting_id}/registrations"

    def found(q):
        r = client.get(url, query_string={"q": q}, headers=bearer(organiser(meeting_id)))
        assert r.status_code == 200, r.json
        return [p["first_name"] for p in r.json["registrations"]]

    assert found("SCHÄFER") == ["Bernd"] and found("schäfer") == ["Bernd"]
    assert found("özlem") == ["Özlem"] and found("ÖZLEM") == ["Özlem"]
    engine.dispose()
