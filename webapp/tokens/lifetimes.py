"""Token lifetimes in the syntax of node jsonwebtoken's `expiresIn` (the vercel `ms` package)."""

from __future__ import annotations

import math
import re

PRESETS: tuple[str, ...] = ("10m", "1h", "24h", "7d", "30d")

_SECOND = 1.0
_MINUTE = 60.0
_HOUR = 3600.0
_DAY = 86400.0
_WEEK = 7 * _DAY
# `ms` counts a year as 365.25 days; follow it so both sides compute the same `exp`.
_YEAR = 365.25 * _DAY

_UNITS: dict[str, float] = {}
for _names, _seconds in (
    (("milliseconds", "millisecond", "msecs", "msec", "ms"), 0.001),
    (("seconds", "second", "secs", "sec", "s"), _SECOND),
    (("minutes", "minute", "mins", "min", "m"), _MINUTE),
    (("hours", "hour", "hrs", "hr", "h"), _HOUR),
    (("days", "day", "d"), _DAY),
    (("weeks", "week", "w"), _WEEK),
    (("years", "year", "yrs", "yr", "y"), _YEAR),
):
    for _name in _names:
        _UNITS[_name] = _seconds

# The grammar of `ms` 2.1: an optional sign, digits with an optional decimal part (".5" too),
# spaces, then an optional unit. The sign is read so that "-1h" gets a precise refusal. Digits
# are ASCII, as JavaScript's \d: Python's would also take "١h" (an Arabic-Indic one) as 1h.
_PATTERN = re.compile(r"(-?(?:[0-9]+)?\.?[0-9]+) *([a-z]*)", re.IGNORECASE)
# `ms` ignores strings longer than this; so do we, which also bounds the work.
_MAX_TEXT = 100


class LifetimeError(ValueError):
    """A lifetime that cannot be used; `str(err)` is a message for the person who typed it."""


def parse_lifetime(value: int | float | str) -> float:
    """Read an `expiresIn` value as jsonwebtoken would and return positive seconds.

    Numbers are seconds; strings need a unit. Anything jsonwebtoken would misread or refuse
    raises LifetimeError with a message that says what to write instead.
    """
    if isinstance(value, bool):
        raise LifetimeError("A lifetime must be a number of seconds or text such as '1h'.")
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:
            seconds = math.inf
        return _positive(seconds, str(value))
    if not isinstance(value, str):
        raise LifetimeError("A lifetime must be a number of seconds or text such as '1h'.")
    text = value.strip()
    if not text:
        raise LifetimeError("The lifetime is empty: write it as '10m', '1h' or '7d'.")
    match = _PATTERN.fullmatch(text) if len(text) <= _MAX_TEXT else None
    if match is None:
        raise LifetimeError(
            f"'{_clip(text)}' is not a lifetime: write a number and a unit, such as "
            "'10m', '1.5h' or '7 days'."
        )
    number, unit = match.group(1), match.group(2).lower()
    if not unit:
        raise LifetimeError(
            f"'{text}' has no unit: jsonwebtoken would read it as {number} milliseconds, "
            f"not seconds. Write '{number}s' for seconds or '{number}m' for minutes."
        )
    if unit not in _UNITS:
        raise LifetimeError(
            f"'{_clip(text)}' has an unknown unit '{_clip(unit)}': use ms, s, m, h, d, w or y "
            "(or their long forms such as 'minutes' or 'days')."
        )
    return _positive(float(number) * _UNITS[unit], text)


def _positive(seconds: float, shown: str) -> float:
    if math.isnan(seconds) or math.isinf(seconds):
        raise LifetimeError(f"'{_clip(shown)}' is not a finite lifetime.")
    if seconds <= 0:
        raise LifetimeError(
            f"'{_clip(shown)}' is not a lifetime: it must be more than zero, such as '1h'."
        )
    return seconds


def _clip(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def format_lifetime(seconds: float) -> str:
    """Write a lifetime in the shortest exact `expiresIn` form: 600 -> "10m", 86400 -> "1d"."""
    # Weeks and years are left out on purpose: "7d" and "30d" read better, and a `ms` year is
    # 365.25 days, which surprises people.
    for suffix, size in (("d", _DAY), ("h", _HOUR), ("m", _MINUTE), ("s", _SECOND)):
        count = seconds / size
        if count >= 1 and count == int(count):
            return f"{int(count)}{suffix}"
    millis = seconds * 1000
    if millis == int(millis) and millis > 0:
        return f"{int(millis)}ms"
    return f"{seconds:g}s"
