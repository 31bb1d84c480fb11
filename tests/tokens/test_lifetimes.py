"""expiresIn as node jsonwebtoken reads it (vercel ms 2.1)."""

from __future__ import annotations

import math

import pytest

from webapp.tokens import PRESETS, LifetimeError, format_lifetime, parse_lifetime


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (60, 60),
        (1.5, 1.5),
        ("120m", 7200),
        ("120s", 120),
        ("1.5h", 5400),
        (".5h", 1800),
        ("7 days", 7 * 86400),
        ("7  days", 7 * 86400),
        ("2 Weeks", 14 * 86400),
        ("1y", 365.25 * 86400),
        ("2 yrs", 2 * 365.25 * 86400),
        ("500ms", 0.5),
        ("1500 msecs", 1.5),
        ("250 Milliseconds", 0.25),
        ("10 MIN", 600),
        ("3 mins", 180),
        ("45 minute", 2700),
        ("2 hrs", 7200),
        ("1 hr", 3600),
        ("1 hour", 3600),
        ("30 sec", 30),
        ("30 secs", 30),
        ("1 second", 1),
        ("1d", 86400),
        ("1w", 7 * 86400),
        (" 10m ", 600),
    ],
)
def test_parse(value: int | float | str, seconds: float) -> None:
    assert parse_lifetime(value) == pytest.approx(seconds)


@pytest.mark.parametrize("preset", PRESETS)
def test_presets_parse(preset: str) -> None:
    assert parse_lifetime(preset) > 0


def test_a_unitless_string_is_refused_as_jsonwebtoken_reads_milliseconds() -> None:
    with pytest.raises(LifetimeError) as caught:
        parse_lifetime("120")
    message = str(caught.value)
    assert "jsonwebtoken would read it as 120 milliseconds" in message
    assert "'120s'" in message and "'120m'" in message


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("1.5", "1.5 milliseconds"),
        ("abc", "not a lifetime"),
        ("10 parsecs", "unknown unit"),
        ("1e3s", "not a lifetime"),
        ("\u0661h", "not a lifetime"),  # an Arabic-Indic one: ms reads only ASCII digits
        ("\uff11h", "not a lifetime"),  # a fullwidth one
        ("-1h", "more than zero"),
        ("0m", "more than zero"),
        (0, "more than zero"),
        (-5, "more than zero"),
        (math.nan, "finite"),
        (math.inf, "finite"),
        (10**400, "finite"),
        (True, "number of seconds"),
        ("1" * 101 + "s", "not a lifetime"),
    ],
)
def test_refusals_say_why(value: object, words: str) -> None:
    with pytest.raises(LifetimeError, match=words):
        parse_lifetime(value)  # type: ignore[arg-type]


def test_lifetime_error_is_a_value_error() -> None:
    assert issubclass(LifetimeError, ValueError)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (600, "10m"),
        (86400, "1d"),
        (5400, "90m"),
        (3600, "1h"),
        (7 * 86400, "7d"),
        (90, "90s"),
        (0.5, "500ms"),
        (30 * 86400, "30d"),
        (7200, "2h"),
    ],
)
def test_format_shortest_exact(seconds: float, text: str) -> None:
    assert format_lifetime(seconds) == text
    assert parse_lifetime(text) == seconds
