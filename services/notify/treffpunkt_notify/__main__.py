"""``python -m treffpunkt_notify migrate|worker``: schema migrations; consumer, mail sender and outbox relay."""
from __future__ import annotations

import sys

from treffpunkt_shared.db import ensure_database, make_engine, upgrade_database
from treffpunkt_shared.logs import configure_logging
from treffpunkt_shared.runner import run_until_stopped

from .app import MIGRATIONS
from .config import Settings
from .worker import worker_parts


def main(argv: list[str]) -> int:
    configure_logging()
    settings = Settings.from_env()
    command = argv[0] if argv else ""
    if command == "migrate":
        ensure_database(settings.database_url)
        upgrade_database(make_engine(settings.database_url), MIGRATIONS)
        return 0
    if command == "worker":
        return run_until_stopped(worker_parts(settings, make_engine(settings.database_url)))
    print("usage: python -m treffpunkt_notify migrate|worker", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
