"""GET /get-token: the drop-in for VideoSDK's example token servers (SPEC 5)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support import trail_lines
from webapp.extensions import db
from webapp.models import AuditEvent, IssuedToken

from .conftest import MAIN_APIKEY, OTHER_APIKEY, OTHER_SECRET, payload_of

BOTH = ["allow_join", "allow_mod"]


def claims_without_times(token: str) -> dict[str, object]:
    claims = payload_of(token)
    assert claims["exp"] - claims["iat"] == 600  # the examples' expiresIn: "10m"
    return {k: v for k, v in claims.items() if k not in ("iat", "exp")}


def test_without_room_or_peer_it_signs_the_examples_plain_token(app, api, caller):
    response = api.get("/get-token", headers=caller.headers)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert list(body) == ["token"]
    assert claims_without_times(body["token"]) == {"apikey": MAIN_APIKEY, "permissions": BOTH}
    with app.app_context():
        row = db.session.execute(select(IssuedToken)).scalar_one()
        assert row.client_id == caller.id
        (event,) = trail_lines()
        assert (event.action, event.details["via"]) == ("token.minted", "get-token")


@pytest.mark.parametrize(("query", "expected"), [
    ("?roomId=abcd-efgh-ijkl&peerId=peer42",
     {"roomId": "abcd-efgh-ijkl", "participantId": "peer42"}),
    ("?roomId=abcd-efgh-ijkl", {"roomId": "abcd-efgh-ijkl"}),
    ("?peerId=peer42", {"participantId": "peer42"}),
])
def test_a_room_or_peer_brings_version_2_and_rtc(api, caller, query, expected):
    response = api.get("/get-token" + query, headers=caller.headers)
    assert response.status_code == 200
    assert claims_without_times(response.get_json()["token"]) == {
        "apikey": MAIN_APIKEY, "permissions": BOTH, "version": 2, "roles": ["rtc"], **expected}


@pytest.mark.parametrize("send", [
    lambda api, h: api.get("/get-token", json={"roomId": "r1", "peerId": "p1"}, headers=h),
    lambda api, h: api.post("/get-token", json={"roomId": "r1", "peerId": "p1"}, headers=h),
    lambda api, h: api.post("/get-token", data={"roomId": "r1", "peerId": "p1"}, headers=h),
    lambda api, h: api.post("/get-token?roomId=r1", data={"peerId": "p1"}, headers=h),
    lambda api, h: api.post("/get-token?roomId=old&peerId=p1", json={"roomId": "r1"}, headers=h),
], ids=["get-json", "post-json", "post-form", "query-and-form", "body-wins"])
def test_room_and_peer_are_read_from_body_or_query(api, caller, send):
    response = send(api, caller.headers)
    assert response.status_code == 200
    claims = claims_without_times(response.get_json()["token"])
    assert (claims["roomId"], claims["participantId"]) == ("r1", "p1")


def test_empty_values_count_as_absent_as_in_the_examples(api, caller):
    response = api.get("/get-token?roomId=&peerId=", headers=caller.headers)
    assert claims_without_times(response.get_json()["token"]) == {
        "apikey": MAIN_APIKEY, "permissions": BOTH}


@pytest.mark.parametrize(("body", "errors"), [
    ({"roomId": 7}, {"roomId": ["roomId must be text."]}),
    ({"peerId": ["p"]}, {"peerId": ["peerId must be text."]}),
    ({"peerId": "two words"},
     {"peerId": ["peerId must not contain spaces or other whitespace "
                 "(VideoSDK error 4004)."]}),
    ({"roomId": "a\u0000b"},
     {"roomId": ["roomId holds the control character U+0000: no VideoSDK id does."]}),
    ({"roomId": "abc\u202edef"},
     {"roomId": ["roomId holds the invisible format character U+202E (RIGHT-TO-LEFT "
                 "OVERRIDE), which makes it display as something it is not: remove it."]}),
    ({"peerId": "jane\u200b"},
     {"peerId": ["peerId holds the invisible format character U+200B (ZERO WIDTH "
                 "SPACE), which makes it display as something it is not: remove it."]}),
    ({"peerId": "p" * 256},
     {"peerId": ["peerId is 256 characters long; this service keeps ids of at most 255."]}),
    ({"peerId": "p\u2028q"},
     {"peerId": ["peerId must not contain spaces or other whitespace (VideoSDK error 4004)."]}),
])
def test_bad_values_are_422_problems(app, api, caller, body, errors):
    response = api.post("/get-token", json=body, headers=caller.headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "validation_failed"
    assert response.get_json()["errors"] == errors
    with app.app_context():
        assert db.session.execute(select(IssuedToken)).first() is None


def test_a_body_that_is_not_json_is_400(api, caller):
    response = api.post("/get-token", data=b"{roomId", headers=caller.headers,
                        content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("second_key", [True, False])
def test_the_client_must_be_allowed_exactly_one_key(api, make_key, make_caller, second_key):
    if second_key:
        make_key()
        make_key("other", OTHER_APIKEY, OTHER_SECRET)
    response = api.get("/get-token", headers=make_caller().headers)
    assert response.status_code == 422
    count = 2 if second_key else 0
    assert response.get_json()["errors"] == {"apikey": [
        f"/get-token signs with the client's only key, but this client may use {count}: "
        "allow it exactly one key, or use POST /api/v1/tokens."]}


def test_a_client_bound_to_one_of_several_keys_works(api, make_key, make_caller):
    make_key()
    make_key("other", OTHER_APIKEY, OTHER_SECRET)
    response = api.get("/get-token", headers=make_caller(keys=("other",)).headers)
    assert payload_of(response.get_json()["token"])["apikey"] == OTHER_APIKEY


@pytest.mark.parametrize(("policy", "query", "field"), [
    ({"roles": ["crawler"]}, "?roomId=r1", "roles"),
    ({"permissions": ["allow_join"]}, "", "permissions"),
    ({"max_lifetime": "5m"}, "", "expiresIn"),
])
def test_the_key_policy_applies_and_nothing_is_trimmed(app, api, make_key, make_caller,
                                                       policy, query, field):
    make_key(**policy)
    response = api.get("/get-token" + query, headers=make_caller().headers)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "policy_violation"
    assert list(response.get_json()["errors"]) == [field]
    with app.app_context():
        assert db.session.execute(select(IssuedToken)).first() is None
        event = db.session.execute(select(AuditEvent)).scalar_one()
        assert (event.outcome, event.details["via"]) == ("refused", "get-token")


def test_other_methods_are_405_problems(api, caller):
    response = api.delete("/get-token", headers=caller.headers)
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "POST", "OPTIONS"}


def test_a_head_probe_mints_nothing(app, api, caller):
    response = api.head("/get-token?roomId=r1", headers=caller.headers)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    with app.app_context():
        assert db.session.execute(select(IssuedToken)).first() is None
        assert db.session.execute(select(AuditEvent)).first() is None


def test_an_expired_get_token_token_is_told_to_call_get_token_again(api, caller):
    """Issue 16.6: the fix never suggests a lifetime /get-token cannot give."""
    from datetime import UTC, datetime, timedelta

    token = api.get("/get-token", headers=caller.headers).get_json()["token"]
    later = datetime.fromtimestamp(payload_of(token)["exp"], UTC) + timedelta(hours=3)
    body = api.post("/api/v1/tokens/inspect", headers=caller.headers,
                    json={"token": token, "at": later.isoformat()}).get_json()
    expired = next(r for r in body["reasons"] if r["code"] == "expired")
    assert "Call /get-token again" in expired["fix"]
    assert "expiresIn" not in expired["fix"]
    assert "Call /get-token again" in body["summary"]


NEAR_MISS_DETAIL = ("/get-token reads roomId and peerId exactly as written and ignores other "
                    "names: as sent, the token would be valid for any room and any participant.")


def near_miss(meant: str) -> list[str]:
    return [f"Unknown field: did you mean {meant}? Names are read exactly as written."]


def _send(api, headers, where: str, fields: dict[str, str]):  # type: ignore[no-untyped-def]
    if where == "query":
        return api.get("/get-token", query_string=fields, headers=headers)
    if where == "json":
        return api.post("/get-token", json=fields, headers=headers)
    if where == "get-json":
        return api.get("/get-token", json=fields, headers=headers)
    return api.post("/get-token", data=fields, headers=headers)


@pytest.mark.parametrize("where", ["query", "json", "get-json", "form"])
@pytest.mark.parametrize(("name", "meant"), [
    ("roomid", "roomId"), ("RoomId", "roomId"), ("ROOMID", "roomId"), ("roomID", "roomId"),
    ("peerid", "peerId"), ("peerID", "peerId"), ("PEERID", "peerId"), ("PeerId", "peerId"),
    ("participantId", "peerId"), ("participantid", "peerId"), ("PARTICIPANTID", "peerId"),
])
def test_a_near_miss_name_is_refused_as_the_caller_spelt_it(app, api, caller, where, name,
                                                            meant):
    response = _send(api, caller.headers, where, {name: "abcd-efgh-ijkl"})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert (body["code"], body["title"], body["detail"]) == (
        "validation_failed", "Validation failed", NEAR_MISS_DETAIL)
    assert body["errors"] == {name: near_miss(meant)}
    with app.app_context():
        assert db.session.execute(select(IssuedToken)).first() is None
        event = db.session.execute(select(AuditEvent)).scalar_one()
    assert (event.action, event.outcome, event.actor) == ("token.minted", "refused",
                                                          "client app")
    assert f"{name}: Unknown field: did you mean {meant}?" in event.details["reason"]
    assert "abcd-efgh-ijkl" not in str(event.details)


def test_a_near_miss_beside_the_right_name_is_still_refused(api, caller):
    response = api.get("/get-token?roomId=r1&roomid=r2&peerId=p&participantId=q",
                       headers=caller.headers)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"roomid": near_miss("roomId"),
                                             "participantId": near_miss("peerId")}


def test_near_misses_in_query_and_body_are_all_named(api, caller):
    response = api.post("/get-token?ROOMID=r1", json={"peerID": "p1", "roomId": "r1"},
                        headers=caller.headers)
    assert response.get_json()["errors"] == {"ROOMID": near_miss("roomId"),
                                             "peerID": near_miss("peerId")}


@pytest.mark.parametrize("query", ["?token=abc&region=sg001", "?room=r1", "?peer=p1",
                                   "?name=alice&userId=u1", "?roomIds=r1", "?xroomid=r1",
                                   "?participant=p1", "?room_id=r1", "?room-id=r1",
                                   "?meetingId=r1", "?peer_id=p1", "?participant_id=p1"])
def test_other_unknown_names_are_still_ignored_as_the_examples_ignore_them(api, caller, query):
    response = api.get("/get-token" + query, headers=caller.headers)
    assert response.status_code == 200
    assert claims_without_times(response.get_json()["token"]) == {
        "apikey": MAIN_APIKEY, "permissions": BOTH}
