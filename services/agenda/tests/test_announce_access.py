"""``python -m treffpunkt_agenda announce-access``: every account's access once more into the outbox, at its
current revision, so that registration and notify learn what was changed before they kept it; and the
consumers' upsert (treffpunkt_shared.access) keeping the newest, however the announcement and changes meet.
All on PostgreSQL; through the broker into both services: tests/test_revocation_everywhere.py."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from treffpunkt_agenda import accounts
from treffpunkt_agenda.access_events import announce_current_access
from treffpunkt_agenda.announce_command import announce_access
from treffpunkt_agenda.models import meeting_organisers, organisers, outbox
from treffpunkt_shared.access import apply_access_change, organiser_access_table
from treffpunkt_shared.contracts import CONTRACTS, ORGANISER_ACCESS_CHANGED
from treffpunkt_shared.db import make_engine

MEETING = {"title": "Kassel", "starts_at": "2016-09-16T10:00:00", "ends_at": "2016-09-16T16:00:00",
           "venue": {"name": "Regierungspräsidium Kassel"}, "capacity": 60}
CUT_OFF = datetime(2016, 9, 1, 12, 0, tzinfo=timezone.utc)


def access_events(engine) -> list[dict]:
    """The payloads of the outbox's organiser.access_changed events, in order, loaded as a consumer does."""
    with engine.connect() as conn:
        bodies = [json.loads(r.body) for r in conn.execute(sa.select(outbox).order_by(outbox.c.seq))]
    return [CONTRACTS[b["type"]].load_payload(b["payload"]) for b in bodies
            if b["type"] == ORGANISER_ACCESS_CHANGED.type]


def announced(engine) -> list[dict]:
    return [e for e in access_events(engine) if e["changes"] == ["announced"]]


def revisions(engine) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(organisers.c.id, organisers.c.access_revision)).all())


def changed_before_this_version(engine, organiser_id: str, meeting_id: str) -> None:
    """Assigned, then deactivated with its tokens cut off, as a version without access events did it: nothing
    announced, the revision still 0."""
    with engine.begin() as tx:
        tx.execute(meeting_organisers.insert().values(meeting_id=meeting_id, organiser_id=organiser_id))
        tx.execute(organisers.update().where(organisers.c.id == organiser_id)
                   .values(active=False, tokens_not_before=CUT_OFF))


def test_announcing_writes_one_event_per_account_with_its_current_revision_state_and_cut_off(
        client, engine, settings, auth, admin, make_account, capsys):
    meeting_id = client.post("/api/meetings", json=MEETING, headers=auth).json["id"]  # the creator is assigned
    legacy, changed = make_account(), make_account()
    changed_before_this_version(engine, legacy["id"], meeting_id)
    assert client.put(f"/api/organisers/{changed['id']}/meetings/{meeting_id}", headers=auth).status_code == 204
    assert client.patch(f"/api/organisers/{changed['id']}", json={"role": "administrator"},
                        headers=auth).status_code == 200

    assert announce_access([], settings.database_url) == 0
    assert "3 Konten angekündigt" in capsys.readouterr().out
    by_account = {str(e["organiser_id"]): e for e in announced(engine)}
    assert len(by_account) == 3 == len(announced(engine))
    assert {k: (e["revision"], e["active"], e["role"], [str(m) for m in e["meeting_ids"]], e["not_before"])
            for k, e in by_account.items()} == {
        admin["id"]: (1, True, "administrator", [meeting_id], None),
        # Never announced (revision 0, which no event may carry): now the first.
        legacy["id"]: (1, False, "organiser", [meeting_id], CUT_OFF),
        changed["id"]: (2, True, "administrator", [meeting_id], None)}
    assert revisions(engine) == {admin["id"]: 1, legacy["id"]: 1, changed["id"]: 2}

    assert announce_access([], settings.database_url) == 0  # again: the same revisions, nothing changed
    again = announced(engine)[3:]
    assert sorted((str(e["organiser_id"]), e["revision"]) for e in again) == sorted(
        (k, e["revision"]) for k, e in by_account.items())
    assert revisions(engine) == {admin["id"]: 1, legacy["id"]: 1, changed["id"]: 2}


def test_the_consumers_keep_the_newest_state_whether_the_announcement_comes_before_or_after_a_change(
        client, engine, postgres_url_for, auth, make_account):
    consumer = make_engine(postgres_url_for("consumer"))
    kept_table = organiser_access_table(sa.MetaData())
    kept_table.create(consumer)
    organiser = make_account()
    meeting_id = client.post("/api/meetings", json=MEETING, headers=auth).json["id"]
    with engine.begin() as tx:
        accounts.assign_organiser(tx, meeting_id, organiser["id"])  # revision 1
    with engine.begin() as tx:
        announce_current_access(tx)
    with engine.begin() as tx:
        accounts.set_active(tx, organiser["id"], False)  # revision 2, after the announcement
    events = [e for e in access_events(engine) if str(e["organiser_id"]) == organiser["id"]]
    assignment, announcement, deactivation = events

    def kept():
        with consumer.connect() as conn:
            row = conn.execute(sa.select(kept_table).where(kept_table.c.organiser_id == organiser["id"])).one()
        return row.revision, row.active

    try:
        taken = []
        # As published; then the announcement arrives late once more (a retry, or the command run again).
        for event in (assignment, announcement, deactivation, announcement):
            with consumer.begin() as tx:
                taken.append(apply_access_change(tx, kept_table, event))
        # The announcement's revision is the assignment's: nothing new, and never over the newer deactivation.
        assert taken == [True, False, True, False]
        assert kept() == (2, False)
        with engine.begin() as tx:
            announce_current_access(tx)
        with consumer.begin() as tx:
            assert not apply_access_change(tx, kept_table, [e for e in announced(engine)
                                                            if str(e["organiser_id"]) == organiser["id"]][-1])
        assert kept() == (2, False)
    finally:
        consumer.dispose()


def test_the_command_announces_through_the_outbox_and_refuses_a_database_not_migrated(
        settings, engine, make_account, postgres_url_for):
    make_account()
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    done = subprocess.run([sys.executable, "-m", "treffpunkt_agenda", "announce-access"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "1 accounts announced" in done.stdout
    [event] = announced(engine)
    assert event["revision"] == 1 and event["active"] is True

    empty = {**env, "DATABASE_URL": postgres_url_for("empty")}
    done = subprocess.run([sys.executable, "-m", "treffpunkt_agenda", "announce-access"], env=empty,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "migrate" in done.stderr
