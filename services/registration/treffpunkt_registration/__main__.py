"""``python -m treffpunkt_registration migrate|worker|dead-letters``: schema migrations; the outbox relay, the consumer of meeting and agenda events, housekeeping (expiry, retention); the operators' dead-letter commands."""
from __future__ import annotations

import sys

from treffpunkt_shared.db import ensure_database, make_engine, upgrade_database
from treffpunkt_shared.logs import configure_logging
from treffpunkt_shared.messaging import dead_letter_command
from treffpunkt_shared.messaging.consumer import ServiceConsumer
from treffpunkt_shared.messaging.relay import OutboxRelay
from treffpunkt_shared.runner import run_until_stopped

from .app import MIGRATIONS
from .config import Settings
from .housekeeping import Housekeeping
from .meetings import make_handler
from .models import outbox
from treffpunkt_shared.messaging.topology import topology_for


def main(argv: list[str]) -> int:
    configure_logging()
    settings = Settings.from_env()
    command = argv[0] if argv else ""
    if command == "migrate":
        ensure_database(settings.database_url)
        engine = make_engine(settings.database_url)
        upgrade_database(engine, MIGRATIONS)
        return 0
    if command == "worker":
        engine = make_engine(settings.database_url)
        topology = topology_for(settings)
        return run_until_stopped({
            "relay": OutboxRelay(engine, outbox, settings.amqp_url, topology),
            "consumer": ServiceConsumer(settings.amqp_url, topology, "registration", make_handler(engine, settings)),
            "housekeeping": Housekeeping(engine, settings),
        })
    if command == "dead-letters":
        return dead_letter_command.run(argv[1:], settings, "registration")
    print("usage: python -m treffpunkt_registration migrate|worker|dead-letters", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
