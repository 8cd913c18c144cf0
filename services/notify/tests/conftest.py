"""Fixtures for notify's catalogue tests: a worker against the real broker, PostgreSQL and aiosmtpd."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from notify_events import Events, start_worker  # noqa: E402
from treffpunkt_notify.app import MIGRATIONS
from treffpunkt_notify.config import Settings
from treffpunkt_shared.db import make_engine, upgrade_database


@pytest.fixture
def notify_settings(postgres_url_for, amqp_url, namespace, smtp_server):
    return Settings(database_url=postgres_url_for("notify"), amqp_url=amqp_url, namespace=namespace,
                    smtp_host=smtp_server.host, smtp_port=smtp_server.port, mail_retry_delays_s=(0, 0),
                    retry_delays_ms=(200, 400), scheduler_interval_s=1, agenda_change_quiet_s=2,
                    mail_from="Landesnetzwerktreffen <netzwerk@example.org>",
                    session_secret="notify-test-secret-" + "n" * 32)


@pytest.fixture
def notify_engine(notify_settings):
    engine = make_engine(notify_settings.database_url)
    upgrade_database(engine, MIGRATIONS)
    yield engine
    engine.dispose()


@pytest.fixture
def notify_worker(notify_settings, notify_engine):
    parts = start_worker(notify_settings, notify_engine)
    yield parts
    for part in parts.values():
        part.stop()


@pytest.fixture
def events(broker, namespace):
    return Events(broker, namespace)
