"""Fixtures for the registration service's tests: the app on a fresh PostgreSQL database of its own."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from treffpunkt_registration.app import MIGRATIONS, create_app
from treffpunkt_registration.config import Settings
from treffpunkt_shared.db import make_engine, upgrade_database

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from registration_testing import SECRET  # noqa: E402


@pytest.fixture
def settings(postgres_url_for, amqp_url, namespace):
    return Settings(database_url=postgres_url_for("registration"), amqp_url=amqp_url, namespace=namespace,
                    db_pool_size=20, session_secret=SECRET, public_base_url="http://anmeldung.test")


@pytest.fixture
def engine(settings):
    engine = make_engine(settings.database_url, pool_size=20)
    upgrade_database(engine, MIGRATIONS)
    yield engine
    engine.dispose()


@pytest.fixture
def app(settings, engine):
    return create_app(settings, engine=engine)


@pytest.fixture
def client(app):
    return app.test_client()
