"""The agenda service's app factory."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask, render_template, request, url_for
from flask_smorest import Api

from treffpunkt_shared import http, i18n
from treffpunkt_shared.auth import Principal, install_auth
from treffpunkt_shared.csrf import install_csrf
from treffpunkt_shared.db import is_reachable, make_engine
from treffpunkt_shared.messaging.connection import is_broker_reachable
from treffpunkt_shared.messaging.tables import outbox_backlog

from . import account_pages, accounts, accounts_api, api, auth_views, organiser_pages, public
from .account_texts import ENGLISH as ACCOUNT_TEXTS
from .catalog import catalog
from .config import Settings
from .models import outbox
from .programme import Programme
from .sign_in import SignIn
from .sign_in_limit import SignInLimiter, SignInLimits
from .uploads import MAX_DOCUMENT_BYTES

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None, *, engine: sa.Engine | None = None,
               sign_in_limits: SignInLimits | None = None) -> Flask:
    settings = settings or Settings.from_env()
    engine = engine or make_engine(settings.database_url)
    app = Flask(__name__)
    app.config.update(API_TITLE="treffpunkt agenda", API_VERSION="1", OPENAPI_VERSION="3.0.3",
                      OPENAPI_URL_PREFIX="/api", OPENAPI_JSON_PATH="openapi.json")
    app.extensions["treffpunkt"] = {
        "engine": engine, "settings": settings,
        "programme": Programme(engine, settings.public_base_url),
        "sign_in": SignIn(engine, SignInLimiter(engine, sign_in_limits or SignInLimits())),
    }
    rest = Api(app)
    i18n.install(app, i18n.Catalog({**catalog.english, **ACCOUNT_TEXTS}))
    # After Api(): our handlers replace flask-smorest's, so every error has the one shape of treffpunkt_shared.http.
    http.install(app, service="agenda",
                 html_error=lambda code, message: render_template("error.html", code=code, message=message))

    @app.before_request
    def _allow_document_uploads():
        # The global body limit is small; only document uploads may be larger. Registered before the CSRF
        # check, which reads the form and so would meet the small limit first.
        if request.endpoint in ("meetings_api.upload_document", "organiser.upload_document"):
            request.max_content_length = MAX_DOCUMENT_BYTES + 64 * 1024

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
    }, details={"outbox": lambda: outbox_backlog(engine, outbox)}))
    rest.register_blueprint(api.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(organiser_pages.bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(account_pages.bp)
    rest.register_blueprint(accounts_api.bp)
    _document_session_api(app, rest)
    return app


def _document_session_api(app: Flask, rest: Api) -> None:
    """The session endpoints live beside the sign-in pages (auth_views), so they are described here by hand."""
    credentials = {"type": "object", "required": ["email", "password"],
                   "properties": {"email": {"type": "string", "format": "email"}, "password": {"type": "string"}}}
    rule = next(r for r in app.url_map.iter_rules() if r.rule == "/api/session")
    rest.spec.path(rule=rule, operations={
        "post": {"summary": "Anmelden: E-Mail und Passwort → Token / sign in: email and password → token",
                 "requestBody": {"content": {"application/json": {"schema": credentials}}},
                 "responses": {"200": {"description": "token, token_type, expires_in, organiser"},
                               "401": {"description": "wrong email or password"},
                               "422": {"description": "invalid input"}, "429": {"description": "too many attempts"}}},
        "get": {"summary": "Wer ist angemeldet / who is signed in", "responses": {"200": {"description": "organiser"},
                                                                                "401": {"description": "not signed in"}}},
        "delete": {"summary": "Überall abmelden: kein Token des Kontos gilt mehr, das Cookie wird gelöscht / "
                              "sign out everywhere: no token of the account counts any more, the cookie is cleared",
                   "responses": {"204": {"description": "signed out"}}},
    })
