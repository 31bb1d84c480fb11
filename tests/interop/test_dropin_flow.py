"""The sample client apps' calls, from node's fetch, get the example servers' answers here.

VideoSDK's sample apps call three routes on their auth server. This runs those calls
(tests/interop/sample_client_flow.js) twice: against Token Console, with only the base URL
changed and the Authorization header added; and against what the Node example server
answers, which is VideoSDK's own body passed through (`res.json(result)`), reproduced here by
asking the stand-in of VideoSDK's REST API directly with the same token. The shapes must match.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import LiveServer
from tests.interop.conftest import _unavailable
from tests.interop.node import HERE
from tests.videosdk_standin import ROOM_ID, Served, serve
from webapp.extensions import db
from webapp.services.api_clients import create_client
from webapp.services.videosdk_keys import add_key

pytestmark = [pytest.mark.interop, pytest.mark.slow]

APIKEY = "44444444-aaaa-4bbb-8ccc-000000000004"
SECRET = "d" * 64


@pytest.fixture
def videosdk(app) -> Iterator[Served]:  # type: ignore[no-untyped-def]
    yield from serve(app, {APIKEY: SECRET})


@pytest.fixture
def client_key(app) -> str:  # type: ignore[no-untyped-def]
    with app.app_context():
        add_key("main", APIKEY, SECRET)
        _, plaintext = create_client("sample-app", ["tokens:mint"])
        db.session.commit()
    return plaintext


def run_flow(auth_url: str, headers: dict[str, str], query: str = "") -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not installed: the drop-in interop test needs Node.js 18+")
    done = subprocess.run(
        [node, str(HERE / "sample_client_flow.js")],
        input=json.dumps({"authUrl": auth_url, "headers": headers, "region": "sg001",
                          "getTokenQuery": query}),
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def shape(value: object) -> object:
    """The JSON shape of a value: keys and types, not contents."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def example_server_answers(videosdk: Served, token: str) -> tuple[object, object]:
    """What the Node example server answers: VideoSDK's body for the same calls."""
    with httpx.Client() as http:
        created = http.post(videosdk.url + "/rooms", headers={"Authorization": token},
                            json={"region": "sg001"})
        validated = http.get(f"{videosdk.url}/rooms/validate/{ROOM_ID}",
                             headers={"Authorization": token})
    return created.json(), validated.json()


def test_the_sample_apps_flow_gets_the_example_servers_shapes(app, videosdk, client_key):
    with LiveServer(app) as server:
        ours = run_flow(server.url, {"Authorization": f"Bearer {client_key}"})
    assert ours["getToken"]["status"] == 200
    assert shape(ours["getToken"]["body"]) == {"token": "str"}
    token = ours["getToken"]["body"]["token"]
    assert ours["created"]["status"] == 200, ours["created"]
    assert ours["validated"]["status"] == 200, ours["validated"]
    assert ours["created"]["contentType"] == "application/json"
    assert ours["created"]["body"]["roomId"] == ROOM_ID
    assert ours["validated"]["body"]["roomId"] == ROOM_ID
    # The example server's answers, with the very token the flow was given.
    created, validated = example_server_answers(videosdk, token)
    assert shape(ours["created"]["body"]) == shape(created)
    assert shape(ours["validated"]["body"]) == shape(validated)
    assert ours["created"]["body"] == created
    # The token the flow got went to VideoSDK exactly as the example server sends it.
    forwarded = [seen.headers["Authorization"] for seen in videosdk.standin.seen]
    assert forwarded == [token] * 4


def test_without_the_header_every_route_is_refused(app, videosdk, client_key):
    with LiveServer(app) as server:
        bare = run_flow(server.url, {})
    for step in ("getToken", "created", "validated"):
        assert bare[step]["status"] == 401
        assert bare[step]["body"]["code"] == "unauthorized"
    assert videosdk.standin.count == 0


def test_a_room_bound_rtc_token_is_refused_before_videosdk_with_the_reason(
        app, videosdk, client_key):
    # The examples' common failure: /get-token?roomId=... hands out roles ["rtc"], which
    # VideoSDK's server API refuses. Here it is a 422 saying so, and never sent.
    with LiveServer(app) as server:
        ours = run_flow(server.url, {"Authorization": f"Bearer {client_key}"},
                        query=f"?roomId={ROOM_ID}")
    assert ours["getToken"]["status"] == 200
    for step in ("created", "validated"):
        assert ours[step]["status"] == 422
        assert ours[step]["contentType"] == "application/problem+json"
        assert "rtc" in ours[step]["body"]["detail"]
    assert videosdk.standin.count == 0
