"""Fixtures of the cross-service tests: the embedded server and a headless Chromium, one of each per module."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # pytest runs with --import-mode=importlib
from browser_support import launch_chromium, new_page  # noqa: E402
from embedded_server import embedded_server  # noqa: E402


@pytest.fixture(scope="module")
def smtp():
    """A real SMTP server (aiosmtpd) shared by a module's tests: (handler, port)."""
    from aiosmtpd.controller import Controller
    from treffpunkt_shared.testing import RecordingHandler, free_port
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture(scope="module")
def server():
    with embedded_server() as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    """A page in a fresh context (own cookies), with the app's Content-Security-Policy in force."""
    context, page = new_page(browser)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def axe_page(browser):
    """As ``page``, but the app's CSP (default-src 'self') would block the injected axe script: bypass it."""
    context, page = new_page(browser, bypass_csp=True)
    try:
        yield page
    finally:
        context.close()
