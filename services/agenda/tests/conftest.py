"""Fixtures for the agenda's tests: the app on a fresh PostgreSQL database, accounts and their tokens."""
from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from treffpunkt_agenda import accounts
from treffpunkt_agenda.app import MIGRATIONS, create_app
from treffpunkt_agenda.config import Settings
from treffpunkt_shared.db import make_engine, upgrade_database

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from agenda_testing import PASSWORD, SECRET, bearer  # noqa: E402


@pytest.fixture
def settings(postgres_url_for, namespace, amqp_url):
    return Settings(database_url=postgres_url_for("agenda"), amqp_url=amqp_url, namespace=namespace,
                    session_secret=SECRET)


@pytest.fixture
def engine(settings):
    engine = make_engine(settings.database_url)
    upgrade_database(engine, MIGRATIONS)
    yield engine
    engine.dispose()


@pytest.fixture
def app(settings, engine):
    return create_app(settings, engine=engine)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_account(engine):
    """``make_account(role=…, email=…)``: an account in the database (password ``PASSWORD``)."""
    def make(role: str = accounts.ORGANISER, email: str | None = None, name: str = "Erika Organisatorin",
             password: str = PASSWORD) -> dict:
        with engine.begin() as tx:
            return accounts.create_account(tx, email=email or f"{role}-{uuid.uuid4().hex[:8]}@example.org",
                                           name=name, role=role, password=password)
    return make


@pytest.fixture
def admin(make_account):
    return make_account(role=accounts.ADMINISTRATOR, name="Ada Administratorin")


@pytest.fixture
def auth(admin):
    """Headers of a signed-in administrator."""
    return bearer(admin)
