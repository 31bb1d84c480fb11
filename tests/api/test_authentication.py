"""Bearer client keys, scopes, and why a session cookie never authenticates the API."""

from __future__ import annotations

import pytest

from webapp.extensions import db
from webapp.models import ApiClient
from webapp.services.api_clients import generate_client_key, revoke

MINT = ("POST", "/api/v1/tokens", {"permissions": ["allow_join"]})
INSPECT = ("POST", "/api/v1/tokens/inspect", {"token": "a.b.c"})
INTROSPECT = ("POST", "/api/v1/tokens/introspect", {"token": "a.b.c"})
GET_TOKEN = ("GET", "/get-token", None)
ENDPOINTS = [MINT, INSPECT, INTROSPECT, GET_TOKEN]
ENDPOINT_IDS = ["mint", "inspect", "introspect", "get-token"]


def call(api, endpoint, headers=None):  # type: ignore[no-untyped-def]
    method, path, body = endpoint
    return api.open(path, method=method, json=body, headers=headers or {})


def assert_unauthorized(response, challenge: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == challenge
    body = response.get_json()
    assert body["code"] == "unauthorized" and body["status"] == 401
    assert set(body) == {"type", "title", "status", "detail", "code"}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize(("headers", "challenge"), [
    ({}, "Bearer"),
    ({"Authorization": ""}, "Bearer"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "Bearer"),
    ({"Authorization": "Bearer"}, "Bearer"),
    ({"Authorization": "Bearer not-a-key"}, 'Bearer error="invalid_token"'),
    ({"Authorization": f"Bearer {generate_client_key()}"}, 'Bearer error="invalid_token"'),
], ids=["none", "empty", "basic", "bearer-alone", "garbage", "unknown-well-formed"])
def test_no_or_unknown_key_is_401_with_a_bearer_challenge(api, caller, endpoint, headers,
                                                          challenge):
    assert_unauthorized(call(api, endpoint, headers), challenge)


def test_the_scheme_is_case_insensitive(api, caller):
    response = call(api, MINT, {"Authorization": f"bearer {caller.key}"})
    assert response.status_code == 201


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_a_revoked_client_is_refused_on_its_next_request(app, api, caller, endpoint):
    assert call(api, MINT, caller.headers).status_code == 201
    with app.app_context():
        revoke(db.session.get(ApiClient, caller.id))
        db.session.commit()
    assert_unauthorized(call(api, endpoint, caller.headers), 'Bearer error="invalid_token"')


@pytest.mark.parametrize(("scopes", "endpoint", "status"), [
    (("tokens:mint",), MINT, 201),
    (("tokens:mint",), GET_TOKEN, 200),
    (("tokens:mint",), INSPECT, 403),
    (("tokens:mint",), INTROSPECT, 403),
    (("tokens:inspect",), MINT, 403),
    (("tokens:inspect",), GET_TOKEN, 403),
    (("tokens:inspect",), INSPECT, 200),
    (("tokens:inspect",), INTROSPECT, 200),
])
def test_each_endpoint_needs_its_scope(api, main_key, make_caller, scopes, endpoint, status):
    response = call(api, endpoint, make_caller(scopes=scopes).headers)
    assert response.status_code == status
    if status == 403:
        assert response.mimetype == "application/problem+json"
        body = response.get_json()
        assert body["code"] == "forbidden"
        missing = "tokens:inspect" if scopes == ("tokens:mint",) else "tokens:mint"
        assert body["detail"] == f"This client lacks the scope {missing}."
        # Only a 401 challenges (RFC 6750 section 3); the document lists no header on a 403.
        assert "WWW-Authenticate" not in response.headers


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=ENDPOINT_IDS)
def test_a_signed_in_browser_without_a_key_gets_401(admin_client, main_key, endpoint):
    # The admin's session cookie is valid for the console, and means nothing here.
    assert admin_client.get("/").status_code == 200
    assert_unauthorized(call(admin_client, endpoint), "Bearer")


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_csrf_does_not_apply_to_bearer_requests(api, caller):
    assert call(api, MINT, caller.headers).status_code == 201
    assert call(api, GET_TOKEN, caller.headers).status_code == 200
    response = api.post("/get-token", data={"roomId": "r1"}, headers=caller.headers)
    assert response.status_code == 200


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_csrf_still_guards_the_console(client):
    assert client.post("/login", data={"email": "a@example.com", "password": "x"}
                       ).status_code == 400


def test_every_api_view_is_marked_with_its_scopes(app):
    marks = {rule.endpoint: app.view_functions[rule.endpoint].access
             for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith(("api.", "dropin."))}
    assert marks == {
        "api.mint_token": ("scopes", frozenset({"tokens:mint"})),
        "api.inspect_token": ("scopes", frozenset({"tokens:inspect"})),
        "api.introspect_token": ("scopes", frozenset({"tokens:inspect"})),
        "api.openapi": "public",
        "dropin.get_token": ("scopes", frozenset({"tokens:mint"})),
        "dropin.create_meeting": ("scopes", frozenset({"tokens:mint"})),
        "dropin.validate_meeting": ("scopes", frozenset({"tokens:mint"})),
    }
