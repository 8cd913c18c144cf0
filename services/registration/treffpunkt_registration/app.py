"""The registration service's app factory."""
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

from . import api, checkin_pages, export_pages, organiser_api, organiser_pages, pages, personal_pages
from .catalog import catalog
from .config import Settings
from .models import organiser_access, outbox

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None, *, engine: sa.Engine | None = None) -> Flask:
    settings = settings or Settings.from_env()
    engine = engine or make_engine(settings.database_url, pool_size=settings.db_pool_size)
    app = Flask(__name__)
    app.extensions["treffpunkt"] = {"engine": engine, "settings": settings}
    i18n.install(app, catalog)
    http.install(app, service="registration",
                 html_error=lambda code, message: render_template("error.html", code=code, message=message))
    # Organiser pages and API check the sign-in and the meeting assignment in organiser_access.py; the
    # organiser_access table (kept from organiser.access_changed) says whether a token still counts.
    install_auth(app, settings.session_secret, sign_in_url=settings.sign_in_url,
                 cookie_secure=settings.cookie_secure, max_age_s=settings.session_max_age_s,
                 refresh=access_refresh(engine, organiser_access), reissue_cookie=False)
    install_csrf(app, settings.session_secret, cookie_secure=settings.cookie_secure)
    app.register_blueprint(http.health_blueprint({
        "database": lambda: is_reachable(engine),
        "broker": lambda: is_broker_reachable(settings.amqp_url),
    }, details={"outbox": lambda: outbox_backlog(engine, outbox)}))
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(personal_pages.bp)
    for organiser_bp in (organiser_pages.bp, export_pages.bp, checkin_pages.bp, organiser_api.bp):
        app.register_blueprint(organiser_bp)
    return app
