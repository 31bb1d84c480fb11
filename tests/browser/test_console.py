"""The console in Chromium: generate, copy, inspect; support reading a broken paste; history."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.browser.conftest import (
    APIKEY,
    SECRET,
    LiveServer,
    no_horizontal_scroll,
    screenshot,
    sign_in,
    store_keys,
)
from webapp.extensions import db
from webapp.tokens import sign

pytestmark = [pytest.mark.browser, pytest.mark.slow]

@pytest.fixture
def server(live_app) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """The live server with a stored key, as after `flask setup` with VIDEOSDK_* set."""
    with live_app.app_context():
        store_keys()
        db.session.commit()
    with LiveServer(live_app) as running:
        yield running


def _looks_right(page, status: int = 200) -> None:  # type: ignore[no-untyped-def]
    assert no_horizontal_scroll(page), f"horizontal scrolling on {page.url}"
    # A refused form is answered with a 400, which Chromium reports in its console.
    expected = [f"Failed to load resource: the server responded with a status of {status} "
                "(BAD REQUEST)"] if status == 400 else []
    assert page.console_errors == expected


def test_a_developer_generates_copies_and_inspects_a_token(page, server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    sign_in(page, server, "developer")
    assert page.url == server.url + "/"
    screenshot(page, "generate")
    _looks_right(page)

    page.get_by_label("Room", exact=True).fill("standup")
    page.get_by_role("checkbox", name="rtc: meetings only").check()
    page.get_by_role("button", name="Generate token").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Your token").is_visible()
    assert page.url == server.url + "/"  # the direct answer to the POST: no redirect
    token = page.locator("#token").input_value()
    assert token.count(".") == 2
    screenshot(page, "result")
    _looks_right(page)

    page.get_by_role("button", name="Copy token").click()
    page.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == token

    page.get_by_role("button", name="Open in inspector").click()
    page.wait_for_load_state()
    assert page.url == server.url + "/inspect"
    assert token not in page.url
    assert page.locator("#verdict-word").inner_text().lower() == "valid"
    assert page.locator("#token").input_value() == token
    assert page.locator(".issuance").inner_text().startswith("Yes: by developer@example.com")
    screenshot(page, "inspect-valid")
    _looks_right(page)

    page.get_by_role("link", name="Tokens").click() if page.width_name == "desktop" else \
        page.goto(server.url + "/tokens")
    page.wait_for_load_state()
    assert page.locator("code.fingerprint").count() == 1
    assert token not in page.content()
    screenshot(page, "history")
    _looks_right(page)


def test_support_pastes_an_expired_token_in_bearer_and_quotes(page, server):
    now = int(time.time())
    exp = now - (3 * 3600 + 12 * 60 + 20)
    token = sign({"apikey": APIKEY, "permissions": ["allow_join"], "version": 2,
                  "roomId": "standup", "iat": exp - 3600, "exp": exp}, SECRET)
    sign_in(page, server, "support")
    assert page.url == server.url + "/inspect"

    page.get_by_label("Token", exact=True).fill(f'"Bearer {token}"')
    page.get_by_role("button", name="Inspect").click()
    page.wait_for_load_state()
    assert page.locator("#verdict-word").inner_text().lower() == "invalid"
    expired = page.locator("#reason-expired")
    assert expired.is_visible()
    assert "VideoSDK 4002" in expired.inner_text()
    assert "expired 3 h 12 min ago" in page.locator("dl.moments").inner_text()
    assert page.locator("#reason-input_cleaned").is_visible()
    assert page.locator(".cleaned-note").inner_text() == (
        "Cleaned from the paste: quotes around the token, the 'Bearer' prefix, spaces or line "
        "breaks around the token.")
    assert page.locator(".token-part-signature").first.inner_text() == token.split(".")[2]
    assert "Bearer" not in page.locator("#report").input_value().split("cleaned")[0]
    assert token not in page.locator("#report").input_value()
    screenshot(page, "inspect-expired")
    _looks_right(page)


def test_a_broken_token_shows_every_reason_and_a_crowded_timeline(page, server):
    now = int(time.time())
    token = sign({"apikey": APIKEY, "permissions": ["ask_join", "allow_mod"], "roles": ["crawler"],
                  "participantId": "jane doe", "iat": now - 120, "nbf": now - 60,
                  "exp": now + 30 * 86400}, SECRET)
    sign_in(page, server, "support")
    page.get_by_label("Token", exact=True).fill(token)
    page.locator("summary").click()
    page.get_by_label("Room tried").fill("standup")
    page.get_by_label("Join a meeting").check()
    page.get_by_label("When it was tried").fill(
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now - 30)))
    page.get_by_role("button", name="Inspect").click()
    page.wait_for_load_state()
    codes = page.locator("li.reason-card code.reason-code").all_inner_texts()
    # SPEC 3 "Order and summary" (changed): errors, then warnings, each in the table's order.
    assert codes == ["conflicting_permissions", "version_required", "invalid_participant_id",
                     "crawler_cannot_join", "long_lifetime"]
    assert page.locator("svg.timeline-svg .tl-name").all_text_contents() == [
        "iat", "nbf", "checked", "now", "exp"]
    screenshot(page, "inspect-broken")
    _looks_right(page)


def test_the_generator_refuses_ask_join_with_allow_mod_beside_the_field(page, server):
    sign_in(page, server, "developer")
    page.get_by_label("ask_join: asks to be let in").check()
    page.get_by_label("allow_mod: may turn others' camera and microphone on and off").check()
    page.get_by_label("Room", exact=True).fill("standup")
    page.get_by_role("button", name="Generate token").click()
    page.wait_for_load_state()
    feedback = page.locator("#allow_mod ~ .invalid-feedback")
    assert feedback.is_visible()
    assert feedback.inner_text() == ("ask_join cannot be combined with allow_mod: choose "
                                     "ask_join alone or drop it (VideoSDK error 4008).")
    assert page.get_by_label("ask_join: asks to be let in").is_checked()
    assert page.get_by_label("Room", exact=True).input_value() == "standup"
    screenshot(page, "generate-refused")
    _looks_right(page, status=400)


def test_choosing_a_key_offers_only_its_presets(page, server):
    sign_in(page, server, "developer")
    visible = "Array.from(document.querySelectorAll('#lifetime option')).filter(o => !o.hidden)" \
              ".map(o => o.value)"
    assert page.evaluate(visible) == ["10m", "1h", "24h"]
    page.get_by_label("Sign with", exact=True).select_option("team-long")
    assert page.evaluate(visible) == ["10m", "1h", "24h", "7d", "30d"]
    page.get_by_label("Preset", exact=True).select_option("30d")
    page.get_by_label("Sign with", exact=True).select_option("default")
    assert page.evaluate(visible) == ["10m", "1h", "24h"]
    assert page.get_by_label("Preset", exact=True).input_value() == "1h"


def test_without_javascript_a_long_key_and_a_long_preset_still_mint(chromium, server):
    """SPEC 4: pages work without JavaScript; the presets are not left to the script."""
    context = chromium.new_context(java_script_enabled=False,
                                   viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, server, "developer")
        offered = page.locator("#lifetime option:not([hidden]):not([disabled])")
        assert offered.all_inner_texts() == ["10 minutes", "1 hour", "24 hours", "7 days",
                                             "30 days"]
        page.get_by_label("Sign with", exact=True).select_option("team-long")
        page.get_by_label("Preset", exact=True).select_option("7d")
        page.get_by_role("button", name="Generate token").click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", name="Your token").is_visible()
        lifetime = page.locator(".moment-row", has_text="Lifetime").inner_text()
        assert lifetime.split() == ["Lifetime", "7d", "(604800", "s)"]
    finally:
        context.close()
