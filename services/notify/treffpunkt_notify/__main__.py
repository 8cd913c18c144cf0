"""``python -m treffpunkt_notify migrate|worker|dead-letters``: schema migrations; consumer, mail sender and outbox relay; the operators' dead-letter commands."""
from __future__ import annotations

import sys

from treffpunkt_shared.db import ensure_database, make_engine, upgrade_database
from treffpunkt_shared.logs import configure_logging
from treffpunkt_shared.messaging import dead_letter_command
from treffpunkt_shared.runner import run_until_stopped

from .app import MIGRATIONS
from .config import Settings
from .worker import worker_parts

SWITCH_INTERVAL_SECONDS = 0.0005


def main(argv: list[str]) -> int:
    configure_logging()
    settings = Settings.from_env()
    command = argv[0] if argv else ""
    if command == "migrate":
        ensure_database(settings.database_url)
        upgrade_database(make_engine(settings.database_url), MIGRATIONS)
        return 0
    if command == "worker":
        # The one moment a killed worker can lose a mail is between the commit of "sent" and the final
        # "." (mailer.py). After the commit's round trip the sender thread must get the GIL back before it
        # can write the ".", and a thread busy rendering mails keeps it for a whole switch interval (5 ms
        # by default), longer with several threads in line. A short interval keeps that moment short.
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        return run_until_stopped(worker_parts(settings, make_engine(settings.database_url)))
    if command == "dead-letters":
        return dead_letter_command.run(argv[1:], settings, "notify")
    print("usage: python -m treffpunkt_notify migrate|worker|dead-letters", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
