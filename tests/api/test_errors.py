"""Unknown routes, wrong methods and oversized bodies under /api/ answer problem+json."""

from __future__ import annotations

import logging

import pytest


@pytest.mark.parametrize("path", ["/api/", "/api/v1/", "/api/v1/nothing", "/api/v2/tokens",
                                  "/api/v1/tokens/", "/api/v1/tokens/inspect/extra"])
def test_unknown_api_routes_are_404_problems(api, caller, path):
    response = api.get(path, headers=caller.headers)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "not_found" and body["status"] == 404
    assert set(body) == {"type", "title", "status", "detail", "code"}
    assert body["type"].endswith("/not_found")


def test_unknown_console_routes_stay_html(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("GET", "/api/v1/tokens", {"POST", "OPTIONS"}),
    ("PUT", "/api/v1/tokens", {"POST", "OPTIONS"}),
    ("DELETE", "/api/v1/tokens/inspect", {"POST", "OPTIONS"}),
    ("GET", "/api/v1/tokens/introspect", {"POST", "OPTIONS"}),
    ("POST", "/api/v1/openapi.json", {"GET", "HEAD", "OPTIONS"}),
])
def test_wrong_methods_are_405_problems_with_allow(api, caller, method, path, allowed):
    response = api.open(path, method=method, headers=caller.headers)
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(", ")) == allowed


@pytest.mark.parametrize("path", ["/api/v1/tokens", "/api/v1/tokens/inspect",
                                  "/api/v1/tokens/introspect", "/get-token"])
def test_bodies_over_64_kib_are_413_problems(api, caller, path):
    body = b'{"token": "' + b"x" * (64 * 1024) + b'"}'
    response = api.post(path, data=body, headers=caller.headers, content_type="application/json")
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "payload_too_large"


def test_a_body_just_under_64_kib_is_read(api, caller):
    body = b'{"token": "' + b"x" * (64 * 1024 - 20) + b'"}'
    response = api.post("/api/v1/tokens/inspect", data=body, headers=caller.headers,
                        content_type="application/json")
    # Read, then refused for the token's size, not the body's.
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["token"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/api/v1/tokens", {"json": {"permissions": ["allow_join"]}}),
    ("GET", "/get-token", {}),
    ("POST", "/api/v1/tokens/inspect", {"json": {"token": "a.b.c"}}),
    ("POST", "/api/v1/tokens/introspect", {"data": {"token": "a.b.c"}}),
])
def test_a_stored_secret_that_no_longer_decrypts_is_a_503_problem(keys_undecryptable, caller,
                                                                  method, path, body, caplog):
    with caplog.at_level(logging.ERROR, logger="webapp.services.videosdk_keys"):
        response = keys_undecryptable.test_client().open(path, method=method,
                                                          headers=caller.headers, **body)
    logged = [r.getMessage() for r in caplog.records if r.name == "webapp.services.videosdk_keys"]
    assert logged == [
        "The secret of key 'main' cannot be decrypted with ENCRYPTION_KEYS"]
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json() == {
        "type": "https://token-console.invalid/problems/service_unavailable",
        "title": "Service unavailable", "status": 503, "code": "service_unavailable",
        "detail": "The secret of key 'main' cannot be decrypted with ENCRYPTION_KEYS."}
    assert response.headers["Cache-Control"] == "no-store"
