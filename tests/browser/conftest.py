"""A live server on loopback and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, base_config
from tests.support import create_schema, unavailable
from webapp import create_app
from webapp.extensions import db
from webapp.services.accounts import create_user

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
WIDTHS = {"phone": 390, "desktop": 1366}
SCHEMES = ("light", "dark")
HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, and axe's best practices (the bar); only serious and critical
# findings fail a test.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


class LiveServer:
    """The app served by werkzeug on 127.0.0.1 in a background thread."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_app(tmp_path):  # type: ignore[no-untyped-def]
    """An app on a file SQLite database, with one person of each role."""
    app = create_app(base_config(tmp_path, f"sqlite:///{tmp_path / 'live.db'}"))
    with app.app_context():
        create_schema()
        for role in ("admin", "developer", "support"):
            create_user(f"{role}@example.com", PASSWORD, role)
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def live_server(live_app) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    with LiveServer(live_app) as server:
        yield server


@pytest.fixture(scope="session")
def chromium():  # type: ignore[no-untyped-def]
    """A headless Debian Chromium, or a stated skip (a failure in CI) when there is none."""
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        unavailable(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=list(WIDTHS))
def page(request, chromium):  # type: ignore[no-untyped-def]
    """A fresh browser page at phone or desktop width; its console errors are collected."""
    width = WIDTHS[request.param]
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.width_name = request.param
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    yield page
    context.close()


@pytest.fixture(params=[(s, w) for s in SCHEMES for w in WIDTHS], ids=lambda p: f"{p[0]}-{p[1]}")
def scheme_page(request, chromium):  # type: ignore[no-untyped-def]
    """A fresh page in a light or dark `prefers-color-scheme`, at phone or desktop width."""
    scheme, width_name = request.param
    context = chromium.new_context(viewport={"width": WIDTHS[width_name], "height": 900},
                                   color_scheme=scheme)
    page = context.new_page()
    page.width_name = f"{scheme}-{width_name}"
    page.scheme = scheme
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    yield page
    context.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script, `npm ci`-installed from tests/browser/package-lock.json if missing."""
    if not AXE.is_file():
        npm = shutil.which("npm")
        if npm is None:
            unavailable("npm is not installed: the accessibility checks need axe-core from npm")
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE,
                              capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            unavailable(f"npm ci failed in {HERE}: {done.stderr.strip()[-500:]}")
    return AXE.read_text(encoding="utf-8")


def serious_violations(page, axe: str) -> list[str]:  # type: ignore[no-untyped-def]
    """axe-core's serious and critical findings on the page, one line each (rule: nodes).

    The script is evaluated through the DevTools protocol, which the page's CSP does not
    govern; nothing is added to the page's own scripts.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe)
    result = page.evaluate(
        "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']}); return r.violations.map(v => ({id: v.id,"
        " impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ') + ' ' +"
        " (n.failureSummary || '').split('\\n').slice(1, 2).join(''))})); }", AXE_TAGS)
    return [f"{v['id']} ({v['impact']}): {json.dumps(v['nodes'][:5])}"
            for v in result if v["impact"] in ("serious", "critical")]


APIKEY = "a1b2c3d4-0000-4000-8000-00000000d0d0"
SECRET = "0d" * 32


def store_keys() -> None:
    """The keys as after `flask setup` with VIDEOSDK_* set, plus one of 30 days (uncommitted)."""
    from webapp.services.videosdk_keys import add_key

    add_key("default", APIKEY, SECRET)
    add_key("team-long", "a1b2c3d4-0000-4000-8000-0000000010ng", "1e" * 32, max_lifetime="30d")


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Save a full-page screenshot under screenshots/ (git ignores it)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}-{page.width_name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def no_horizontal_scroll(page) -> bool:  # type: ignore[no-untyped-def]
    """Whether the page fits its viewport's width."""
    return bool(page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def sign_in(page, server: LiveServer, role: str) -> None:  # type: ignore[no-untyped-def]
    """Sign in through the real page."""
    page.goto(server.url + "/login")
    page.get_by_label("Email").fill(f"{role}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
