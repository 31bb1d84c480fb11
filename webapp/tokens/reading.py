"""Reading a pasted token without trusting it: splitting and decoding its parts (SPEC 3 step 2).

Everything here is total: any string goes in, a description comes out, nothing raises.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
# Deeper than any real claim; cuts the echo short so that rendering it cannot recurse away.
MAX_ECHO_DEPTH = 32


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


def encoding_only(problem: str | None) -> bool:
    """True when `problem` (from alphabet_problem) is only '=' padding or the '+' '/' alphabet."""
    return problem is not None and ("padding" in problem or "'+' or '/'" in problem)


def decode_lenient(segment: str) -> bytes | None:
    """The bytes of a segment written in padded or standard base64 (SPEC 3: such a part is read
    leniently for the signature check only), or None when it cannot be read that way."""
    normal = segment.rstrip("=").replace("+", "-").replace("/", "_")
    decoded = decode_segment(normal)
    return decoded if isinstance(decoded, bytes) else None


def js_number(value: object) -> float | None:
    """A value as JavaScript reads a JSON number: finite, never a boolean; else None (SPEC 3
    reading rules: `2.0` is `2`, a boolean is never a number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
