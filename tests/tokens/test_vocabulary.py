"""Permissions, roles and what every claim means in plain words."""

from __future__ import annotations

import pytest

from tests.tokens.factory import T
from webapp.tokens import (
    PERMISSION_EXPLANATIONS,
    ROLE_EXPLANATIONS,
    Permission,
    Role,
    explain_claim,
)


def test_the_words_of_spec_2() -> None:
    assert [p.value for p in Permission] == ["allow_join", "ask_join", "allow_mod"]
    assert [r.value for r in Role] == ["crawler", "rtc"]
    assert set(PERMISSION_EXPLANATIONS) == set(Permission)
    assert set(ROLE_EXPLANATIONS) == set(Role)
    assert "ask" in PERMISSION_EXPLANATIONS["ask_join"]
    assert "camera" in PERMISSION_EXPLANATIONS["allow_mod"]
    assert "cannot take part in a meeting" in ROLE_EXPLANATIONS["crawler"]


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("apikey", "apikey-a", ['"apikey-a"', "API key"]),
        ("permissions", ["allow_join", "allow_mod"], ["join the meeting directly", "camera"]),
        ("permissions", ["root"], ['"root" (not a known value)']),
        ("permissions", "allow_join", ["should be a list"]),
        ("version", 2, ["version 2"]),
        ("version", "2", ['"2": should be the number 2']),
        ("roomId", "abc", ["only meeting room", '"abc"']),
        ("participantId", 5, ["should be text"]),
        ("roles", ["crawler"], ["server-side"]),
        ("roles", [], ["empty list"]),
        ("iat", T, ["signed", "2026-11-27T21:00:00Z"]),
        ("exp", T * 1000, ["milliseconds"]),
        ("nbf", None, ["not a time"]),
        ("exp", True, ["not a time"]),
        ("exp", -(10**15), ["seconds since 1970"]),
        ("sub", "x", ["not used by VideoSDK"]),
    ],
)
def test_explain_claim(name: str, value: object, words: list[str]) -> None:
    text = explain_claim(name, value)
    assert text.startswith(f"{name}:")
    for word in words:
        assert word in text


def test_explain_claim_never_raises_on_odd_values() -> None:
    assert explain_claim("exp", float("nan"))
    assert explain_claim("roles", [object()])
    assert explain_claim("x", {"a": [1] * 100}).endswith("... (not used by VideoSDK; ignored)")
