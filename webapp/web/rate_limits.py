"""Rate limits through Flask-Limiter's public API, and the headers that report them.

Two limits exist: sign-in's per address (auth.views) and each API client's own
(api.authentication), both counted in the storage of ``RATELIMIT_STORAGE_URI``. With
``memory://`` each gunicorn worker counts on its own, so a client may get up to
(workers x its limit) and the ``X-RateLimit-*`` headers describe the worker that answered;
point it at Redis to share one count between workers and instances.

Headers (RFC 6585 section 4 for 429, RFC 9110 section 10.2.3 for ``Retry-After``): every
answer to a request that counted against a limit carries ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` (after this request) and ``X-RateLimit-Reset`` (epoch seconds when
the window ends), whatever its status; ``Retry-After`` (seconds) goes on a 429 only.
Requests that count against nothing (pages, the OpenAPI document, a refused key) carry none.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response

from webapp.extensions import limiter
from webapp.web import rate_limit_storage

log = logging.getLogger(__name__)


def seconds_until(reset_at: int) -> int:
    """Whole seconds from now until ``reset_at`` (epoch seconds), at least 1."""
    return max(1, int(reset_at - time.time()))


def _headers(response: Response) -> Response:
    current = limiter.current_limit
    if current is None:
        return response
    try:
        reset_at, remaining = current.reset_at, current.remaining
    except Exception:  # noqa: BLE001 - a storage that stopped answering costs headers, not the answer
        log.warning("rate limit storage unreachable: answered without rate-limit headers")
        return response
    headers = response.headers
    headers["X-RateLimit-Limit"] = str(current.limit.amount)
    headers["X-RateLimit-Remaining"] = str(remaining)
    headers["X-RateLimit-Reset"] = str(reset_at)
    if response.status_code == 429 and "Retry-After" not in headers:
        headers["Retry-After"] = str(seconds_until(reset_at))
    return response


def init_app(app: Flask) -> None:
    """Bind Flask-Limiter, write its headers ourselves, and offer /readyz a storage probe."""
    uri = str(app.config["RATELIMIT_STORAGE_URI"])
    if uri.startswith("memory://") \
            and app.config.get("RATELIMIT_STRATEGY", "fixed-window") == "fixed-window":
        # The same per-process counts, without limits' sweeper thread (see its module).
        app.config["RATELIMIT_STORAGE_URI"] = f"{rate_limit_storage.SCHEME}://"
    if uri.startswith(("redis", "rediss")):
        # A Redis that stopped answering must not hang requests or /readyz for long.
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS",
                              {"socket_connect_timeout": 2, "socket_timeout": 2})
    # Flask-Limiter's own headers would put Retry-After on every answer: ours, above.
    app.config["RATELIMIT_HEADERS_ENABLED"] = False
    limiter.init_app(app)
    if limiter.enabled:
        # This app's own storage, even when tests build several apps.
        storage = limiter.storage
        app.extensions["ratelimit_probe"] = lambda: bool(storage.check())
    app.after_request(_headers)
