"""Reading a pasted token without trusting it: cleaning the paste, splitting, decoding (SPEC 3.1-2).

Everything here is total: any string goes in, a description comes out, nothing raises.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass

QUOTES = "\"'`\u201c\u201d\u2018\u2019"
_PREFIXES = (
    ("authorization:", "the 'Authorization:' header name"),
    ("bearer", "the 'Bearer' prefix"),
)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_WHITESPACE = re.compile(r"\s+")
# Deeper than any real claim; cuts the echo short so that rendering it cannot recurse away.
MAX_ECHO_DEPTH = 32


@dataclass(frozen=True)
class Cleaned:
    """The paste after step 1 of SPEC 3, with what was taken away in words."""

    text: str
    removed: tuple[str, ...]


def clean_paste(raw: str) -> Cleaned:
    """Strip quotes, whitespace, a Bearer / Authorization: prefix, inner whitespace and %20."""
    removed: list[str] = []

    def note(words: str) -> None:
        if words not in removed:
            removed.append(words)

    start, end = 0, len(raw)
    # Walk inwards from both ends with indexes: re-slicing on each step would make a paste of
    # many repeated prefixes quadratic.
    while start < end:
        char = raw[start]
        if char.isspace():
            note("spaces or line breaks around the token")
            start += 1
            continue
        if char in QUOTES:
            note("quotes around the token")
            start += 1
            continue
        for prefix, words in _PREFIXES:
            head = raw[start : start + len(prefix)]
            if head.isascii() and head.lower() == prefix:
                note(words)
                start += len(prefix)
                break
        else:
            break
    while end > start:
        char = raw[end - 1]
        if char.isspace():
            note("spaces or line breaks around the token")
        elif char in QUOTES:
            note("quotes around the token")
        else:
            break
        end -= 1
    text = raw[start:end]
    if _WHITESPACE.search(text):
        note("spaces or line breaks inside the token")
        text = _WHITESPACE.sub("", text)
    if "%20" in text:
        note("'%20' (an encoded space) inside the token")
        text = text.replace("%20", "")
    return Cleaned(text=text, removed=tuple(removed))


class Overflow:
    """A JSON number that JavaScript cannot hold as a finite number (1e400): kept as its text."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _read_float(text: str) -> float | Overflow:
    number = float(text)
    return number if math.isfinite(number) else Overflow(text)


def _read_int(text: str) -> int | Overflow:
    # float() first: it has no digit limit, and tells whether JavaScript would see Infinity.
    if not math.isfinite(float(text)):
        return Overflow(text)
    return int(text)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def alphabet_problem(segment: str) -> str | None:
    """Why `segment` is not written in unpadded base64url, or None when it is."""
    if "=" in segment:
        return "ends in '=' padding, which JWT parts never carry"
    if not _BASE64URL.fullmatch(segment):
        if "+" in segment or "/" in segment:
            return "uses '+' or '/': that is standard base64, not the base64url of JWTs"
        return "contains characters that base64url does not use"
    return None


def decode_segment(segment: str) -> bytes | str:
    """The bytes of an unpadded base64url segment, or a plain-words reason it is not one."""
    problem = alphabet_problem(segment)
    if problem is not None:
        return problem
    if len(segment) % 4 == 1:
        return "has a length that no base64url text can have: it was cut or changed"
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        return "is not base64url"


def parse_object(data: bytes) -> dict[str, object] | str:
    """A JSON object read as JavaScript's JSON.parse reads it, or a reason it is not one.

    Bytes that are not UTF-8 survive as lone surrogates (escaped later for display); NaN and
    Infinity literals are refused as JSON.parse refuses them; overflowing numbers become Overflow.
    """
    text = data.decode("utf-8", "surrogateescape")
    if not text:
        return "is empty"
    try:
        value = json.loads(
            text,
            parse_float=_read_float,
            parse_int=_read_int,
            parse_constant=_refuse_constant,
        )
    except RecursionError:
        return "is nested too deeply to read"
    except ValueError:
        return "is not JSON"
    if not isinstance(value, dict):
        kind = (
            "a list"
            if isinstance(value, list)
            else "text"
            if isinstance(value, str)
            else ("a single value")
        )
        return f"is JSON but {kind}, not an object"
    return value


def _escape_text(text: str) -> str:
    """Text that is safe to encode as UTF-8: bytes that were not UTF-8 shown as \\xNN."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        out = []
        for char in text:
            code = ord(char)
            if 0xDC80 <= code <= 0xDCFF:
                out.append(f"\\x{code - 0xDC00:02x}")
            elif 0xD800 <= code <= 0xDFFF:
                out.append(f"\\u{code:04x}")
            else:
                out.append(char)
        return "".join(out)
    return text


def json_safe(value: object, depth: int = 0) -> object:
    """A copy fit for json.dumps(allow_nan=False) and for UTF-8 output."""
    if isinstance(value, Overflow):
        return value.text
    if isinstance(value, str):
        return _escape_text(value)
    if isinstance(value, dict):
        if depth >= MAX_ECHO_DEPTH:
            return "(nested too deeply to show)"
        return {_escape_text(str(k)): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        if depth >= MAX_ECHO_DEPTH:
            return "(nested too deeply to show)"
        return [json_safe(v, depth + 1) for v in value]
    return value


def json_safe_object(value: dict[str, object]) -> dict[str, object]:
    """json_safe() for a decoded header or payload, keeping its type."""
    return {_escape_text(str(k)): json_safe(v, 1) for k, v in value.items()}


def show(value: object) -> str:
    """A claim value written for a sentence (JSON-like, clipped); never raises."""
    safe = json_safe(value)
    try:
        text = json.dumps(safe, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        text = "(unreadable value)"
    return text if len(text) <= 60 else text[:57] + "..."
