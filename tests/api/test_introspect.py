"""POST /api/v1/tokens/introspect: RFC 7662, active only when the diagnosis now is valid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from webapp.services import issuance
from webapp.services.videosdk_keys import key_by_label
from webapp.tokens import MintRequest

from .conftest import MAIN_APIKEY, MAIN_SECRET, OTHER_APIKEY
from .test_inspect import signed

INACTIVE = {"active": False}


def introspect(api, caller, **kwargs):  # type: ignore[no-untyped-def]
    return api.post("/api/v1/tokens/introspect", headers=caller.headers, **kwargs)


def minted_by_api(api, caller, **body):  # type: ignore[no-untyped-def]
    return api.post("/api/v1/tokens", json={"permissions": ["allow_join", "allow_mod"], **body},
                    headers=caller.headers).get_json()


@pytest.mark.parametrize("send", ["form", "json"])
def test_a_live_token_minted_by_a_client_is_active(api, caller, send):
    minted = minted_by_api(api, caller, expiresIn="10m")
    token = minted["token"]
    response = introspect(api, caller, **({"data": {"token": token}} if send == "form"
                                          else {"json": {"token": token}}))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {
        "active": True,
        "exp": minted["claims"]["exp"],
        "iat": minted["claims"]["iat"],
        "scope": "allow_join allow_mod",
        "client_id": caller.name,
        "token_type": "videosdk",
    }


def test_a_token_minted_without_a_client_has_no_client_id(app, api, caller):
    with app.app_context():
        minted = issuance.issue(MintRequest(permissions=("ask_join",)), key_by_label("main"),
                                via="cli")
    body = introspect(api, caller, data={"token": minted.token}).get_json()
    assert body == {"active": True, "exp": minted.claims["exp"], "iat": minted.claims["iat"],
                    "scope": "ask_join", "token_type": "videosdk"}


def test_a_valid_token_minted_elsewhere_with_a_stored_key_is_active(api, caller):
    now = datetime.now(UTC).replace(microsecond=0)
    token = signed(now=now - timedelta(minutes=1))
    body = introspect(api, caller, data={"token": token}).get_json()
    assert body["active"] is True and "client_id" not in body


@pytest.mark.parametrize("case", ["expired", "forged", "unknown_apikey", "garbage", "not_yet",
                                  "malformed", "ask_join_conflict"])
def test_anything_not_valid_now_is_exactly_inactive(api, caller, case):
    long_ago = datetime.now(UTC) - timedelta(days=2)
    token = {
        "expired": lambda: signed(now=long_ago),
        "forged": lambda: signed("f" * 64, now=datetime.now(UTC)),
        "unknown_apikey": lambda: signed("f" * 64, OTHER_APIKEY, now=datetime.now(UTC)),
        "garbage": lambda: "this is not a token",
        "not_yet": lambda: signed(now=datetime.now(UTC) + timedelta(hours=3)),
        "malformed": lambda: "eyJ=.eyJ=.sig",
        "ask_join_conflict": lambda: _conflicting_token(),
    }[case]()
    response = introspect(api, caller, data={"token": token})
    assert response.status_code == 200
    assert response.get_json() == INACTIVE
    assert response.get_data(as_text=True).strip() == '{"active":false}'


def _conflicting_token() -> str:
    # The domain refuses to mint this; sign it by hand as a careless server would.
    import base64
    import hashlib
    import hmac
    import json

    def part(data: dict[str, object]) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    now = int(datetime.now(UTC).timestamp())
    signing_input = part({"alg": "HS256", "typ": "JWT"}) + "." + part({
        "apikey": MAIN_APIKEY, "permissions": ["ask_join", "allow_join"],
        "iat": now, "exp": now + 600})
    signature = hmac.new(MAIN_SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def test_hint_and_unknown_parameters_are_ignored(api, caller):
    token = minted_by_api(api, caller)["token"]
    response = introspect(api, caller, data={"token": token, "token_type_hint": "access_token",
                                             "extra": "x"})
    assert response.get_json()["active"] is True


@pytest.mark.parametrize("kwargs", [
    {"data": {}},
    {"data": {"token": ""}},
    {"json": {}},
    {"json": {"token": None}},
    {},
])
def test_a_missing_token_is_422(api, caller, kwargs):
    response = introspect(api, caller, **kwargs)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "validation_failed"
    assert list(body["errors"]) == ["token"]


def test_a_token_that_is_not_text_is_422(api, caller):
    response = introspect(api, caller, json={"token": ["a"]})
    assert response.get_json()["errors"] == {"token": ["token must be text."]}


def test_an_oversized_token_is_422(api, caller):
    response = introspect(api, caller, data={"token": "x" * 8193})
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["token"]


@pytest.mark.parametrize("data", [b"{not json", b"[1, 2", b"token"])
def test_an_unreadable_body_is_400(api, caller, data):
    response = introspect(api, caller, data=data, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["code"] == "validation_failed"


def test_json_that_is_not_an_object_is_422(api, caller):
    response = introspect(api, caller, data=b'["token"]', content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "body": ["The body must be a JSON object or a form."]}
