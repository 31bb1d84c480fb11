"""Which characters the token's ids and texts may hold, as predicates and as regex classes.

The predicates are the rules; the classes list what they refuse, so that the OpenAPI
document states the same rules as patterns (ECMA-262, as JSON Schema reads them) without
retyping them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from functools import cache

# Every whitespace (str.isspace) and control character (category Cc) lies in the Basic
# Multilingual Plane, so listing what a predicate refuses needs no further scan.
_BMP = range(0x10000)


def is_whitespace(ch: str) -> bool:
    """Whitespace as Python's str.isspace and str.strip read it (Unicode Zs and bidi WS/B/S)."""
    return ch.isspace()


def is_control(ch: str) -> bool:
    """A control character: Unicode category Cc (U+0000-U+001F, U+007F-U+009F)."""
    return unicodedata.category(ch) == "Cc"


@cache
def _refused(predicate: Callable[[str], bool]) -> tuple[int, ...]:
    return tuple(code for code in _BMP if predicate(chr(code)))


def _ranges(codes: Iterable[int]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for code in sorted(codes):
        if spans and spans[-1][1] == code - 1:
            spans[-1] = (spans[-1][0], code)
        else:
            spans.append((code, code))
    return spans


def regex_class(*predicates: Callable[[str], bool]) -> str:
    """The inside of a regex character class holding every character any predicate accepts.

    Written with \\uXXXX escapes, which ECMA-262 and Python's `re` both read.
    """
    codes = {code for predicate in predicates for code in _refused(predicate)}
    parts = []
    for low, high in _ranges(codes):
        parts.append(f"\\u{low:04X}" if low == high else f"\\u{low:04X}-\\u{high:04X}")
    return "".join(parts)
