"""CORS for the API: off unless CORS_ORIGINS lists origins, and then only on the API's paths."""

from __future__ import annotations

import re

from flask import Flask
from flask_cors import CORS

from webapp.config import ConfigurationError

API_PATHS = (r"/api/.*", "/get-token", "/create-meeting/?", r"/validate-meeting/.*")
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def allowed_origins(value: object) -> list[str]:
    """The comma-separated origins of CORS_ORIGINS; refuses anything but scheme://host[:port]."""
    if isinstance(value, str):
        items = value.split(",")
    else:
        items = [str(item) for item in value or ()]  # type: ignore[attr-defined]
    origins = [item.strip().rstrip("/") for item in items if item.strip()]
    for origin in origins:
        # Flask-CORS reads strings holding * ? [ ( as regular expressions: an allow-list of
        # plain origins must never turn into a pattern that matches more than it says.
        if not _ORIGIN.fullmatch(origin):
            raise ConfigurationError(
                f"CORS_ORIGINS: {origin!r} is not an origin such as https://app.example.com "
                "(no path, no wildcard)."
            )
    return origins


def init_app(app: Flask) -> None:
    """Answer cross-origin requests from the allowed origins on the API's paths only."""
    origins = allowed_origins(app.config.get("CORS_ORIGINS"))
    if not origins:
        return
    options = {
        "origins": origins,
        "methods": ["GET", "POST", "OPTIONS"],
        "allow_headers": ["Authorization", "Content-Type"],
        "expose_headers": ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                           "Retry-After", "WWW-Authenticate"],
        # Bearer keys only: browsers must not send cookies along.
        "supports_credentials": False,
        "max_age": 600,
    }
    CORS(app, resources={path: options for path in API_PATHS})
