"""``python -m treffpunkt_agenda migrate|worker|create-admin|announce-access``: schema migrations, the outbox
relay, the first administrator account, and every account's access announced once more after an upgrade."""
from __future__ import annotations

import os
import sys

from treffpunkt_shared.db import ensure_database, make_engine, upgrade_database
from treffpunkt_shared.logs import configure_logging
from treffpunkt_shared.messaging.relay import OutboxRelay
from treffpunkt_shared.runner import run_until_stopped

from .admin_command import create_admin
from .announce_command import announce_access
from .app import MIGRATIONS
from .config import Settings
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
        relay = OutboxRelay(engine, outbox, settings.amqp_url, topology_for(settings))
        return run_until_stopped({"relay": relay})
    if command == "create-admin":
        return create_admin(argv[1:], settings.database_url, os.environ)
    if command == "announce-access":
        return announce_access(argv[1:], settings.database_url)
    print("usage: python -m treffpunkt_agenda migrate|worker|create-admin|announce-access", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
