"""The notify service's app factory (health, captured mails, delivery log, organisers' pages and API)."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask, render_template

from treffpunkt_shared import http, i18n
from treffpunkt_shared.access import access_refresh
from treffpunkt_shared.auth import install_auth
from treffpunkt_shared.csrf import install_csrf
from treffpunkt_shared.db import is_reachable, make_engine
from treffpunkt_shared.messaging.connection import is_broker_reachable
from treffpunkt_shared.messaging.tables import outbox_backlog

from . import organiser_pages, organiser_views, views
from .config import Settings
from .mailer import mailer_for
from .mime import checked_sender
from .models import organiser_access, outbox
from .page_texts import catalog, install_labels

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None, *, engine: sa.Engine | None = None, mailer=None,
               public_mail_capture: bool = False) -> Flask:
    """``public_mail_capture``: show captured mails without sign-in (the embedded demo only, see views.py)."""
    settings = settings or Settings.from_env()
    checked_sender(settings.mail_from)  # previews render with it: refused at start, not on every page
    engine = engine or make_engine(settings.database_url)
    app = Flask(__name__)
    app.extensions["treffpunkt"] = {"engine": engine, "settings": settings,
                                    "mailer": mailer or mailer_for(settings),
                                    "public_mail_capture": public_mail_capture}
    i18n.install(app, catalog)
    install_labels(app)
    http.install(app, service="notify",
                 html_error=lambda code, message: render_template("pages/error.html", code=code, message=message))
    # The organiser_access table (kept from organiser.access_changed) says whether a token still counts.
    install_auth(app, settings.session_secret, sign_in_url=settings.sign_in_url,
                 cookie_secure=settings.cookie_secure, max_age_s=settings.session_max_age_s,
                 refresh=access_refresh(engine, organiser_access), reissue_cookie=False)
    install_csrf(app, settings.session_secret, cookie_secure=settings.cookie_secure)
    app.register_blueprint(http.health_blueprint({
        "database": lambda: is_reachable(engine),
        "broker": lambda: is_broker_reachable(settings.amqp_url),
    }, details={"outbox": lambda: outbox_backlog(engine, outbox)}))
    app.register_blueprint(views.bp)
    app.register_blueprint(organiser_views.bp)
    app.register_blueprint(organiser_pages.bp)
    return app
