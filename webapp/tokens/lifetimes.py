"""Token lifetimes in the syntax of node jsonwebtoken's `expiresIn` (the vercel `ms` package)."""

from __future__ import annotations

import math
import re
from fractions import Fraction

from webapp.characters import is_whitespace, regex_class
from webapp.tokens.field_errors import FieldErrorCode

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
MAX_LIFETIME_TEXT = 100
# Under a second, a token is expired before it arrives; past a century no calendar helps.
SHORTEST_LIFETIME = 1.0
LONGEST_LIFETIME = 100 * 365 * _DAY


class LifetimeError(ValueError):
    """A lifetime that cannot be used; `str(err)` is a message for the person who typed it.

    `code` says which kind of rule it breaks (a FieldErrorCode: type, empty, pattern, range).
    """

    def __init__(self, message: str, code: FieldErrorCode = FieldErrorCode.PATTERN) -> None:
        super().__init__(message)
        self.code = code


def parse_lifetime(value: int | float | str) -> float:
    """Read an `expiresIn` value as jsonwebtoken would and return positive seconds.

    Numbers are seconds; strings need a unit. Anything jsonwebtoken would misread or refuse
    raises LifetimeError with a message that says what to write instead.
    """
    if isinstance(value, bool):
        raise LifetimeError("A lifetime must be a number of seconds or text such as '1h'.",
                            FieldErrorCode.TYPE)
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:
            seconds = math.inf
        return _positive(seconds, str(value))
    if not isinstance(value, str):
        raise LifetimeError("A lifetime must be a number of seconds or text such as '1h'.",
                            FieldErrorCode.TYPE)
    text = value.strip()
    if not text:
        raise LifetimeError("The lifetime is empty: write it as '10m', '1h' or '7d'.",
                            FieldErrorCode.EMPTY)
    match = _PATTERN.fullmatch(text) if len(text) <= MAX_LIFETIME_TEXT else None
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
        raise LifetimeError(f"'{_clip(shown)}' is not a finite lifetime.", FieldErrorCode.RANGE)
    if seconds <= 0:
        raise LifetimeError(
            f"'{_clip(shown)}' is not a lifetime: it must be more than zero, such as '1h'.",
            FieldErrorCode.RANGE,
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


def _any_case(word: str) -> str:
    return "".join(f"[{ch.lower()}{ch.upper()}]" for ch in word)


def _fraction_at_least(digits: str) -> str:
    """Regex of the decimal fractions (the digits after the point) worth at least 0.<digits>."""
    options = [f"{digits[:i]}[{int(d) + 1}-9][0-9]*" for i, d in enumerate(digits) if d != "9"]
    return "(?:" + "|".join([*options, f"{digits}[0-9]*"]) + ")"


def _number_in_range(unit_seconds: Fraction) -> str:
    """Regex of the numbers (as `ms` writes them) that, in this unit, make a lifetime within
    SHORTEST_LIFETIME and LONGEST_LIFETIME.

    Exact at the short end up to six significant digits (a number a hair above the floor may
    be refused); at the long end it stops at the largest power of ten of units that fits.
    """
    least = Fraction(SHORTEST_LIFETIME) / unit_seconds
    most = Fraction(LONGEST_LIFETIME) / unit_seconds
    top = len(str(math.floor(most))) - 1  # integer digits that always fit
    fraction = r"(?:\.[0-9]+)?"
    if least >= 1:
        # A power of ten (1 s, 1000 ms): so many integer digits at least.
        low = len(str(math.ceil(least)))
        if Fraction(10) ** (low - 1) != least:
            raise ValueError(f"no digit-count rule for a floor of {least} units")
        return f"0*[1-9][0-9]{{{low - 1},{top - 1}}}{fraction}"
    # Below one unit: a whole part of 1 or more, or 0.<digits> at least the floor, rounded up.
    scale = 0
    while least * 10**scale < 10**5:
        scale += 1
    digits = str(math.ceil(least * 10**scale)).zfill(scale)
    return f"(?:0*[1-9][0-9]{{0,{top - 1}}}{fraction}|0*\\.{_fraction_at_least(digits)})"


def lifetime_text_pattern() -> str:
    """The ECMA-262 pattern of every lifetime text parse_lifetime accepts within the bounds.

    Built from the unit table and the bounds above (for the OpenAPI document, SPEC 5): a
    number, spaces, a unit in any letter case, surrounding whitespace allowed. A text of at
    most MAX_LIFETIME_TEXT characters once stripped.
    """
    by_size: dict[float, list[str]] = {}
    for name, seconds in _UNITS.items():
        by_size.setdefault(seconds, []).append(name)
    alternatives = []
    for seconds, names in by_size.items():
        size = Fraction(seconds).limit_denominator(1000)
        units = "|".join(_any_case(name) for name in sorted(names, key=len, reverse=True))
        alternatives.append(f"{_number_in_range(size)} *(?:{units})")
    space = f"[{regex_class(is_whitespace)}]*"
    return f"^{space}(?:{'|'.join(alternatives)}){space}$"
