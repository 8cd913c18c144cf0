"""treffpunkt in one process: all three services, kombu's in-memory broker, SQLite under var/, captured mail.

    python deploy/embedded/run.py [--port 8000] [--var var]

Serves the registration pages at /, the agenda (sign-in, accounts, API) at
/agenda, and the captured mails at /notify/mail. On first start it loads the
demo meeting from the seed texts and creates two demo accounts (an
administrator, and an organiser assigned to the demo meeting); their logins are
kept in var/demo-logins.json and printed on every start.
"""
from __future__ import annotations

import argparse
import json
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

import treffpunkt_agenda.accounts as agenda_accounts
import treffpunkt_agenda.app as agenda_app
import treffpunkt_agenda.config as agenda_config
import treffpunkt_agenda.models as agenda_models
import treffpunkt_notify.app as notify_app
import treffpunkt_notify.config as notify_config
import treffpunkt_notify.worker as notify_worker
import treffpunkt_registration.app as registration_app
import treffpunkt_registration.config as registration_config
import treffpunkt_registration.housekeeping as registration_housekeeping
import treffpunkt_registration.meetings as registration_meetings
import treffpunkt_registration.models as registration_models

def _private_file(path: Path, make) -> str:
    """The file's content; created (readable by this user only) with ``make()`` on first start."""
    if not path.exists():
        content = make()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(content)
    return path.read_text().strip()


def build(var: Path, port: int):
    var.mkdir(parents=True, exist_ok=True)
    # One secret for the three apps, kept across restarts so a sign-in survives them.
    secret = _private_file(var / "session-secret", lambda: secrets.token_urlsafe(48))
    base = f"http://127.0.0.1:{port}"
    common = {"AMQP_URL": "memory://", "TREFFPUNKT_NAMESPACE": "treffpunkt", "SESSION_SECRET": secret,
              "SIGN_IN_URL": f"{base}/agenda/anmelden"}
    agenda = agenda_config.Settings.from_env({**common, "DATABASE_URL": f"sqlite:///{var}/agenda.db",
                                              "PUBLIC_BASE_URL": f"{base}/agenda"})
    # The demo meeting from the seed texts took place in 2016: with the usual retention its registrations
    # would be erased at once, so the demo keeps personal data for 100 years (a real meeting never does).
    registration = registration_config.Settings.from_env({**common, "RETENTION_DAYS": "36500",
                                                          "DATABASE_URL": f"sqlite:///{var}/registration.db",
                                                          "PUBLIC_BASE_URL": base, "NOTIFY_BASE_URL": f"{base}/notify"})
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
                                                 registration_meetings.make_handler(engines["registration"],
                                                                                  registration)),
        "registration-housekeeping": registration_housekeeping.Housekeeping(engines["registration"], registration),
    }
    for name, part in notify_worker.worker_parts(notify, engines["notify"]).items():
        parts[f"notify-{name}"] = part

    # The captured mails are public here, and only here: a demo aid (see treffpunkt_notify/views.py).
    notify_flask = notify_app.create_app(notify, engine=engines["notify"], mailer=parts["notify-sender"].mailer,
                                         public_mail_capture=True)
    wsgi = DispatcherMiddleware(
        registration_app.create_app(registration, engine=engines["registration"]),
        {"/agenda": agenda_app.create_app(agenda, engine=engines["agenda"]), "/notify": notify_flask})
    return wsgi, parts, engines


DEMO_ACCOUNTS = (
    {"key": "admin", "email": "admin@example.org", "name": "Demo-Administration",
     "role": agenda_accounts.ADMINISTRATOR},
    {"key": "organiser", "email": "organisation@example.org", "name": "Demo-Organisation",
     "role": agenda_accounts.ORGANISER},
)


def seed_accounts(engine, var: Path) -> dict:
    """The demo logins: created with random passwords on first start (the organiser assigned to the demo
    meeting), kept in var/demo-logins.json (readable by this user only)."""
    def create() -> str:
        logins = {}
        with engine.begin() as tx:
            for account in DEMO_ACCOUNTS:
                password = secrets.token_urlsafe(12)
                created = agenda_accounts.create_account(tx, email=account["email"], name=account["name"],
                                                         role=account["role"], password=password)
                logins[account["key"]] = {"email": created["email"], "password": password}
                if account["role"] == agenda_accounts.ORGANISER:
                    for meeting in agenda_accounts.meeting_choices(tx):
                        agenda_accounts.assign_organiser(tx, meeting["id"], created["id"])
        return json.dumps(logins, indent=2)

    return json.loads(_private_file(var / "demo-logins.json", create))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--var", type=Path, default=Path(os.environ.get("TREFFPUNKT_VAR", "var")))
    args = parser.parse_args(argv)
    configure_logging(os.environ.get("LOG_LEVEL", "WARNING"))
    wsgi, parts, engines = build(args.var, args.port)
    start_threads(parts)
    seed_demo(engines["agenda"], f"http://127.0.0.1:{args.port}/agenda")
    logins = seed_accounts(engines["agenda"], args.var)
    server = make_server("127.0.0.1", args.port, wsgi, threaded=True)
    base = f"http://127.0.0.1:{args.port}"
    print(f"""
treffpunkt läuft / is running (embedded: in-memory broker, SQLite in {args.var}/, mail captured)

  Anmeldung / registration:     {base}/
  Versendete E-Mails / emails:  {base}/notify/mail
  Programm / agenda:            {base}/agenda/meetings
  Organisation / organisers:    {base}/agenda/anmelden  (Programm bearbeiten / edit: {base}/agenda/organiser/)
      Anmeldungen / registrations: {base}/organiser/
      Administrator:  {logins["admin"]["email"]}  Passwort / password: {logins["admin"]["password"]}
      Organisator:    {logins["organiser"]["email"]}  Passwort / password: {logins["organiser"]["password"]}
  Agenda-API:                   {base}/agenda/api/meetings
      Token: POST {base}/agenda/api/session {{"email": …, "password": …}} → Authorization: Bearer <token>

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
