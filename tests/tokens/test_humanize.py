"""Moments in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.tokens.factory import NOW
from webapp.tokens import describe_expiry, iso_utc, read_moment, relative


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(hours=-3, minutes=-12), "3 h 12 min ago"),
        (timedelta(minutes=47), "in 47 min"),
        (timedelta(seconds=0.4), "just now"),
        (timedelta(seconds=-30), "30 s ago"),
        (timedelta(hours=2), "in 2 h"),
        (timedelta(days=-2, hours=-5, minutes=-3), "2 d 5 h ago"),
        (timedelta(days=400), "in 1 y 35 d"),
        (timedelta(minutes=-1, seconds=-5), "1 min 5 s ago"),
    ],
)
def test_relative(delta: timedelta, words: str) -> None:
    assert relative(NOW + delta, NOW) == words


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(hours=-3, minutes=-12), "expired 3 h 12 min ago"),
        (timedelta(0), "expired just now"),
        (timedelta(minutes=47, seconds=30), "valid for 47 more minutes"),
        (timedelta(minutes=1), "valid for 1 more minute"),
        (timedelta(seconds=20), "valid for 20 more seconds"),
        (timedelta(hours=5, minutes=2), "valid for 5 h 2 min more"),
    ],
)
def test_describe_expiry(delta: timedelta, words: str) -> None:
    assert describe_expiry(NOW + delta, NOW) == words


def test_iso_utc() -> None:
    assert iso_utc(NOW) == "2026-11-27T21:00:00Z"
    plus_five_thirty = timezone(timedelta(hours=5, minutes=30))
    assert iso_utc(datetime(2026, 11, 28, 2, 30, 0, 999, tzinfo=plus_five_thirty)) == (
        "2026-11-27T21:00:00Z"
    )
    assert iso_utc(datetime(2026, 11, 27, 21, 0)) == "2026-11-27T21:00:00Z"  # naive is UTC
    assert iso_utc(datetime(5, 1, 1)) == "0005-01-01T00:00:00Z"


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-03-01T14:30", datetime(2025, 3, 1, 14, 30, tzinfo=UTC)),
    (" 2025-03-01 14:30 ", datetime(2025, 3, 1, 14, 30, tzinfo=UTC)),
    ("2025-03-01T14:30Z", datetime(2025, 3, 1, 14, 30, tzinfo=UTC)),
    ("2025-03-01T14:30z", datetime(2025, 3, 1, 14, 30, tzinfo=UTC)),
    ("2025-03-01T20:00+05:30", datetime(2025, 3, 1, 14, 30, tzinfo=UTC)),
])
def test_read_moment_is_utc_unless_an_offset_says_otherwise(text: str, expected: datetime) -> None:
    moment = read_moment(text)
    assert moment == expected
    assert moment.utcoffset() == timedelta(0)


def test_read_moment_refuses_what_is_not_iso_8601_or_leaves_the_calendar() -> None:
    with pytest.raises(ValueError):
        read_moment("yesterday")
    with pytest.raises(OverflowError):
        read_moment("0001-01-01T00:00+01:00")
