"""POST /create-meeting and /validate-meeting/<meetingId>: the example servers' relay (SPEC 5).

Every test talks to a stand-in of VideoSDK's REST API served for real on loopback
(tests/videosdk_standin.py), which verifies each token's HS256 signature with PyJWT.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import jwt
import pytest
from sqlalchemy import select

from tests.support import trail_lines
from tests.tokens.factory import raw_token
from tests.videosdk_standin import INVALID, ROOM_ID, Served, StandIn, closed_port_url, serve
from webapp.extensions import db
from webapp.models import IssuedToken
from webapp.services.audit_trail import TrailLine

from .conftest import MAIN_APIKEY, MAIN_SECRET, OTHER_APIKEY, OTHER_SECRET

pytestmark = pytest.mark.slow


@pytest.fixture
def videosdk(app) -> Iterator[Served]:  # type: ignore[no-untyped-def]
    """The stand-in, knowing the main key's secret, set as the app's VIDEOSDK_API_ENDPOINT."""
    yield from serve(app, {MAIN_APIKEY: MAIN_SECRET})


def token_for(secret: str = MAIN_SECRET, apikey: str = MAIN_APIKEY, *, lifetime: int = 600,
              **claims: object) -> str:
    """A token signed now (not by the app), valid for ``lifetime`` seconds."""
    now = int(time.time())
    payload = {"apikey": apikey, "permissions": ["allow_join"], "iat": now,
               "exp": now + lifetime, **claims}
    return raw_token(payload, secret=secret)


def audit_lines(app, action: str = "videosdk.called") -> list[TrailLine]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return trail_lines(action)


@pytest.mark.parametrize("path", ["/create-meeting", "/create-meeting/"])
def test_create_meeting_without_a_token_mints_a_crawler_token_for_a_minute(
        app, api, caller, videosdk, path):
    response = api.post(path, json={"region": "sg001"}, headers=caller.headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["roomId"] == ROOM_ID
    assert body["region"] == "sg001"
    assert response.headers["Cache-Control"] == "no-store"
    (seen,) = videosdk.standin.seen
    assert (seen.method, seen.path, seen.query) == ("POST", "/v2/rooms", "")
    assert json.loads(seen.body) == {"region": "sg001"}
    sent = seen.headers["Authorization"]
    claims = jwt.decode(sent, MAIN_SECRET, algorithms=["HS256"])
    assert {k: v for k, v in claims.items() if k not in ("iat", "exp")} == {
        "apikey": MAIN_APIKEY, "permissions": ["allow_join"], "version": 2, "roles": ["crawler"]}
    assert claims["exp"] - claims["iat"] == 60
    # Nothing of the caller's request goes along: not its client key, not its cookies.
    assert caller.key not in json.dumps(seen.headers)
    assert "Cookie" not in seen.headers
    with app.app_context():
        issued = db.session.execute(select(IssuedToken)).scalar_one()
        assert issued.client_id == caller.id
        assert issued.claims["roles"] == ["crawler"]
    (minted,) = audit_lines(app, "token.minted")
    assert minted.details["via"] == "create-meeting"
    (called,) = audit_lines(app)
    assert (called.actor, called.actor_kind, called.outcome, called.target) == (
        "client app", "client", "success", ROOM_ID)
    assert called.details == {"via": "create-meeting", "route": "POST /rooms",
                              "roomId": ROOM_ID, "tokenOrigin": "minted", "status": 200,
                              "fingerprint": issued.fingerprint}


def test_create_meeting_reads_a_form_and_forwards_only_token_and_region(api, caller, videosdk):
    token = token_for()
    response = api.post("/create-meeting/", data={"token": token, "region": "us002",
                                                  "roomId": "mine", "apikey": "x"},
                        headers=caller.headers)
    assert response.status_code == 200, response.get_json()
    (seen,) = videosdk.standin.seen
    assert seen.headers["Authorization"] == token
    assert json.loads(seen.body) == {"region": "us002"}
    assert seen.query == ""


def test_create_meeting_without_a_region_sends_an_empty_object(api, caller, videosdk):
    response = api.post("/create-meeting", headers=caller.headers)
    assert response.status_code == 200
    assert json.loads(videosdk.standin.seen[0].body) == {}


def test_a_client_token_is_sent_as_it_was_given_once_cleaned(app, api, caller, videosdk):
    token = token_for(version=2, roles=["crawler"])
    response = api.post("/create-meeting", json={"token": f'  "Bearer {token}"\n'},
                        headers=caller.headers)
    assert response.status_code == 200, response.get_json()
    assert videosdk.standin.seen[0].headers["Authorization"] == token
    with app.app_context():
        assert db.session.execute(select(IssuedToken)).first() is None  # nothing minted
    (inspected,) = audit_lines(app, "token.inspected")
    assert inspected.details["via"] == "create-meeting"
    (called,) = audit_lines(app)
    assert called.details["tokenOrigin"] == "given"
    assert token not in json.dumps(called.details)


def test_validate_meeting_round_trip_with_and_without_a_token(app, api, caller, videosdk):
    minted = api.post(f"/validate-meeting/{ROOM_ID}", headers=caller.headers)
    given = api.post(f"/validate-meeting/{ROOM_ID}", json={"token": token_for()},
                     headers=caller.headers)
    for response in (minted, given):
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["roomId"] == ROOM_ID
    assert [(s.method, s.path, s.body) for s in videosdk.standin.seen] == [
        ("GET", f"/v2/rooms/validate/{ROOM_ID}", b"")] * 2
    lines = audit_lines(app)
    assert [(line.details["route"], line.details["roomId"], line.details["status"],
             line.details["tokenOrigin"]) for line in lines] == [
        ("GET /rooms/validate", ROOM_ID, 200, "minted"),
        ("GET /rooms/validate", ROOM_ID, 200, "given")]


def test_a_gzipped_answer_of_videosdk_is_passed_on_decoded(app, api, caller, videosdk):
    # httpx offers gzip; a server (or a proxy before it) that takes the offer must not turn
    # VideoSDK's 200 into a 502 "not JSON", nor leave the audit saying it failed.
    videosdk.standin.gzip = True
    created = api.post("/create-meeting", json={}, headers=caller.headers)
    assert created.status_code == 200, created.get_data(as_text=True)
    assert created.get_json()["roomId"] == ROOM_ID
    assert "gzip" in videosdk.standin.seen[-1].headers.get("Accept-Encoding", "")
    checked = api.post(f"/validate-meeting/{ROOM_ID}", json={}, headers=caller.headers)
    assert (checked.status_code, checked.get_json()["roomId"]) == (200, ROOM_ID)
    assert [line.outcome for line in audit_lines(app)][-2:] == ["success", "success"]


def test_an_unknown_room_is_videosdks_400_passed_on(app, api, caller, videosdk):
    response = api.post("/validate-meeting/zzzz-zzzz-zzzz", data={"token": token_for()},
                        headers=caller.headers)
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    assert response.get_json() == {"message": "Invalid room id", "statusCode": 400}
    (line,) = audit_lines(app)
    assert (line.outcome, line.target, line.details["status"]) == (
        "refused", "zzzz-zzzz-zzzz", 400)


def test_videosdk_refusing_a_token_is_passed_on_as_it_came(app, api, caller, videosdk):
    # A token this service cannot check (its key is not stored here) goes to VideoSDK, which
    # does not know it either: its 401 and body come back unchanged.
    stranger = token_for(secret=OTHER_SECRET, apikey=OTHER_APIKEY)
    for path in ("/create-meeting", f"/validate-meeting/{ROOM_ID}"):
        response = api.post(path, json={"token": stranger}, headers=caller.headers)
        assert response.status_code == 401
        assert response.mimetype == "application/json"
        assert response.get_json() == INVALID
        assert "WWW-Authenticate" not in response.headers
    assert videosdk.standin.count == 2
    assert [(line.outcome, line.details["status"]) for line in audit_lines(app)] == [
        ("refused", 401), ("refused", 401)]


@pytest.mark.parametrize(("claims", "lifetime", "words"), [
    ({"version": 2, "roles": ["rtc"]}, 600, "rtc"),
    ({}, -60, "expired"),
], ids=["rtc-only", "expired"])
def test_a_token_videosdk_would_refuse_is_diagnosed_and_never_sent(
        app, api, caller, videosdk, claims, lifetime, words):
    token = token_for(lifetime=lifetime, **claims)
    for path in ("/create-meeting/", f"/validate-meeting/{ROOM_ID}"):
        response = api.post(path, json={"token": token}, headers=caller.headers)
        assert response.status_code == 422
        problem = response.get_json()
        assert problem["code"] == "validation_failed"
        assert words in problem["detail"]
        assert problem["errors"] == {"token": [problem["detail"]]}
    assert videosdk.standin.count == 0
    with app.app_context():
        from webapp.services import issuance
        summary = issuance.inspect(token, via="test", use="api", room_id=ROOM_ID).summary
    assert problem["detail"] == summary
    lines = audit_lines(app)
    assert [(line.outcome, line.details["status"]) for line in lines] == [("refused", None)] * 2
    assert all(token not in json.dumps(line.details) for line in lines)


def test_a_token_signed_with_the_wrong_secret_of_a_stored_key_is_not_sent(
        api, caller, videosdk):
    forged = token_for(secret=OTHER_SECRET)  # names the main key, signed with another secret
    response = api.post("/create-meeting", json={"token": forged}, headers=caller.headers)
    assert response.status_code == 422
    assert "signature" in response.get_json()["detail"].lower()
    assert videosdk.standin.count == 0


def test_a_token_bound_to_another_room_is_not_sent_to_validate(api, caller, videosdk):
    token = token_for(version=2, roomId="other-room")
    response = api.post(f"/validate-meeting/{ROOM_ID}", json={"token": token},
                        headers=caller.headers)
    assert response.status_code == 422
    assert "4022" in response.get_json()["detail"] or "room" in response.get_json()["detail"]
    assert videosdk.standin.count == 0


@pytest.mark.parametrize("meeting_id", [
    "../x", "a%2Fb", "a/b", "x" * 65, "r\u00e9union", "abc\u200b", "a b", "a.b", "a%00b",
    "..", "%2e%2e",
])
def test_a_hostile_meeting_id_is_refused_before_any_request_leaves(
        app, api, caller, videosdk, meeting_id):
    response = api.post(f"/validate-meeting/{meeting_id}", json={"token": token_for()},
                        headers=caller.headers)
    assert response.status_code in (404, 422)  # a path the router cannot even match is 404
    assert response.mimetype == "application/problem+json"
    if response.status_code == 422:
        assert list(response.get_json()["errors"]) == ["meetingId"]
        (line,) = audit_lines(app)
        assert (line.outcome, line.details["status"], line.details["roomId"]) == (
            "refused", None, None)
    assert videosdk.standin.count == 0


@pytest.mark.parametrize("meeting_id", ["../x", "a%2Fb", "x" * 65, "r%C3%A9union"])
def test_hostile_meeting_ids_over_raw_http_are_422_and_never_sent(app, caller, videosdk,
                                                                  meeting_id):
    # Over a real socket, with the path exactly as written: no client library normalises it.
    import http.client

    from tests.browser.conftest import LiveServer

    with LiveServer(app) as server:
        port = int(server.url.rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", f"/validate-meeting/{meeting_id}", body=b"{}", headers={
            **caller.headers, "Content-Type": "application/json"})
        response = connection.getresponse()
        body = json.loads(response.read())
        connection.close()
    assert response.status == 422, body
    assert list(body["errors"]) == ["meetingId"]
    assert videosdk.standin.count == 0


def test_the_longest_room_id_is_sent(api, caller, videosdk):
    room = "a" * 64
    response = api.post(f"/validate-meeting/{room}", headers=caller.headers)
    assert response.status_code == 400  # the stand-in does not know it: VideoSDK's answer
    assert videosdk.standin.seen[0].path == f"/v2/rooms/validate/{room}"


@pytest.mark.parametrize(("body", "field"), [
    ({"token": 7}, "token"),
    ({"token": "x" * 9000}, "token"),
    ({"region": ["sg001"]}, "region"),
    ({"region": "sg001/../x"}, "region"),
])
def test_bad_fields_are_422_and_nothing_is_sent(api, caller, videosdk, body, field):
    response = api.post("/create-meeting", json=body, headers=caller.headers)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == [field]
    assert videosdk.standin.count == 0


def test_a_body_that_is_not_json_is_400(api, caller, videosdk):
    response = api.post("/create-meeting", data=b"{nope", headers={
        **caller.headers, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert videosdk.standin.count == 0


def test_the_client_key_and_scope_are_required(api, make_caller, main_key, videosdk):
    inspector = make_caller("inspector", scopes=("tokens:inspect",))
    assert api.post("/create-meeting").status_code == 401
    assert api.post(f"/validate-meeting/{ROOM_ID}").status_code == 401
    assert api.post("/create-meeting", headers=inspector.headers).status_code == 403
    assert api.post(f"/validate-meeting/{ROOM_ID}",
                    headers=inspector.headers).status_code == 403
    assert videosdk.standin.count == 0


def test_without_a_token_the_client_needs_exactly_one_key(app, api, make_key, make_caller,
                                                          videosdk):
    make_key()
    make_key("other", OTHER_APIKEY, OTHER_SECRET)
    caller = make_caller()
    response = api.post("/create-meeting", headers=caller.headers)
    assert response.status_code == 422
    assert "exactly one key" in response.get_json()["errors"]["apikey"][0]
    assert videosdk.standin.count == 0
    (refused,) = audit_lines(app, "token.minted")
    assert refused.outcome == "refused"


def test_the_policy_applies_to_the_minted_token(app, api, make_key, make_caller, videosdk):
    make_key(roles=["rtc"])
    caller = make_caller()
    response = api.post("/create-meeting", headers=caller.headers)
    assert response.status_code == 403
    problem = response.get_json()
    assert problem["code"] == "policy_violation"
    assert "crawler" in json.dumps(problem["errors"])
    assert videosdk.standin.count == 0


def test_the_sandbox_key_is_never_used_to_call_videosdk(app, api, make_caller, videosdk):
    from webapp.services.videosdk_keys import add_key

    with app.app_context():
        add_key("sandbox", "sandbox-0123", "s" * 64, sandbox=True)
        db.session.commit()
    caller = make_caller()
    response = api.post("/create-meeting", headers=caller.headers)
    assert response.status_code == 422
    assert "sandbox" in response.get_json()["errors"]["token"][0]
    assert videosdk.standin.count == 0


def test_videosdk_down_is_502_upstream_unavailable(app, api, caller):
    app.config["VIDEOSDK_API_ENDPOINT"] = closed_port_url()
    for path in ("/create-meeting", f"/validate-meeting/{ROOM_ID}"):
        response = api.post(path, headers=caller.headers)
        assert response.status_code == 502
        assert response.mimetype == "application/problem+json"
        problem = response.get_json()
        assert problem["code"] == "upstream_unavailable"
        assert problem["detail"] == "VideoSDK's REST API could not be reached (ConnectError)."
    lines = audit_lines(app)
    assert [(line.outcome, line.details["status"]) for line in lines] == [("failure", None)] * 2


def test_a_videosdk_failure_or_an_answer_that_is_not_json_is_502(app, api, caller):
    def broken(environ, start_response):  # type: ignore[no-untyped-def]
        if environ["PATH_INFO"].endswith("/rooms"):
            start_response("503 Service Unavailable", [("Content-Type", "text/html")])
            return [b"<html>down</html>"]
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b"<html>hello</html>"]

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, broken, threaded=True)
    import threading

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        app.config["VIDEOSDK_API_ENDPOINT"] = f"http://127.0.0.1:{server.server_port}/v2/"
        failed = api.post("/create-meeting", headers=caller.headers)
        not_json = api.post(f"/validate-meeting/{ROOM_ID}", headers=caller.headers)
    finally:
        server.shutdown()
        server.server_close()
    assert failed.status_code == 502
    assert failed.get_json()["detail"] == "VideoSDK's REST API answered 503."
    assert not_json.status_code == 502
    assert not_json.get_json()["detail"] == "VideoSDK answered 200 with a body that is not JSON."


def test_slow_videosdk_is_504_with_a_short_timeout(app, api, caller, videosdk):
    app.config["VIDEOSDK_API_TIMEOUT"] = 0.5
    videosdk.standin.delay = 2.0
    started = time.monotonic()
    response = api.post("/create-meeting", headers=caller.headers)
    elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert response.get_json()["code"] == "upstream_timeout"
    assert response.get_json()["detail"] == "VideoSDK did not answer within 0.5 s."
    assert 0.5 <= elapsed < 1.5
    (line,) = audit_lines(app)
    assert (line.outcome, line.details["status"]) == ("failure", None)


def test_slow_videosdk_past_the_real_5_seconds_is_504_within_6(app, api, caller, videosdk):
    assert app.config["VIDEOSDK_API_TIMEOUT"] == 5.0  # the default, untouched
    videosdk.standin.delay = 7.0
    started = time.monotonic()
    response = api.post(f"/validate-meeting/{ROOM_ID}", headers=caller.headers)
    elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert response.get_json()["detail"] == "VideoSDK did not answer within 5 s."
    assert 5.0 <= elapsed < 6.0


def test_an_empty_endpoint_turns_the_routes_off(app, api, caller):
    app.config["VIDEOSDK_API_ENDPOINT"] = ""
    for path in ("/create-meeting", f"/validate-meeting/{ROOM_ID}"):
        response = api.post(path, headers=caller.headers)
        assert response.status_code == 404
        problem = response.get_json()
        assert problem["code"] == "not_found"
        assert "VIDEOSDK_API_ENDPOINT is empty" in problem["detail"]


def test_wrong_methods_are_405_problems(api, caller):
    response = api.get("/create-meeting", headers=caller.headers)
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert set(response.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}


def test_the_stand_in_really_checks_signatures(videosdk):
    # The stand-in must be able to refuse, or the tests above prove nothing.
    standin: StandIn = videosdk.standin
    import httpx

    good = httpx.post(videosdk.url + "/rooms", headers={"Authorization": token_for()},
                      json={})
    bad = httpx.post(videosdk.url + "/rooms",
                     headers={"Authorization": token_for(secret=OTHER_SECRET)}, json={})
    expired = httpx.post(videosdk.url + "/rooms",
                         headers={"Authorization": token_for(lifetime=-10)}, json={})
    assert good.status_code == 200
    assert (bad.status_code, bad.json()) == (401, INVALID)
    assert (expired.status_code, expired.json()) == (401, INVALID)
    assert standin.count == 3
