"""Shared by the browser tests: launching Debian's Chromium through Playwright, and the axe-core check.

Not a test module: ``from browser_support import ...`` (after putting tests/ on sys.path).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
AXE_RUN = "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a','wcag2aa','wcag21a','wcag21aa']}})"


def axe_js() -> Path:
    return Path(importlib.util.find_spec("axe_playwright_python").origin).parent / "axe.min.js"


def launch_chromium(playwright):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def new_page(browser, **options):
    context = browser.new_context(locale="de-DE", **options)
    context.set_default_timeout(10_000)
    return context, context.new_page()


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(axe_js()))
    return page.evaluate(AXE_RUN)["violations"]


def assert_accessible(page, what: str) -> None:
    violations = axe_violations(page)
    if violations:
        lines = [f"axe-core: {len(violations)} violation(s) on {what} ({page.url}):"]
        for v in violations:
            lines.append(f"  {v['id']} [{v.get('impact')}]: {v['help']}")
            for node in v["nodes"]:
                summary = " | ".join(line.strip() for line in (node.get("failureSummary") or "").splitlines()
                                     if line.strip())
                lines.append(f"      {node['target']}: {summary}")
        report = "\n".join(lines)
        print(report)
        pytest.fail(report, pytrace=False)
