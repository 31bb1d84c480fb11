"""Fixtures of the console tests: stored keys, and posting the generator's form."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from webapp.extensions import db
from webapp.services.videosdk_keys import add_key, key_by_label


@dataclass(frozen=True)
class StoredKey:
    label: str
    apikey: str
    secret: str


# Test-only secrets, 64 hex characters like VideoSDK's own.
KEYS = {
    "default": StoredKey("default", "a1b2c3d4-0000-4000-8000-00000000d0d0", "0d" * 32),
    "long": StoredKey("long", "a1b2c3d4-0000-4000-8000-00000000beef", "be" * 32),
    "sandbox": StoredKey("sandbox", "sandbox-00112233aabbccdd", "5a" * 32),
    "narrow": StoredKey("narrow", "a1b2c3d4-0000-4000-8000-00000000aaaa", "aa" * 32),
    "off": StoredKey("off", "a1b2c3d4-0000-4000-8000-00000000ffff", "ff" * 32),
}


@pytest.fixture
def keys(app: Flask) -> dict[str, StoredKey]:
    """Five stored keys: default (24h), long (30d), sandbox, narrow (allow_join, rtc, 30m), off."""
    with app.app_context():
        add_key("default", KEYS["default"].apikey, KEYS["default"].secret)
        add_key("long", KEYS["long"].apikey, KEYS["long"].secret, max_lifetime="30d")
        add_key("sandbox", KEYS["sandbox"].apikey, KEYS["sandbox"].secret, sandbox=True)
        add_key("narrow", KEYS["narrow"].apikey, KEYS["narrow"].secret, max_lifetime="30m",
                permissions=["allow_join"], roles=["rtc"])
        add_key("off", KEYS["off"].apikey, KEYS["off"].secret)
        off = key_by_label("off")
        assert off is not None
        off.disabled = True
        db.session.commit()
    return KEYS


GENERATOR_DEFAULTS = {"key": "default", "join_mode": "allow_join", "lifetime": "1h"}


@pytest.fixture
def generate(keys: dict[str, StoredKey]) -> Callable[..., TestResponse]:
    """POST the generator form with sensible defaults; `None` leaves a field out."""

    def post(client: FlaskClient, **fields: object) -> TestResponse:
        data = {**GENERATOR_DEFAULTS, **fields}
        return client.post("/", data={k: v for k, v in data.items() if v is not None})

    return post


TOKEN_IN_TEXTAREA = re.compile(r'<textarea id="token"[^>]*>([^<]+)</textarea>')


def token_from(html: str) -> str:
    """The token shown on the result page."""
    match = TOKEN_IN_TEXTAREA.search(html)
    assert match, "no token on the page"
    return match.group(1).strip()
