"""The agenda service's app factory."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask, render_template, url_for

from treffpunkt_shared import http, i18n
from treffpunkt_shared.auth import Principal, install_auth
from treffpunkt_shared.csrf import install_csrf
from treffpunkt_shared.db import is_reachable, make_engine
from treffpunkt_shared.messaging.connection import is_broker_reachable

from . import account_pages, accounts, accounts_api, api, auth_views
from .account_texts import ENGLISH as ACCOUNT_TEXTS
from .config import Settings
from .sign_in import SignIn
from .sign_in_limit import SignInLimiter, SignInLimits

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None, *, engine: sa.Engine | None = None,
               sign_in_limits: SignInLimits | None = None) -> Flask:
    settings = settings or Settings.from_env()
    engine = engine or make_engine(settings.database_url)
    app = Flask(__name__)
    app.extensions["treffpunkt"] = {
        "engine": engine, "settings": settings,
        "sign_in": SignIn(engine, SignInLimiter(engine, sign_in_limits or SignInLimits())),
    }
    i18n.install(app, i18n.Catalog(ACCOUNT_TEXTS))
    http.install(app, service="agenda",
                 html_error=lambda code, message: render_template("error.html", code=code, message=message))

    def current_account(principal: Principal) -> Principal | None:
        # The agenda owns the accounts: it believes the database, not the token's copy of it.
        with engine.connect() as conn:
            return accounts.principal_for(conn, principal.id, signed_in_at=principal.signed_in_at)

    install_auth(app, settings.session_secret, sign_in_url=lambda: url_for("auth.sign_in"),
                 cookie_secure=settings.cookie_secure, max_age_s=settings.session_max_age_s,
                 refresh=current_account)
    install_csrf(app, settings.session_secret, cookie_secure=settings.cookie_secure)
    app.register_blueprint(http.health_blueprint({
        "database": lambda: is_reachable(engine),
        "broker": lambda: is_broker_reachable(settings.amqp_url),
    }))
    app.register_blueprint(api.bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(account_pages.bp)
    app.register_blueprint(accounts_api.bp)
    return app
