"""Every page in both colour schemes and both widths: axe-core finds no serious or critical
violation, nothing scrolls sideways, and a screenshot is kept under screenshots/.

SPEC 4: the pages follow the browser's light or dark colour scheme (Bootstrap 5.3 colour
modes, set from `prefers-color-scheme` by static/js/theme.js).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.browser.conftest import (
    APIKEY,
    SCREENSHOTS,
    LiveServer,
    no_horizontal_scroll,
    screenshot,
    serious_violations,
    sign_in,
    store_keys,
)
from webapp.extensions import db
from webapp.services.accounts import create_user
from webapp.services.api_clients import create_client
from webapp.services.videosdk_keys import seed_first_key
from webapp.tokens import sign

pytestmark = [pytest.mark.browser, pytest.mark.slow]

@pytest.fixture
def server(live_app) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """Keys (one sandbox), a client and a second person, so every page has something to show."""
    with live_app.app_context():
        seed_first_key()
        store_keys()
        create_client("meetings-backend", ["tokens:mint", "tokens:inspect"],
                      key_labels=["default"])
        create_user("other-admin@example.com", "a long enough password 1", "admin")
        db.session.commit()
    with LiveServer(live_app) as running:
        yield running


def _check(page, axe_source, name: str) -> None:  # type: ignore[no-untyped-def]
    """The page is in the browser's scheme, fits, is kept as a screenshot; axe's serious and
    critical findings are collected on `page.findings` (asserted empty at the end)."""
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.dataset.bsTheme") == page.scheme
    assert no_horizontal_scroll(page), f"{name} scrolls sideways at {page.width_name}"
    screenshot(page, name)
    page.findings.extend(f"{name}: {v}" for v in serious_violations(page, axe_source))


def _submit(page, name: str) -> None:  # type: ignore[no-untyped-def]
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name=name, exact=True).first.click()


def test_every_page_in_both_schemes(scheme_page, server, axe_source):
    page, base = scheme_page, server.url
    page.findings = []
    page.goto(base + "/login")
    _check(page, axe_source, "login")
    sign_in(page, server, "admin")

    # The generator, refused in one round, then a token.
    page.goto(base + "/")
    _check(page, axe_source, "generate")
    page.get_by_label("ask_join: asks to be let in").check()
    page.get_by_label("allow_mod: may turn others' camera and microphone on and off").check()
    page.get_by_label("Participant", exact=True).fill("jane doe")
    _submit(page, "Generate token")
    _check(page, axe_source, "generate-refused")
    page.get_by_label("allow_join: joins directly").check()
    page.get_by_label("allow_mod: may turn others' camera and microphone on and off").uncheck()
    page.get_by_label("Participant", exact=True).fill("jane")
    page.get_by_label("Room", exact=True).fill("standup")
    _submit(page, "Generate token")
    _check(page, axe_source, "result")
    token = page.locator("#token").input_value()

    # The inspector: empty, valid, wrong secret, not a token.
    page.goto(base + "/inspect")
    _check(page, axe_source, "inspect")
    for name, paste in (
        ("inspect-valid", token),
        ("inspect-wrong-secret", sign({"apikey": APIKEY, "permissions": ["allow_join"],
                                       "iat": int(time.time()) - 60,
                                       "exp": int(time.time()) + 3600}, "ff" * 32)),
        ("inspect-not-a-token", "hello, this is not a token"),
    ):
        page.goto(base + "/inspect")
        page.get_by_label("Token", exact=True).fill(paste)
        _submit(page, "Inspect")
        _check(page, axe_source, name)

    page.goto(base + "/tokens")
    _check(page, axe_source, "history")
    page.locator("a.token-detail-link").first.click()
    _check(page, axe_source, "token-detail")

    for name, path in (("admin-keys", "/admin/keys"), ("admin-key-new", "/admin/keys/new"),
                       ("admin-key-edit", "/admin/keys/2"),
                       ("admin-key-disable", "/admin/keys/1/disable"),
                       ("admin-users", "/admin/users"), ("admin-user-new", "/admin/users/new"),
                       ("admin-user", "/admin/users/2"),
                       ("admin-user-disable", "/admin/users/2/disable"),
                       ("admin-clients", "/admin/clients"),
                       ("admin-client-new", "/admin/clients/new"),
                       ("admin-client-edit", "/admin/clients/1"),
                       ("admin-client-revoke", "/admin/clients/1/revoke"),
                       ("admin-audit", "/admin/audit"), ("password", "/account/password"),
                       ("not-found", "/no-such-page")):
        page.goto(base + path)
        _check(page, axe_source, name)

    page.goto(base + "/admin/users/new")
    page.get_by_label("Email").fill("new-dev@example.com")
    _submit(page, "Create person")
    _check(page, axe_source, "admin-password-once")

    page.goto(base + "/admin/clients/new")
    page.get_by_label("Name").fill("second-backend")
    page.get_by_label("tokens:mint").check()
    _submit(page, "Create client")
    _check(page, axe_source, "admin-client-created")

    page.goto(base + "/admin/users/4")  # other-admin@example.com: demote asks first
    page.get_by_label("Role").select_option("support")
    _submit(page, "Change role")
    _check(page, axe_source, "admin-user-demote")
    (SCREENSHOTS / f"axe-{page.width_name}.txt").write_text("\n".join(page.findings) + "\n")
    assert page.findings == [], f"see screenshots/axe-{page.width_name}.txt"
    # Chromium logs the refused generator form's 400 and the 404 page; nothing else may fail.
    assert [e for e in page.console_errors
            if "400 (BAD REQUEST)" not in e and "404 (NOT FOUND)" not in e] == []
