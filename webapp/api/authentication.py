"""Who is calling: the bearer client key, its scopes, and its own rate limit.

Only the Authorization header counts; a signed-in browser's session cookie does not.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from functools import lru_cache, wraps
from typing import Any, TypeVar

from flask import Flask, Request, Response, current_app, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage
from limits.strategies import STRATEGIES

from webapp import rawsql
from webapp.api import bp, dropin
from webapp.api.problems import ApiProblem, forbidden
from webapp.models import ApiClient
from webapp.services.api_clients import authenticate
from webapp.web.errors import API_PREFIXES

log = logging.getLogger("flask-limiter")

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


@lru_cache(maxsize=256)
def _parsed_limits(value: str) -> tuple[RateLimitItem, ...]:
    # A client's rate limit is read on every request: parse each distinct spelling once.
    return tuple(sorted(parse_many(value)))


class _QuietMemoryStorage(MemoryStorage):
    """limits' memory storage without its expiry thread: expired windows are dropped on read.

    The stock one starts a timer thread every 10 ms while hits keep coming, which costs a
    busy worker more than counting itself; fixed windows need no sweeping to stay correct.
    """

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - overrides a private hook
        return None


class ClientLimits:
    """Each API client's own limit, counted in the app's rate-limit storage, with headers.

    Flask-Limiter keeps the per-address sign-in limit; the API counts here, straight on the
    `limits` storage, because its decorator's per-request bookkeeping cost more than the
    count. The storage, the strategy, the bucket names and the fallback to memory when the
    shared storage stops answering (logged, and /readyz says 503) are the same.
    """

    RECHECK_SECONDS = 5.0

    def __init__(self, app: Flask, storage: Storage | None) -> None:
        self.enabled = bool(app.config.get("RATELIMIT_ENABLED", True)) and storage is not None
        memory = str(app.config["RATELIMIT_STORAGE_URI"]).startswith("memory")
        self.storage: Storage = _QuietMemoryStorage() if memory or storage is None else storage
        self.fallback_enabled = bool(app.config.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"))
        self.fixed_window = app.config.get("RATELIMIT_STRATEGY", "fixed-window") == "fixed-window"
        self.strategy = STRATEGIES[app.config.get("RATELIMIT_STRATEGY", "fixed-window")]
        self.prefix = str(app.config.get("RATELIMIT_KEY_PREFIX") or "")
        self._fallback: Storage = _QuietMemoryStorage()
        self._dead_until = 0.0  # while in the future, count in memory instead
        self._lock = threading.Lock()

    def _current(self) -> Storage:
        if not self._dead_until:
            return self.storage
        if time.monotonic() >= self._dead_until:
            with self._lock:
                try:
                    alive = bool(self.storage.check())
                except Exception:  # noqa: BLE001 - any storage failure means "still down"
                    alive = False
                if alive:
                    log.info("Rate limit storage recovered")
                    self._dead_until = 0.0
                    return self.storage
                self._dead_until = time.monotonic() + self.RECHECK_SECONDS
        return self._fallback

    def _count(self, storage: Storage, items: Sequence[RateLimitItem],
               identifiers: Sequence[str]) -> tuple[RateLimitItem, int, float, bool]:
        """Spend one hit on each limit until one is over: (limit, remaining, reset, allowed)."""
        first: tuple[RateLimitItem, int, float, bool] | None = None
        for item in items:
            key = item.key_for(*identifiers)
            if self.fixed_window:
                # What limits' FixedWindowRateLimiter.hit does, keeping the count it returns.
                used = storage.incr(key, item.get_expiry(), amount=1)
                allowed = used <= item.amount
                remaining = max(0, item.amount - used)
                reset = storage.get_expiry(key)
            else:
                strategy = self.strategy(storage)
                allowed = strategy.hit(item, *identifiers)
                reset, remaining = strategy.get_window_stats(item, *identifiers)
            if not allowed:
                return item, remaining, reset, False
            first = first or (item, remaining, reset, True)
        if first is None:
            raise ValueError("a rate limit names no limit at all")
        return first

    def spend(self, value: str, bucket: str) -> tuple[RateLimitItem, int, float, bool]:
        """Count this request against ``value`` for ``bucket``: the limit to show, the verdict."""
        items = _parsed_limits(value)
        identifiers = [self.prefix, bucket, RATE_LIMIT_SCOPE] if self.prefix else [
            bucket, RATE_LIMIT_SCOPE]
        storage = self._current()
        try:
            return self._count(storage, items, identifiers)
        except Exception:
            if storage is not self.storage or not self.fallback_enabled:
                raise
            log.warning("Rate limit storage unreachable - falling back to in-memory storage")
            with self._lock:
                self._dead_until = time.monotonic() + self.RECHECK_SECONDS
            return self._count(self._fallback, items, identifiers)


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


def init_app(app: Flask, storage: Storage | None) -> None:
    """Bind the API's per-client limits to this app's rate-limit storage; no cookies on the API."""
    app.extensions["api_client_limits"] = ClientLimits(app, storage)
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = _NoCookiesOnTheApi()


def _spend_quota() -> None:
    """Count this request against the client's limit; 429 past it. Headers go on the answer."""
    limits: ClientLimits = current_app.extensions["api_client_limits"]
    if not limits.enabled:
        return
    item, remaining, reset, allowed = limits.spend(_client_rate_limit(), _client_bucket())
    reset_at = int(reset + 1)
    headers = {
        "X-RateLimit-Limit": str(item.amount),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(reset_at),
        "Retry-After": str(max(0, int(reset_at - time.time()))),
    }
    g.rate_limit_headers = headers
    if not allowed:
        raise ApiProblem(429, "rate_limited", "Too Many Requests", _rate_limited_message(),
                         headers=headers)


@bp.after_request
@dropin.after_request
def rate_limit_headers(response: Response) -> Response:
    """Put the client's rate-limit headers on every answer that spent its quota, errors too."""
    headers: dict[str, str] | None = g.get("rate_limit_headers")
    if headers:
        present = {name.lower() for name in response.headers.keys()}
        for name, value in headers.items():
            if name.lower() in present:  # a 429 problem carries them already: replace
                response.headers[name] = value
            else:  # no scan of the list, as setting one would do
                response.headers.add(name, value)
    return response


def client_required(*scopes: str) -> Callable[[F], F]:
    """Let through only a live client key holding every one of ``scopes``, within its rate limit.

    401 (with WWW-Authenticate) for a missing, unknown or revoked key, 403 for a missing scope,
    then 429 past the client's own `rate_limit`.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            key = presented_key()
            if not key:
                raise _unauthorized(
                    "Send the client key as 'Authorization: Bearer <client key>'.",
                    key_presented=False,
                )
            # One pooled connection reads the client and, on a mint, writes its two rows.
            with rawsql.held():
                client = authenticate(key)
                if client is None:
                    raise _unauthorized("The client key is unknown or revoked.",
                                        key_presented=True)
                missing = [scope for scope in scopes if scope not in (client.scopes or ())]
                if missing:
                    raise forbidden(
                        f"This client lacks the scope {' and '.join(missing)}.",
                        headers={"WWW-Authenticate":
                                 f'Bearer error="insufficient_scope", scope="{" ".join(scopes)}"'},
                    )
                g.api_client = client
                _spend_quota()
                return view(*args, **kwargs)

        guarded.access = ("scopes", frozenset(scopes))  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate
