"""The inspector's "Ask VideoSDK" in Chromium: a POST button, VideoSDK's words beside ours."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.browser.conftest import LiveServer, no_horizontal_scroll, screenshot, sign_in
from tests.videosdk_standin import INVALID, ROOM_ID, Served, serve
from webapp.extensions import db
from webapp.services.videosdk_keys import add_key
from webapp.tokens import sign

pytestmark = [pytest.mark.browser, pytest.mark.slow]

APIKEY = "a1b2c3d4-0000-4000-8000-00000000d0d0"
SECRET = "0d" * 32
SANDBOX_APIKEY = "sandbox-0011223344556677"
SANDBOX_SECRET = "5a" * 32


@pytest.fixture
def videosdk(live_app) -> Iterator[Served]:  # type: ignore[no-untyped-def]
    yield from serve(live_app, {APIKEY: SECRET})


@pytest.fixture
def server(live_app, videosdk) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    with live_app.app_context():
        add_key("default", APIKEY, SECRET)
        add_key("sandbox", SANDBOX_APIKEY, SANDBOX_SECRET, sandbox=True)
        db.session.commit()
    with LiveServer(live_app) as running:
        yield running


def token(secret: str = SECRET, apikey: str = APIKEY, lifetime: int = 600,
          **claims: object) -> str:
    now = int(time.time())
    return sign({"apikey": apikey, "permissions": ["allow_join"], "iat": now,
                 "exp": now + lifetime, **claims}, secret)


def inspect(page, server, pasted: str, room: str = "") -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/inspect")
    page.get_by_label("Token", exact=True).fill(pasted)
    if room:
        page.locator("details.attempt-details summary").click()
        page.get_by_label("Room tried").fill(room)
    page.get_by_role("button", name="Inspect", exact=True).click()
    page.wait_for_load_state()


def test_support_asks_videosdk_and_reads_its_words_beside_the_verdict(page, server, videosdk):
    sign_in(page, server, "support")
    # Valid here, but VideoSDK answers 400 for a room it does not know.
    inspect(page, server, token(version=2, roomId="zzzz-zzzz-zzzz"))
    assert page.locator("#verdict-word").inner_text().lower() == "valid"
    assert videosdk.standin.count == 0  # inspecting alone never calls VideoSDK
    requests: list[str] = []
    page.on("request", lambda r: requests.append(f"{r.method} {r.url}"))
    page.get_by_role("button", name="Ask VideoSDK about room zzzz-zzzz-zzzz").click()
    page.wait_for_load_state()
    assert requests[0] == f"POST {server.url}/inspect"  # the token travels by POST only
    answer = page.locator("#videosdk-answer")
    assert answer.is_visible()
    assert "VideoSDK's own words" in answer.inner_text()
    assert page.locator(".videosdk-status").inner_text() == "HTTP 400"
    assert page.locator(".videosdk-message").inner_text() == "Invalid room id"
    assert page.locator("#verdict-word").inner_text().lower() == "valid"  # ours, beside it
    assert [s.path for s in videosdk.standin.seen] == ["/v2/rooms/validate/zzzz-zzzz-zzzz"]
    screenshot(page, "inspect-ask-videosdk")
    assert no_horizontal_scroll(page)
    assert page.console_errors == []


def test_the_room_tried_is_asked_about_and_a_refusal_shown(page, server, videosdk):
    sign_in(page, server, "support")
    stranger = token(secret="9" * 64, apikey="not-stored-here")
    inspect(page, server, stranger, room=ROOM_ID)
    page.get_by_role("button", name=f"Ask VideoSDK about room {ROOM_ID}").click()
    page.wait_for_load_state()
    assert page.locator(".videosdk-status").inner_text() == "HTTP 401"
    assert page.locator(".videosdk-message").inner_text() == INVALID["message"]


def test_without_a_room_the_button_says_one_is_needed(page, server, videosdk):
    sign_in(page, server, "support")
    inspect(page, server, token())
    button = page.get_by_role("button", name="Ask VideoSDK (a room is needed)")
    assert button.is_disabled()
    assert "needs a room" in page.locator("#ask-videosdk").inner_text()
    assert videosdk.standin.count == 0


def test_the_sandbox_key_is_never_sent(page, server, videosdk):
    sign_in(page, server, "support")
    inspect(page, server, token(SANDBOX_SECRET, SANDBOX_APIKEY, version=2, roomId=ROOM_ID))
    assert "VideoSDK does not know" in page.locator("#ask-videosdk").inner_text()
    assert page.get_by_role("button", name=f"Ask VideoSDK about room {ROOM_ID}").count() == 0
    assert videosdk.standin.count == 0
