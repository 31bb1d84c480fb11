"""Characters that may not be stored in a name or id, and how the others are shown safely.

Control characters (Unicode category Cc: NUL, ESC, BEL, line breaks) rewrite a terminal or a
log line; format characters (Cf: U+202E RIGHT-TO-LEFT OVERRIDE, U+200B ZERO WIDTH SPACE, ...)
make a text display as something it is not. Ids and names refuse both (SPEC 4, 7); values
stored before that rule, and anything a client sent that reaches a log, are shown with such
characters escaped (``\\u202e``). No Flask import here: the domain uses it too.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from functools import cache

# What a name or id may not hold: control and format characters, line and paragraph
# separators (U+2028, U+2029), which break a line as a newline does, and lone surrogates
# (what a shell hands over for bytes that are not UTF-8), which no database can store.
CONTROL, FORMAT, SURROGATE = "Cc", "Cf", "Cs"
REFUSED_IN_NAMES = frozenset({CONTROL, FORMAT, "Zl", "Zp", SURROGATE})
# What is escaped when shown: the same.
_ESCAPED = REFUSED_IN_NAMES


def first_refused(value: str, categories: frozenset[str] = REFUSED_IN_NAMES) -> str | None:
    """The first character of ``value`` in one of ``categories``, or None."""
    return next((ch for ch in value if unicodedata.category(ch) in categories), None)


def is_whitespace(ch: str) -> bool:
    """Whitespace as Python's str.isspace and str.strip read it (Unicode Zs and bidi WS/B/S)."""
    return ch.isspace()


def is_refused_in_names(ch: str) -> bool:
    """A control or format character, which no name or id may hold (REFUSED_IN_NAMES)."""
    return first_refused(ch) is not None


# -- the same rules as regex character classes, for the OpenAPI document's patterns ----------
# Patterns are ECMA-262; without its `u` flag a class cannot name a character beyond the Basic
# Multilingual Plane, so the classes list the BMP's: every whitespace and control character
# lies there; the few format characters beyond it (U+E0001, the tag block, ...) are said in
# words where a pattern is used.
# Surrogates are left out: JSON text in UTF-8 cannot carry a lone one, and a class naming
# them trips regex engines that read patterns as UTF-16.
_BMP = [*range(0xD800), *range(0xE000, 0x10000)]


@cache
def _bmp_characters(predicate: Callable[[str], bool]) -> tuple[int, ...]:
    return tuple(code for code in _BMP if predicate(chr(code)))


def regex_class(*predicates: Callable[[str], bool]) -> str:
    """The inside of a regex character class holding every BMP character any predicate
    accepts, written with \\uXXXX escapes, which ECMA-262 and Python's `re` both read."""
    codes = sorted({code for predicate in predicates for code in _bmp_characters(predicate)})
    spans: list[tuple[int, int]] = []
    for code in codes:
        if spans and spans[-1][1] == code - 1:
            spans[-1] = (spans[-1][0], code)
        else:
            spans.append((code, code))
    return "".join(f"\\u{low:04X}" if low == high else f"\\u{low:04X}-\\u{high:04X}"
                   for low, high in spans)


def describe(character: str) -> str:
    """A character by code point and name: ``U+202E (RIGHT-TO-LEFT OVERRIDE)``."""
    name = unicodedata.name(character, "")  # control characters have none
    return f"U+{ord(character):04X}" + (f" ({name})" if name else "")


def refusal(field: str, value: str) -> str | None:
    """The message refusing ``value`` for ``field`` when it holds a control or format
    character, or None when it holds neither."""
    character = first_refused(value)
    if character is None:
        return None
    kind = {CONTROL: "a control character", FORMAT: "an invisible format character",
            SURROGATE: "a byte that is not UTF-8 text"}.get(unicodedata.category(character),
                                                             "a line separator")
    return (f"{field} holds {kind}, {describe(character)}, which would show as something "
            "it is not: remove it.")


def _escaped(character: str) -> str:
    if unicodedata.category(character) not in _ESCAPED:
        return character
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible_lines(text: str) -> str:
    """``text`` with each of its lines made :func:`visible`, its line breaks kept (``\n``)."""
    return "".join(visible(line) + "\n" for line in text.splitlines())


def visible_json(text: str) -> str:
    """JSON text with every control, format and line-separator character inside it written
    as a JSON escape (``\u202e``): the same JSON, shown as it truly is. Its line breaks
    between values (indentation) are kept."""
    if text.isprintable():
        return text
    return "".join(json.dumps(character)[1:-1] if character != "\n"
                   and unicodedata.category(character) in _ESCAPED else character
                   for character in text)


def visible(value: object) -> str:
    """``value`` as text with every control, format and line-separator character written as
    an escape (``\\x1b``, ``\\u202e``): safe in one log line and shown as it truly is."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # none of them (isprintable refuses every category escaped here)
        return text
    return "".join(_escaped(character) for character in text)
