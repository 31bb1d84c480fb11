"""Fixtures for the JSON API: stored keys, API clients with their bearer keys, and decoding."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from flask import Flask

from webapp.extensions import db, limiter
from webapp.services.api_clients import create_client
from webapp.services.videosdk_keys import add_key, key_by_label

MAIN_APIKEY = "11111111-aaaa-4bbb-8ccc-000000000001"
MAIN_SECRET = "a" * 64
OTHER_APIKEY = "22222222-aaaa-4bbb-8ccc-000000000002"
OTHER_SECRET = "b" * 64


@dataclass(frozen=True)
class Caller:
    """An API client as a test sees it: its name, its plaintext key and the headers to send."""

    id: int
    name: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def payload_of(token: str) -> dict[str, object]:
    """The claims of a JWT read with base64 alone, so that no app code takes part."""
    segment = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def header_of(token: str) -> dict[str, object]:
    segment = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


@pytest.fixture(autouse=True)
def _fresh_limiter_state() -> Iterator[None]:
    # The Limiter is one module-level object shared by every app a test run builds; a test
    # that kills its storage must not leave the next app on the in-memory fallback.
    yield
    limiter._storage_dead = False


@pytest.fixture
def make_key(app: Flask) -> Callable[..., str]:
    """Store a VideoSDK key; returns its label."""

    def make(label: str = "main", apikey: str = MAIN_APIKEY, secret: str = MAIN_SECRET,
             *, disabled: bool = False, **policy: object) -> str:
        with app.app_context():
            key = add_key(label, apikey, secret, **policy)  # type: ignore[arg-type]
            key.disabled = disabled
            db.session.commit()
            return key.label

    return make


@pytest.fixture
def make_caller(app: Flask) -> Callable[..., Caller]:
    """Create an API client; returns it with its plaintext key."""

    def make(name: str = "app", scopes: tuple[str, ...] = ("tokens:mint", "tokens:inspect"),
             *, keys: tuple[str, ...] = (), max_lifetime: str | None = None,
             rate_limit: str | None = None) -> Caller:
        with app.app_context():
            client, plaintext = create_client(name, scopes, key_labels=keys,
                                              max_lifetime=max_lifetime, rate_limit=rate_limit)
            db.session.commit()
            return Caller(id=client.id, name=client.name, key=plaintext)

    return make


@pytest.fixture
def main_key(make_key: Callable[..., str]) -> str:
    return make_key()


@pytest.fixture
def caller(main_key: str, make_caller: Callable[..., Caller]) -> Caller:
    """A client with both scopes that may sign with the one stored key."""
    return make_caller()


@pytest.fixture
def api(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_client()


def stored_key(app: Flask, label: str):  # type: ignore[no-untyped-def]
    with app.app_context():
        return key_by_label(label)
