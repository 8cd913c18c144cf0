"""treffpunkt in one process: all three services, kombu's in-memory broker, SQLite under var/, captured mail.

    python deploy/embedded/run.py [--port 8000] [--var var]

Serves the registration pages at /, the agenda API at /agenda, and the
captured mails at /notify/mail. Loads the demo meeting from the seed texts on
first start.
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).parent))
from demo import seed_demo  # noqa: E402  (beside this script)
from treffpunkt_shared.db import make_engine, upgrade_database
from treffpunkt_shared.logs import configure_logging
from treffpunkt_shared.messaging.consumer import ServiceConsumer
from treffpunkt_shared.messaging.relay import OutboxRelay
from treffpunkt_shared.messaging.topology import topology_for
from treffpunkt_shared.runner import start_threads

import treffpunkt_agenda.app as agenda_app
import treffpunkt_agenda.config as agenda_config
import treffpunkt_agenda.models as agenda_models
import treffpunkt_notify.app as notify_app
import treffpunkt_notify.config as notify_config
import treffpunkt_notify.worker as notify_worker
import treffpunkt_registration.app as registration_app
import treffpunkt_registration.config as registration_config
import treffpunkt_registration.meetings as registration_meetings
import treffpunkt_registration.models as registration_models

def build(var: Path, port: int):
    var.mkdir(parents=True, exist_ok=True)
    token_file = var / "organiser-token"
    if not token_file.exists():
        token_file.write_text(secrets.token_urlsafe(32))
    token = token_file.read_text().strip()
    base = f"http://127.0.0.1:{port}"
    common = {"AMQP_URL": "memory://", "TREFFPUNKT_NAMESPACE": "treffpunkt", "ORGANISER_TOKEN": token}
    agenda = agenda_config.Settings.from_env({**common, "DATABASE_URL": f"sqlite:///{var}/agenda.db",
                                              "PUBLIC_BASE_URL": f"{base}/agenda"})
    registration = registration_config.Settings.from_env({**common, "DATABASE_URL": f"sqlite:///{var}/registration.db",
                                                          "PUBLIC_BASE_URL": base})
    notify = notify_config.Settings.from_env({**common, "DATABASE_URL": f"sqlite:///{var}/notify.db",
                                              "PUBLIC_BASE_URL": f"{base}/notify", "REGISTRATION_BASE_URL": base,
                                              "SMTP_HOST": "capture", "MAIL_CAPTURE_DIR": str(var / "mail")})
    engines = {}
    for name, settings, app_module in (("agenda", agenda, agenda_app), ("registration", registration, registration_app),
                                       ("notify", notify, notify_app)):
        engines[name] = make_engine(settings.database_url)
        upgrade_database(engines[name], app_module.MIGRATIONS)

    parts = {
        "agenda-relay": OutboxRelay(engines["agenda"], agenda_models.outbox, "memory://", topology_for(agenda)),
        "registration-relay": OutboxRelay(engines["registration"], registration_models.outbox, "memory://",
                                          topology_for(registration)),
        "registration-consumer": ServiceConsumer("memory://", topology_for(registration), "registration",
                                                 registration_meetings.make_handler(engines["registration"])),
    }
    for name, part in notify_worker.worker_parts(notify, engines["notify"]).items():
        parts[f"notify-{name}"] = part

    notify_flask = notify_app.create_app(notify, engine=engines["notify"], mailer=parts["notify-sender"].mailer)
    wsgi = DispatcherMiddleware(
        registration_app.create_app(registration, engine=engines["registration"]),
        {"/agenda": agenda_app.create_app(agenda, engine=engines["agenda"]), "/notify": notify_flask})
    return wsgi, parts, engines, token


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--var", type=Path, default=Path(os.environ.get("TREFFPUNKT_VAR", "var")))
    args = parser.parse_args(argv)
    configure_logging(os.environ.get("LOG_LEVEL", "WARNING"))
    wsgi, parts, engines, token = build(args.var, args.port)
    start_threads(parts)
    seed_demo(engines["agenda"], f"http://127.0.0.1:{args.port}/agenda")
    server = make_server("127.0.0.1", args.port, wsgi, threaded=True)
    base = f"http://127.0.0.1:{args.port}"
    print(f"""
treffpunkt läuft / is running (embedded: in-memory broker, SQLite in {args.var}/, mail captured)

  Anmeldung / registration:     {base}/
  Versendete E-Mails / emails:  {base}/notify/mail
  Programm / agenda:            {base}/agenda/meetings
  Agenda-API (organisers):      {base}/agenda/api/meetings
      Authorization: Bearer {token}

Beenden / stop: Ctrl+C
""", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        for part in parts.values():
            part.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
