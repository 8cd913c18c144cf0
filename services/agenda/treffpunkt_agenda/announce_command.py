"""``python -m treffpunkt_agenda announce-access``: every organiser account's access announced once more.

Registration and notify learn accounts only from ``organiser.access_changed``; their read models start empty,
so an account deactivated, reassigned or signed out before this version was deployed is unknown to them, and
its tokens and its place in the meetings' organiser lists are believed. Run once after upgrading: one event per
account goes into the outbox, which the worker's relay publishes (it must run). Repeating it is harmless.
"""
from __future__ import annotations

import argparse
import sys
import uuid

import sqlalchemy as sa

from treffpunkt_shared.db import make_engine

from .access_events import announce_current_access
from .admin_command import NOT_SET_UP


def announce_access(argv: list[str], database_url: str) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m treffpunkt_agenda announce-access",
        description="Kündigt den Zugang jedes Kontos an die anderen Dienste an. / "
                    "Announces every account's access to the other services.")
    parser.parse_args(argv)
    # One correlation id for the run: the events of this announcement can be found in every service's log.
    correlation_id = f"announce-access-{uuid.uuid4()}"
    engine = make_engine(database_url)
    try:
        with engine.begin() as tx:
            count = announce_current_access(tx, correlation_id=correlation_id)
    except sa.exc.ProgrammingError:
        print(NOT_SET_UP, file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"{count} Konten angekündigt (der Worker veröffentlicht sie) / {count} accounts announced (the worker "
          f"publishes them): {correlation_id}")
    return 0
