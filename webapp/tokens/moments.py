"""Moments in words for people: relative ("3 h 12 min ago") and absolute (ISO 8601 UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

_UNITS: tuple[tuple[str, int], ...] = (
    ("y", 365 * 86400),
    ("d", 86400),
    ("h", 3600),
    ("min", 60),
    ("s", 1),
)


def read_moment(text: str) -> datetime:
    """An ISO 8601 moment as typed by a person, in UTC; without an offset it is UTC (SPEC 3).

    Raises ValueError when the text is not ISO 8601, OverflowError when the moment falls
    outside the calendar once moved to UTC.
    """
    text = text.strip()
    if text.endswith("z"):
        text = text[:-1] + "Z"
    return as_utc(datetime.fromisoformat(text))


def as_utc(moment: datetime) -> datetime:
    """The same moment as an aware UTC datetime; a naive datetime is taken to be UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def duration(seconds: float) -> str:
    """A length of time in its two largest units, rounded down: 11520 -> "3 h 12 min"."""
    remaining = int(abs(seconds))
    for index, (name, size) in enumerate(_UNITS):
        if remaining >= size:
            count, rest = divmod(remaining, size)
            words = f"{count} {name}"
            if index + 1 < len(_UNITS):
                next_name, next_size = _UNITS[index + 1]
                if rest // next_size:
                    words += f" {rest // next_size} {next_name}"
            return words
    return "0 s"


def relative(moment: datetime, reference: datetime) -> str:
    """Where `moment` lies from `reference`: "3 h 12 min ago", "in 47 min" or "just now"."""
    delta = (as_utc(moment) - as_utc(reference)).total_seconds()
    if abs(delta) < 1:
        return "just now"
    words = duration(delta)
    return f"{words} ago" if delta < 0 else f"in {words}"


def describe_expiry(exp: datetime, at: datetime) -> str:
    """An expiry as seen at `at`: "expired 3 h 12 min ago" or "valid for 47 more minutes"."""
    remaining = (as_utc(exp) - as_utc(at)).total_seconds()
    if remaining <= 0:
        return f"expired {relative(exp, at)}"
    if remaining < 60:
        count = int(remaining) or 1
        return f"valid for {count} more second{'s' if count != 1 else ''}"
    if remaining < 3600:
        count = int(remaining // 60)
        return f"valid for {count} more minute{'s' if count != 1 else ''}"
    return f"valid for {duration(remaining)} more"


def iso_utc(moment: datetime) -> str:
    """The moment as ISO 8601 UTC to the second with a "Z": "2026-11-27T21:00:00Z"."""
    m = as_utc(moment)
    # Formatted by hand: strftime("%Y") does not pad years before 1000 on every platform.
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"
