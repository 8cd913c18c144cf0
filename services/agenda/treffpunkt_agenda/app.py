"""The agenda service's app factory."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from treffpunkt_shared import http
from treffpunkt_shared.db import is_reachable, make_engine
from treffpunkt_shared.messaging.connection import is_broker_reachable

from . import api
from .config import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None, *, engine: sa.Engine | None = None) -> Flask:
    settings = settings or Settings.from_env()
    engine = engine or make_engine(settings.database_url)
    app = Flask(__name__)
    app.config["ORGANISER_TOKEN"] = settings.organiser_token
    app.extensions["treffpunkt"] = {"engine": engine, "settings": settings}
    http.install(app, service="agenda")
    app.register_blueprint(http.health_blueprint({
        "database": lambda: is_reachable(engine),
        "broker": lambda: is_broker_reachable(settings.amqp_url),
    }))
    app.register_blueprint(api.bp)
    return app
