"""Issue 19 in Chromium at 390 px and 1366 px: what a person sees first, and where.

1: after a check the verdict banner (summary, copy report) starts inside the first screen,
   even with "What the customer tried" filled in. 2: every panel agrees with the verdict.
3: a paste that is not a token shows only what applies. 8: every error in one round, each
beside its field. 9: the result page leads with the token. 11: confirmations.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.browser.conftest import APIKEY, SECRET, LiveServer, screenshot, sign_in, store_keys
from webapp.extensions import db
from webapp.services.api_clients import create_client
from webapp.tokens import sign

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORT_HEIGHT = 900  # conftest's page fixture


@pytest.fixture
def server(live_app) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    with live_app.app_context():
        store_keys()
        create_client("meetings-backend", ["tokens:mint"], key_labels=["default"])
        db.session.commit()
    with LiveServer(live_app) as running:
        yield running


def _box(page, selector: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not drawn"
    return box  # type: ignore[no-any-return]


def _submit(page, name: str) -> None:  # type: ignore[no-untyped-def]
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name=name, exact=True).first.click()


def test_the_verdict_summary_and_copy_report_are_on_the_first_screen(page, server):
    now = int(time.time())
    token = sign({"apikey": APIKEY, "permissions": ["allow_join"], "version": 2,
                  "roomId": "standup", "iat": now - 7200, "exp": now - 3600}, SECRET)
    sign_in(page, server, "support")
    assert page.evaluate("document.activeElement.id") == "token"  # focus on the paste box
    page.locator("#token").fill(token)
    page.locator("summary").click()
    page.get_by_label("Room tried").fill("retro")
    page.get_by_label("Participant tried").fill("jane")
    page.get_by_label("Join a meeting").check()
    page.get_by_label("When it was tried").fill(
        time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - 60)))
    with page.expect_navigation(wait_until="load"):
        page.locator("#token").press("Control+Enter")  # the keyboard submits
    assert page.evaluate("window.scrollY") == 0
    banner = _box(page, "#verdict")
    assert 0 < banner["y"] < VIEWPORT_HEIGHT / 3
    assert page.locator("#verdict-word").inner_text().lower() == "invalid"
    summary = page.locator("#verdict-summary")
    assert "expired" in summary.inner_text()  # the root cause (the words are the diagnosis's)
    assert _box(page, "#verdict-summary")["y"] < VIEWPORT_HEIGHT
    copy = page.locator("#verdict .js-copy")
    assert copy.inner_text() == "Copy report"
    copy_box = _box(page, "#verdict .js-copy")
    assert copy_box["y"] + copy_box["height"] < VIEWPORT_HEIGHT
    # The first reason follows the banner, before the form to check again.
    assert _box(page, "#reasons-title")["y"] > banner["y"] + banner["height"]
    assert _box(page, "#reasons-title")["y"] < _box(page, "#inspector")["y"]
    report = page.locator("#report").input_value()
    assert ("customer tried: room 'retro', participant 'jane', to join a meeting, at "
            in report)
    assert f"summary: {summary.inner_text()}" in report
    screenshot(page, "first-screen-inspect")


def test_every_panel_agrees_with_a_wrong_secret(page, server):
    now = int(time.time())
    token = sign({"apikey": APIKEY, "permissions": ["allow_join"], "iat": now - 60,
                  "exp": now + 3600}, "ff" * 32)
    sign_in(page, server, "support")
    page.locator("#token").fill(token)
    _submit(page, "Inspect")
    assert page.locator("#verdict-word").inner_text().lower() == "invalid"
    signature = page.locator(".token-split .token-part-signature")
    assert "signature-mismatch" in (signature.get_attribute("class") or "")
    colours = page.evaluate("""() => ['verified', 'mismatch'].map(s => {
        const probe = document.createElement('span');
        probe.className = 'token-part-signature signature-' + s;
        document.body.append(probe);
        const c = getComputedStyle(probe).color; probe.remove(); return c; })""")
    shown = signature.evaluate("e => getComputedStyle(e).color")
    assert shown == colours[1] and shown != colours[0]
    apikey_meaning = page.locator("#claims tr", has_text="apikey").locator("td").nth(1)
    assert "its secret signed the token" not in apikey_meaning.inner_text()
    assert "the signature does not match" in apikey_meaning.inner_text()
    expires = page.locator(".moment-row", has_text="Expires (exp)").inner_text()
    assert "valid for" not in expires
    assert "the time window is open, but the token fails for another reason" in expires
    assert page.locator(".timeline-note").inner_text().startswith(
        "The picture shows the time window only")
    legend = page.locator(".tl-legend").inner_text()
    assert "works" not in legend and "time window" in legend
    screenshot(page, "agree-wrong-secret")


@pytest.mark.parametrize("paste", ["hello, this is not a token",
                                   "a1b2c3d4-0000-4000-8000-00000000d0d0"])
def test_a_paste_that_is_not_a_token_shows_only_what_applies(page, server, paste):
    sign_in(page, server, "support")
    page.locator("#token").fill(paste)
    _submit(page, "Inspect")
    assert page.locator("#verdict-word").inner_text().lower() == "invalid"
    assert page.locator("#times-title").count() == 0  # no timeline, no "carries no time"
    assert page.locator("#issuance-title").count() == 0  # no "Issued here?"
    assert page.locator("#parts-title").count() == 0
    assert "carries no time" not in page.content()
    assert page.locator("#reasons-title").is_visible()


def test_every_error_of_a_submission_in_one_round_beside_its_field(page, server):
    sign_in(page, server, "developer")
    page.get_by_label("ask_join: asks to be let in").check()
    page.get_by_label("allow_mod: may turn others' camera and microphone on and off").check()
    page.get_by_label("Participant", exact=True).fill("jane doe")
    page.get_by_label("Or type a lifetime", exact=True).fill("3d")
    _submit(page, "Generate token")
    feedback = {name: page.locator(f"#{name} ~ .invalid-feedback")
                for name in ("allow_mod", "participant", "expires_in")}
    assert feedback["allow_mod"].inner_text().startswith("ask_join cannot be combined")
    assert feedback["participant"].inner_text().startswith("participantId must not contain")
    assert feedback["expires_in"].inner_text() == (
        "A lifetime of 3d is beyond the maximum allowed here, 1d: ask for 1d or less.")
    for name, message in feedback.items():
        assert message.is_visible()
        field, text = _box(page, f"#{name}"), message.bounding_box()
        assert text is not None
        assert 0 <= text["y"] - field["y"] < 120, name  # beside (under) its own field
    assert page.locator(".invalid-feedback:visible").count() == 3
    assert "max lifetime 1d" in page.get_by_label("Sign with", exact=True).inner_text()
    screenshot(page, "generate-three-errors")


def test_the_result_page_leads_with_the_token_and_returns_to_the_filled_form(page, server):
    sign_in(page, server, "developer")
    page.get_by_label("Room", exact=True).fill("standup")
    page.get_by_label("Participant", exact=True).fill("jane")
    page.get_by_label("Or type a lifetime", exact=True).fill("2h")
    _submit(page, "Generate token")
    assert page.locator("#expiry-words").inner_text() == "valid for 2 h more"
    token_box = _box(page, "#token")
    assert token_box["y"] < VIEWPORT_HEIGHT / 2
    assert token_box["y"] < _box(page, "#claims-title")["y"]
    copy = page.get_by_role("button", name="Copy token")
    assert "btn-primary" in (copy.get_attribute("class") or "")
    copy_box = copy.bounding_box()
    assert copy_box is not None and copy_box["y"] + copy_box["height"] < VIEWPORT_HEIGHT
    # A claim value that fits a line is not broken (the apikey at its hyphens).
    value = page.locator("#claims tr", has_text="apikey").locator("code.claim-value")
    assert value.evaluate("e => e.getClientRects().length") == 1
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="Generate another with these settings").click()
    assert page.get_by_label("Room", exact=True).input_value() == "standup"
    assert page.get_by_label("Participant", exact=True).input_value() == "jane"
    assert page.get_by_label("Or type a lifetime", exact=True).input_value() == "2h"
    screenshot(page, "result-again")


def test_revoking_a_client_and_disabling_a_key_ask_first_naming_them(page, server):
    sign_in(page, server, "admin")
    page.goto(server.url + "/admin/clients")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="Revoke meetings-backend").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Revoke this API client?"
    assert page.locator(".confirm-subject").inner_text() == "meetings-backend"
    confirm = page.get_by_role("button", name="Revoke meetings-backend")
    box = confirm.bounding_box()
    assert box is not None and box["y"] + box["height"] < VIEWPORT_HEIGHT
    screenshot(page, "confirm-revoke")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="Cancel").click()
    assert page.locator("td", has_text="active").count() == 1  # nothing happened
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="Revoke meetings-backend").click()
    _submit(page, "Revoke meetings-backend")
    assert page.get_by_role("alert").first.inner_text().startswith(
        "Client 'meetings-backend' is revoked")

    page.goto(server.url + "/admin/keys")
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="Edit team-long").click()
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="Disable key").click()
    assert page.locator(".confirm-subject").inner_text().startswith("team-long (")
    _submit(page, "Disable team-long")
    assert page.get_by_role("alert").first.inner_text().startswith("Key 'team-long' is disabled")
