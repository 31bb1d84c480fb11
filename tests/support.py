"""Helpers shared by the test modules."""

from __future__ import annotations

import os

import pytest

STRICT = os.environ.get("TOKEN_CONSOLE_STRICT_TESTS") == "1"


def unavailable(reason: str) -> None:
    """Skip with ``reason``; under TOKEN_CONSOLE_STRICT_TESTS=1 (CI) fail instead."""
    if STRICT:
        pytest.fail(f"{reason} (mandatory here: TOKEN_CONSOLE_STRICT_TESTS=1)", pytrace=False)
    pytest.skip(reason)


def login(client, email: str, password: str, **extra: str):  # type: ignore[no-untyped-def]
    """Sign in through the real form; the response of the POST."""
    return client.post("/login", data={"email": email, "password": password, **extra})
