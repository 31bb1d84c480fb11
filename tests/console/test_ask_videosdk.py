"""The inspector's "Ask VideoSDK": VideoSDK's own answer beside the diagnosis (SPEC 4, 5)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.console.conftest import KEYS
from tests.console.pages import parse
from tests.videosdk_standin import INVALID, ROOM_ID, Served, closed_port_url, serve
from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.tokens import sign

pytestmark = pytest.mark.slow


@pytest.fixture
def videosdk(app, keys) -> Iterator[Served]:  # type: ignore[no-untyped-def]
    """The stand-in, knowing the default key's secret (not the sandbox's, as VideoSDK)."""
    yield from serve(app, {KEYS["default"].apikey: KEYS["default"].secret})


def token_for(key: str = "default", secret: str | None = None, lifetime: int = 3600,
              **claims: object) -> str:
    now = int(time.time())
    payload: dict[str, object] = {"apikey": KEYS[key].apikey, "permissions": ["allow_join"],
                                  "iat": now, "exp": now + lifetime, **claims}
    return sign(payload, secret or KEYS[key].secret)


def section(html: str):  # type: ignore[no-untyped-def]
    found = parse(html).find_all("section", cls="ask-videosdk")
    return found[0] if found else None


def calls(app) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return list(db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "videosdk.called").order_by(AuditEvent.id)).scalars())


def test_inspect_offers_the_button_without_calling_videosdk(support_client, videosdk):
    html = support_client.post("/inspect", data={
        "token": token_for(version=2, roomId=ROOM_ID)}).get_data(as_text=True)
    shown = section(html)
    assert shown is not None
    buttons = shown.find_all("button")
    assert [(b.attrs.get("form"), b.attrs.get("name"), b.attrs.get("value"), b.text())
            for b in buttons] == [("inspector", "ask", "videosdk",
                                   f"Ask VideoSDK about room {ROOM_ID}")]
    assert videosdk.standin.count == 0


def test_asking_shows_videosdks_own_words_for_the_tokens_room(app, support_client, videosdk):
    token = token_for(version=2, roomId=ROOM_ID)
    response = support_client.post("/inspect", data={"token": token, "ask": "videosdk"})
    assert response.status_code == 200
    shown = section(response.get_data(as_text=True))
    assert shown.find_all("span", cls="videosdk-status")[0].text() == "HTTP 200"
    assert "VideoSDK's own words" in shown.text()
    (seen,) = videosdk.standin.seen
    assert (seen.method, seen.path) == ("GET", f"/v2/rooms/validate/{ROOM_ID}")
    assert seen.headers["Authorization"] == token
    (line,) = calls(app)
    assert (line.actor_kind, line.outcome, line.target) == ("person", "success", ROOM_ID)
    assert line.actor == support_client.person.email
    assert line.details["via"] == "console"
    assert line.details["status"] == 200
    assert token not in str(line.details)


def test_videosdks_refusal_is_shown_as_its_words_beside_our_verdict(support_client, videosdk):
    # Signed with a secret this service does not know: "unverified" here, 401 at VideoSDK.
    stranger = sign({"apikey": "not-stored-here", "permissions": ["allow_join"],
                     "iat": int(time.time()), "exp": int(time.time()) + 600}, "9" * 64)
    html = support_client.post("/inspect", data={
        "token": stranger, "room": "abcd-efgh-ijkl", "ask": "videosdk"}).get_data(as_text=True)
    assert parse(html).by_id("verdict-word").text() == "unverified"
    shown = section(html)
    assert shown.find_all("span", cls="videosdk-status")[0].text() == "HTTP 401"
    assert shown.find_all("span", cls="videosdk-message")[0].text() == INVALID["message"]


def test_the_room_tried_is_used_when_the_token_names_none(support_client, videosdk):
    support_client.post("/inspect", data={"token": token_for(), "room": "zzzz-zzzz-zzzz",
                                          "ask": "videosdk"})
    assert videosdk.standin.seen[0].path == "/v2/rooms/validate/zzzz-zzzz-zzzz"


def test_without_a_room_the_button_says_a_room_is_needed(support_client, videosdk):
    html = support_client.post("/inspect", data={"token": token_for(), "ask": "videosdk"}
                               ).get_data(as_text=True)
    shown = section(html)
    (button,) = shown.find_all("button")
    assert button.text() == "Ask VideoSDK (a room is needed)"
    assert "disabled" in button.attrs
    assert "needs a room" in shown.text()
    assert videosdk.standin.count == 0


def test_never_for_the_sandbox_key(app, support_client, videosdk):
    token = token_for("sandbox", version=2, roomId=ROOM_ID)
    html = support_client.post("/inspect", data={"token": token, "ask": "videosdk"}
                               ).get_data(as_text=True)
    shown = section(html)
    assert "sandbox key, which VideoSDK does not know" in shown.text()
    assert shown.find_all("button", cls="btn-outline-primary") == []
    assert videosdk.standin.count == 0
    assert calls(app) == []


def test_a_hostile_room_is_not_sent(support_client, videosdk):
    html = support_client.post("/inspect", data={"token": token_for(), "room": "../rooms",
                                                 "ask": "videosdk"}).get_data(as_text=True)
    assert "letters, digits, - or _" in section(html).text()
    assert videosdk.standin.count == 0


def test_videosdk_down_is_said_plainly(app, support_client, keys):
    app.config["VIDEOSDK_API_ENDPOINT"] = closed_port_url()
    response = support_client.post("/inspect", data={
        "token": token_for(version=2, roomId=ROOM_ID), "ask": "videosdk"})
    assert response.status_code == 200
    failure = section(response.get_data(as_text=True)).find_all("div", cls="videosdk-failure")
    assert failure[0].text() == ("VideoSDK could not be asked: VideoSDK's REST API could not "
                                 "be reached (ConnectError).")
    assert [line.outcome for line in calls(app)] == ["failure"]


def test_with_the_endpoint_empty_nothing_is_offered(app, support_client, keys):
    app.config["VIDEOSDK_API_ENDPOINT"] = ""
    html = support_client.post("/inspect", data={
        "token": token_for(version=2, roomId=ROOM_ID), "ask": "videosdk"}).get_data(as_text=True)
    assert section(html) is None


def test_a_get_never_asks(support_client, videosdk):
    support_client.get(f"/inspect?token={token_for()}&room={ROOM_ID}&ask=videosdk")
    assert videosdk.standin.count == 0
