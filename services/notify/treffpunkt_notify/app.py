"""The notify service's app factory (health, captured mails, delivery log)."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from treffpunkt_shared import http
from treffpunkt_shared.auth import install_auth
from treffpunkt_shared.csrf import install_csrf
from treffpunkt_shared.db import is_reachable, make_engine
from treffpunkt_shared.messaging.connection import is_broker_reachable

from . import organiser_views, views
from .config import Settings
from .mailer import mailer_for

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None, *, engine: sa.Engine | None = None, mailer=None,
               public_mail_capture: bool = False) -> Flask:
    """``public_mail_capture``: show captured mails without sign-in (the embedded demo only, see views.py)."""
    settings = settings or Settings.from_env()
    engine = engine or make_engine(settings.database_url)
    app = Flask(__name__)
    app.extensions["treffpunkt"] = {"engine": engine, "settings": settings,
                                    "mailer": mailer or mailer_for(settings),
                                    "public_mail_capture": public_mail_capture}
    http.install(app, service="notify")
    install_auth(app, settings.session_secret, sign_in_url=settings.sign_in_url,
                 cookie_secure=settings.cookie_secure, max_age_s=settings.session_max_age_s)
    install_csrf(app, settings.session_secret, cookie_secure=settings.cookie_secure)
    app.register_blueprint(http.health_blueprint({
        "database": lambda: is_reachable(engine),
        "broker": lambda: is_broker_reachable(settings.amqp_url),
    }))
    app.register_blueprint(views.bp)
    app.register_blueprint(organiser_views.bp)
    return app
