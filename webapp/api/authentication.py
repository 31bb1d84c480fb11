"""Who is calling: the bearer client key, its scopes, and its own rate limit.

Only the Authorization header counts; a signed-in browser's session cookie does not.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Request, Response, current_app, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_limiter import RequestLimit

from webapp.api.problems import ApiProblem, forbidden
from webapp.extensions import limiter
from webapp.models import ApiClient
from webapp.services.api_clients import authenticate
from webapp.web.errors import API_BLUEPRINTS, API_PREFIXES

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


def _over_the_limit(limit: RequestLimit) -> Response:
    """The 429 problem answer Flask-Limiter gives when a client's limit is breached."""
    return ApiProblem(429, "rate_limited", "Too Many Requests", _rate_limited_message()).response()


# One count per client across every endpoint that spends its quota (a shared limit), of the
# client's own `rate_limit`, read per request; its breach answers problem+json.
client_rate_limit = limiter.shared_limit(
    _client_rate_limit, scope=RATE_LIMIT_SCOPE, key_func=_client_bucket,
    on_breach=_over_the_limit)


@limiter.request_filter
def _not_yet_authenticated() -> bool:
    """Flask-Limiter has nothing to count on an API request until its client is known.

    Its before-request pass would only find no limit there (the API's one limit is checked
    by client_rate_limit inside client_required, once the key is accepted): skip it.
    """
    return g.get("api_client") is None and request.blueprint in API_BLUEPRINTS


class _NoCookiesOnTheApi(SecureCookieSessionInterface):
    """The cookie session everywhere but the API: there, no cookie is read and none is set.

    A session cookie never authenticates the API (bearer keys only); not decoding one, nor
    signing one back, also spares every API request that work.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(API_PREFIXES):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if request.path.startswith(API_PREFIXES):
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    """No cookies on the API (see _NoCookiesOnTheApi), unless the app chose its own sessions."""
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = _NoCookiesOnTheApi()


def client_required(*scopes: str) -> Callable[[F], F]:
    """Let through only a live client key holding every one of ``scopes``, within its rate limit.

    401 (with ``WWW-Authenticate: Bearer``, RFC 6750 section 3) for a missing, unknown or
    revoked key, 403 for a missing scope, then 429 past the client's own `rate_limit`
    (Flask-Limiter's shared limit ``client_rate_limit``; web.rate_limits writes its headers).
    """

    def decorate(view: F) -> F:
        limited = client_rate_limit(view)

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
                raise forbidden(f"This client lacks the scope {' and '.join(missing)}.")
            g.api_client = client
            return limited(*args, **kwargs)

        guarded.access = ("scopes", frozenset(scopes))  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate
