"""The agenda service's app factory."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask, render_template, request
from flask_smorest import Api

from treffpunkt_shared import http, i18n
from treffpunkt_shared.db import is_reachable, make_engine
from treffpunkt_shared.messaging.connection import is_broker_reachable

from . import api, organiser_pages, public
from .catalog import catalog
from .config import Settings
from .programme import Programme
from .uploads import MAX_DOCUMENT_BYTES

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None, *, engine: sa.Engine | None = None) -> Flask:
    settings = settings or Settings.from_env()
    engine = engine or make_engine(settings.database_url)
    app = Flask(__name__)
    app.config["ORGANISER_TOKEN"] = settings.organiser_token
    app.config.update(API_TITLE="treffpunkt agenda", API_VERSION="1", OPENAPI_VERSION="3.0.3",
                      OPENAPI_URL_PREFIX="/api", OPENAPI_JSON_PATH="openapi.json")
    app.extensions["treffpunkt"] = {"engine": engine, "settings": settings,
                                    "programme": Programme(engine, settings.public_base_url)}
    rest = Api(app)
    i18n.install(app, catalog)
    # After Api(): our handlers replace flask-smorest's, so every error has the one shape of treffpunkt_shared.http.
    http.install(app, service="agenda",
                 html_error=lambda code, message: render_template("error.html", code=code, message=message))

    @app.before_request
    def _allow_document_uploads():
        # The global body limit is small; only document uploads may be larger.
        if request.endpoint in ("meetings_api.upload_document", "organiser.upload_document"):
            request.max_content_length = MAX_DOCUMENT_BYTES + 64 * 1024

    app.register_blueprint(http.health_blueprint({
        "database": lambda: is_reachable(engine),
        "broker": lambda: is_broker_reachable(settings.amqp_url),
    }))
    rest.register_blueprint(api.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(organiser_pages.bp)
    return app
