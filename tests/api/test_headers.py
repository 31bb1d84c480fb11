"""Headers that tell the truth (issue 17 item 2): rate-limit headers on every answer that
counted against a limit, whatever its status; Retry-After only on 429 (and 503); no
WWW-Authenticate but on a 401."""

from __future__ import annotations

import time

import pytest

from tests.support import login

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
MINT = {"permissions": ["allow_join"]}


def assert_counted(response, limit: str, remaining: str) -> None:  # type: ignore[no-untyped-def]
    assert (response.headers["X-RateLimit-Limit"],
            response.headers["X-RateLimit-Remaining"]) == (limit, remaining)
    assert int(time.time()) <= int(response.headers["X-RateLimit-Reset"]) <= time.time() + 61


def assert_uncounted(response) -> None:  # type: ignore[no-untyped-def]
    assert [name for name in (*RATE_HEADERS, "Retry-After") if name in response.headers] == []


def test_every_answer_that_counted_carries_the_headers_and_only_a_429_retry_after(
        api, main_key, make_caller):
    caller = make_caller("counted", rate_limit="6/minute")
    answers = [
        (201, api.post("/api/v1/tokens", json=MINT, headers=caller.headers)),
        (422, api.post("/api/v1/tokens", json={"permissions": ["nope"]},
                       headers=caller.headers)),
        (400, api.post("/api/v1/tokens", data="{", content_type="application/json",
                       headers=caller.headers)),
        (413, api.post("/api/v1/tokens", data="x" * (65 * 1024),
                       content_type="application/json", headers=caller.headers)),
        (200, api.get("/get-token", headers=caller.headers)),
        (200, api.post("/api/v1/tokens/introspect", data={"token": "a.b.c"},
                       headers=caller.headers)),
    ]
    for remaining, (status, response) in zip(("5", "4", "3", "2", "1", "0"), answers,
                                             strict=True):
        assert response.status_code == status
        assert_counted(response, "6", remaining)
        assert "Retry-After" not in response.headers
        assert "WWW-Authenticate" not in response.headers
    over = api.post("/api/v1/tokens", json=MINT, headers=caller.headers)
    assert over.status_code == 429
    assert_counted(over, "6", "0")
    reset_in = int(over.headers["X-RateLimit-Reset"]) - time.time()
    assert 0 < int(over.headers["Retry-After"]) <= max(1, reset_in + 1)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}],
                         ids=["no-key", "unknown-key"])
def test_a_refused_key_counts_against_nothing_and_says_so(api, caller, headers):
    response = api.post("/api/v1/tokens", json=MINT, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_uncounted(response)


def test_a_missing_scope_is_a_plain_403(api, main_key, make_caller):
    inspector = make_caller("inspector", scopes=("tokens:inspect",))
    response = api.post("/api/v1/tokens", json=MINT, headers=inspector.headers)
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response.headers
    assert_uncounted(response)


def test_the_openapi_document_and_pages_count_against_nothing(api, client):
    assert_uncounted(api.get("/api/v1/openapi.json"))
    assert_uncounted(client.get("/login"))
    assert_uncounted(client.get("/healthz"))


@pytest.mark.app_config(LOGIN_RATE_LIMIT="3/minute")
def test_a_sign_in_attempt_counts_and_says_so_without_retry_after(client, make_user):
    person = make_user()
    refused = login(client, person.email, "wrong password!!")
    assert refused.status_code == 401
    assert_counted(refused, "3", "2")
    assert "Retry-After" not in refused.headers
    signed_in = login(client, person.email, person.password)
    assert signed_in.status_code == 302
    assert_counted(signed_in, "3", "1")
    assert "Retry-After" not in signed_in.headers
