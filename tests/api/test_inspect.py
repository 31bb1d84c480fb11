"""POST /api/v1/tokens/inspect: the SPEC 3 diagnosis as JSON, and its input rules."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.tokens import MintRequest, mint

from .conftest import MAIN_APIKEY, MAIN_SECRET

ISSUED = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
STRANGER_SECRET = "c" * 64


def signed(secret: str = MAIN_SECRET, apikey: str = MAIN_APIKEY, *, now: datetime = ISSUED,
           **fields: object) -> str:
    """A token minted by the domain at a chosen moment (one hour of life unless said)."""
    request = MintRequest(permissions=("allow_join",), expires_in=fields.pop("expires_in", "1h"),
                          **fields)  # type: ignore[arg-type]
    return mint(request, apikey=apikey, secret=secret, now=now).token


def inspect(api, caller, body, **kwargs):  # type: ignore[no-untyped-def]
    return api.post("/api/v1/tokens/inspect", json=body, headers=caller.headers, **kwargs)


def codes(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [reason["code"] for reason in response.get_json()["reasons"]]


def test_a_fresh_token_minted_here_is_valid_with_every_field(api, caller):
    token = api.post("/api/v1/tokens", json={"permissions": ["allow_join"]},
                     headers=caller.headers).get_json()["token"]
    response = inspect(api, caller, {"token": token})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"verdict", "summary", "reasons", "header", "claims", "signature",
                         "issuedAt", "expiresAt"}
    assert body["verdict"] == "valid"
    assert body["signature"] == {"status": "verified", "keyLabel": "main"}
    assert body["header"] == {"alg": "HS256", "typ": "JWT"}
    assert body["claims"]["apikey"] == MAIN_APIKEY
    assert body["issuedAt"].endswith("Z") and body["expiresAt"].endswith("Z")
    issued_here = body["reasons"][-1]
    assert issued_here["code"] == "issued_here" and issued_here["severity"] == "info"
    assert f"client {caller.name}" in issued_here["message"]
    assert set(issued_here) == {"code", "severity", "message", "fix"}


def test_at_sets_the_moment_checked(api, caller, main_key):
    token = signed()
    during = inspect(api, caller, {"token": token, "at": "2024-03-01T12:30:00Z"})
    assert during.get_json()["verdict"] == "valid"
    after = inspect(api, caller, {"token": token, "at": "2024-03-01T13:00:00Z"})
    assert after.get_json()["verdict"] == "invalid"
    assert codes(after) == ["expired"]
    assert after.get_json()["reasons"][0]["videosdkCode"] == 4002


@pytest.mark.parametrize("at", ["2024-03-01T12:59:59", "2024-03-01T12:59:59+00:00",
                                "2024-03-01T14:59:59+02:00", "2024-03-01T12:59:59.000Z"])
def test_at_without_an_offset_is_utc_and_offsets_are_honoured(api, caller, main_key, at):
    token = signed()
    assert inspect(api, caller, {"token": token, "at": at}).get_json()["verdict"] == "valid"
    later = at.replace("12:59:59", "13:00:00").replace("14:59:59", "15:00:00")
    assert codes(inspect(api, caller, {"token": token, "at": later})) == ["expired"]


@pytest.mark.parametrize(("at", "message"), [
    ("yesterday", "at is not an ISO 8601 date and time: write it as 2025-01-31T09:30:00Z."),
    ("2024-13-01T00:00:00Z", "at is not an ISO 8601 date and time: write it as "
                             "2025-01-31T09:30:00Z."),
    (1709294400, "at must be an ISO 8601 date and time, such as 2025-01-31T09:30:00Z."),
    ("0001-01-01T00:00:00+01:00", "at is outside the calendar once moved to UTC."),
])
def test_a_bad_at_is_422(api, caller, at, message):
    response = inspect(api, caller, {"token": "a.b.c", "at": at})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"at": [message]}


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00", "9999-12-31T23:59:59Z"])
def test_extreme_moments_still_give_a_diagnosis(api, caller, main_key, at):
    response = inspect(api, caller, {"token": signed(), "at": at})
    assert response.status_code == 200
    assert response.get_json()["verdict"] == "invalid"


def test_use_and_room_are_checked(api, caller, main_key):
    token = signed(room_id="room-1", roles=("rtc",))
    at = "2024-03-01T12:10:00Z"
    assert codes(inspect(api, caller, {"token": token, "at": at, "use": "join",
                                       "roomId": "room-1"})) == []
    assert codes(inspect(api, caller, {"token": token, "at": at, "use": "api"})) == [
        "rtc_cannot_call_api"]
    assert codes(inspect(api, caller, {"token": token, "at": at, "roomId": "room-2"})) == [
        "room_mismatch"]


def test_participant_is_checked(api, caller, main_key):
    token = signed(participant_id="alice")
    response = inspect(api, caller, {"token": token, "at": "2024-03-01T12:10:00Z",
                                     "participantId": "bob"})
    assert codes(response) == ["participant_mismatch"]


def test_a_one_off_secret_verifies_a_foreign_token_and_is_kept_nowhere(app, api, caller, caplog):
    token = signed(STRANGER_SECRET, "foreign-key")
    at = "2024-03-01T12:10:00Z"
    without = inspect(api, caller, {"token": token, "at": at}).get_json()
    assert without["verdict"] == "unverified"
    assert without["signature"] == {"status": "unchecked"}
    with caplog.at_level("DEBUG"):
        response = inspect(api, caller, {"token": token, "at": at, "secret": STRANGER_SECRET})
    body = response.get_json()
    assert body["verdict"] == "valid"
    assert body["signature"] == {"status": "verified"}
    wrong = inspect(api, caller, {"token": token, "at": at, "secret": "d" * 64}).get_json()
    assert wrong["signature"]["status"] == "mismatch"
    assert "bad_signature" in [r["code"] for r in wrong["reasons"]]
    assert STRANGER_SECRET not in response.get_data(as_text=True)
    assert STRANGER_SECRET not in caplog.text and token not in caplog.text
    with app.app_context():
        events = db.session.execute(select(AuditEvent)).scalars().all()
        assert [e.action for e in events] == ["token.inspected"] * 3
        stored = " ".join(str(e.details) + str(e.target) for e in events)
        assert STRANGER_SECRET not in stored and token not in stored
        assert events[1].actor == f"client {caller.name}" and events[1].actor_kind == "client"
        assert events[1].details["verdict"] == "valid"


def test_a_token_of_exactly_8_kib_is_diagnosed_and_one_byte_more_is_422(api, caller):
    at_limit = "x" * 8192
    assert inspect(api, caller, {"token": at_limit}).status_code == 200
    response = inspect(api, caller, {"token": at_limit + "x"})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "token": ["The token is longer than 8192 bytes: no VideoSDK token is that long."]}


@pytest.mark.parametrize(("body", "errors"), [
    ({}, {"token": ["token is required."]}),
    ({"token": None}, {"token": ["token is required."]}),
    ({"token": 12}, {"token": ["token must be text."]}),
    ({"token": "  \n"}, {"token": ["token is empty: paste the token to check."]}),
    ({"token": "a.b.c", "use": "meeting"}, {"use": ["use must be join or api."]}),
    ({"token": "a.b.c", "use": 1}, {"use": ["use must be text."]}),
    ({"token": "a.b.c", "roomId": 1}, {"roomId": ["roomId must be text."]}),
    ({"token": "a.b.c", "secret": ["s"]}, {"secret": ["secret must be text."]}),
    ({"token": "a.b.c", "verbose": True},
     {"verbose": ["Unknown field. Use only token, roomId, participantId, use, at, secret."]}),
    ({"token": "a.b.c", "participantID": "p"},
     {"participantID": ["Unknown field: did you mean participantId? Names are read exactly as "
                        "written."]}),
])
def test_input_errors_are_422(api, caller, body, errors):
    response = inspect(api, caller, body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "validation_failed"
    assert response.get_json()["errors"] == errors


def test_anything_pasted_gets_a_diagnosis_not_an_error(api, caller):
    for paste in ["hello", "Bearer a.b.c", "\u00e9\u00e9.\u00e9.\u00e9", "a..", "...."]:
        response = inspect(api, caller, {"token": paste})
        assert response.status_code == 200, paste
        assert response.get_json()["verdict"] == "invalid"


def test_a_body_that_is_not_json_is_400(api, caller):
    response = api.post("/api/v1/tokens/inspect", data="token=abc", headers=caller.headers,
                        content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.get_json()["code"] == "validation_failed"


def test_inspect_in_the_past_does_not_depend_on_the_clock(api, caller, main_key):
    born = datetime.now(UTC) - timedelta(days=400)
    token = signed(now=born)
    at = (born + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert inspect(api, caller, {"token": token, "at": at}).get_json()["verdict"] == "valid"
    assert codes(inspect(api, caller, {"token": token})) == ["expired"]


@pytest.mark.parametrize("pasted",
                         [MAIN_SECRET, f"  {MAIN_SECRET}\n", "one-off-secret-pasted-0123"])
def test_a_pasted_secret_leaves_no_fingerprint_in_the_audit_trail(app, api, caller, pasted):
    response = inspect(api, caller, {"token": pasted, "secret": "one-off-secret-pasted-0123"})
    assert response.status_code == 200
    assert "secret_exposed" in codes(response)
    with app.app_context():
        event = db.session.execute(select(AuditEvent)).scalars().one()
        assert event.action == "token.inspected"
        assert event.details["fingerprint"] is None
        digest = hashlib.sha256(pasted.strip().encode()).hexdigest()
        assert digest not in str(event.details)


def test_a_wrong_one_off_secret_gets_the_same_answer_on_every_request(api, caller, main_key):
    body = {"token": signed(), "secret": "wrong-one-off-secret-0123456789abcdef",
            "at": "2024-03-01T12:10:00Z"}
    answers = [inspect(api, caller, body).get_json() for _ in range(3)]
    assert [codes_of["reasons"][0]["code"] for codes_of in answers] == ["bad_signature"] * 3
    assert all(a == answers[0] for a in answers)
