"""Who is calling: the bearer client key, its scopes, and its own rate limit.

Only the Authorization header counts; a signed-in browser's session cookie does not.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request

from ..clients import authenticate
from ..extensions import limiter
from ..models import ApiClient
from .problems import ApiProblem, forbidden

F = TypeVar("F", bound=Callable[..., Any])

# One bucket per client across every endpoint that spends its quota.
RATE_LIMIT_SCOPE = "api-client"


def _unauthorized(detail: str, *, key_presented: bool) -> ApiProblem:
    challenge = 'Bearer error="invalid_token"' if key_presented else "Bearer"
    return ApiProblem(401, "unauthorized", "Unauthorized", detail,
                      headers={"WWW-Authenticate": challenge})


def presented_key() -> str | None:
    """The bearer credential of this request, or None when there is no Bearer header."""
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credential.strip()


def current_client() -> ApiClient:
    """The client this request authenticated as (only inside a client_required view)."""
    client: ApiClient = g.api_client
    return client


def _client_rate_limit() -> str:
    client: ApiClient | None = g.get("api_client")
    if client is None or not client.rate_limit:
        return str(current_app.config["API_CLIENT_DEFAULT_RATE_LIMIT"])
    return client.rate_limit


def _client_bucket() -> str:
    client: ApiClient | None = g.get("api_client")
    if client is None:
        return f"address:{request.remote_addr}"
    # The id and a slice of the key's SHA-256 (never the key): the same on every instance
    # sharing one Redis, and a fresh bucket for a client re-created under a reused id.
    return f"client:{client.id}:{client.key_hash[:16]}"


def _rate_limited_message() -> str:
    return f"Over this client's rate limit of {_client_rate_limit()}: retry after Retry-After."


def client_required(*scopes: str) -> Callable[[F], F]:
    """Let through only a live client key holding every one of ``scopes``, within its rate limit.

    401 (with WWW-Authenticate) for a missing, unknown or revoked key, 403 for a missing scope,
    then 429 past the client's own `rate_limit`.
    """

    def decorate(view: F) -> F:
        limited = limiter.shared_limit(
            _client_rate_limit,
            scope=RATE_LIMIT_SCOPE,
            key_func=_client_bucket,
            error_message=_rate_limited_message,
        )(view)

        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            key = presented_key()
            if not key:
                raise _unauthorized(
                    "Send the client key as 'Authorization: Bearer <client key>'.",
                    key_presented=False,
                )
            client = authenticate(key)
            if client is None:
                raise _unauthorized("The client key is unknown or revoked.", key_presented=True)
            missing = [scope for scope in scopes if scope not in (client.scopes or ())]
            if missing:
                raise forbidden(
                    f"This client lacks the scope {' and '.join(missing)}.",
                    headers={"WWW-Authenticate":
                             f'Bearer error="insufficient_scope", scope="{" ".join(scopes)}"'},
                )
            g.api_client = client
            return limited(*args, **kwargs)

        guarded.access = ("scopes", frozenset(scopes))  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate
