"""Step 1 of SPEC 3 and SPEC 3.1: the token taken out of what people really paste.

A paste may be a token in quotes, after `Bearer` / `JWT` / `Token` / `Authorization:` /
`name=`, inside a URL, a JSON document or string, a Python bytes literal, a log line or an
e-mail, with invisible characters inside, cut with an ellipsis, or several tokens at once.
Every wrapping taken away is named in `Cleaned.removed`. Total: any string in, nothing raised.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from webapp.tokens.signing import SIGNATURE_LENGTH

QUOTES = "\"'`\u201c\u201d\u2018\u2019"
# Zero-width spaces and joiners, word joiner, BOM, soft hyphen, no-break spaces (SPEC 3.1).
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad\u00a0\u2007\u202f]")
_WHITESPACE = re.compile(r"\s+")
_SCHEMES = (
    ("authorization:", "the 'Authorization:' header name", False),
    ("bearer", "the 'Bearer' prefix", False),
    ("jwt", "the 'JWT' prefix", True),
    ("token", "the 'Token' prefix", True),
)
# A parameter name (SPEC 3.1: letters, digits, '_' and '-'); a longer run is no name worth
# quoting (a key or secret glued to the token), and is then text around the token.
_NAME_PREFIX = re.compile(r"([A-Za-z0-9_-]{1,32})=\s*(?=[^=.&\s])")
_PARAMETER = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,40}")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S*")
_BYTES = re.compile(r"[bB]([\"'])")
# A token as it may stand in running text: base64url parts (lenient: '=' '+' '/' kept so that
# a wrongly encoded token is still read) joined by dots, starting with the '{"' of a header.
_PART = r"[A-Za-z0-9_\-+/=]"
# A token in running text starts the text or follows a space or a punctuation mark (never a
# letter, digit or other character glued to it).
_CANDIDATE = re.compile(
    rf"(?:^|(?<=[\s\"'`(<\[{{,;:=&?#/|>*!\u201c\u201d\u2018\u2019]))eyJ{_PART}*(?:\.{_PART}*)*"
)
_TOKENISH = re.compile(r"[A-Za-z0-9_\-+/=.]+")
# A whole token standing as a word among others (a log line, an e-mail: SPEC 3.1), found by
# its shape before inner whitespace is removed; an ellipsis right after it marks it cut, and a
# full stop may end the sentence it stands in.
_STANDING = re.compile(
    r"(?:^|(?<=\s))(eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.([A-Za-z0-9_-]*))(\.\.\.|\u2026)?"
    r"(?=\.?(?:\s|$))"  # a sentence's full stop may follow it
)
_ELLIPSES = ("...", "\u2026")
_MAX_ROUNDS = 64  # far deeper than any real wrapping; bounds a crafted paste


@dataclass(frozen=True)
class Cleaned:
    """The paste after step 1 of SPEC 3, with what was taken away in words.

    `text` is the first token found (or what is left); `cut` is True when the paste ended in
    an ellipsis that cleaning removed; `tokens` counts the tokens the paste holds (SPEC 3.1).
    """

    text: str
    removed: tuple[str, ...]
    cut: bool = False
    tokens: int = 1


class _Notes:
    def __init__(self) -> None:
        self.removed: list[str] = []
        self.cut = False

    def note(self, words: str) -> None:
        if words not in self.removed:
            self.removed.append(words)


def _holds_token(text: str) -> bool:
    return any("." in match.group() for match in _CANDIDATE.finditer(text))


def _strip_ends(text: str, notes: _Notes) -> str:
    """Whitespace and scheme words from the ends, walking indexes (linear in the paste)."""
    start, end = 0, len(text)
    while start < end:
        char = text[start]
        if char.isspace():
            notes.note("spaces or line breaks around the token")
            start += 1
            continue
        step = _scheme_at(text, start, end, notes)
        if not step:
            break
        start += step
    while end > start and text[end - 1].isspace():
        notes.note("spaces or line breaks around the token")
        end -= 1
    return text[start:end]


def _scheme_at(text: str, start: int, end: int, notes: _Notes) -> int:
    for word, words, needs_gap in _SCHEMES:
        head = text[start : start + len(word)]
        if not (head.isascii() and head.lower() == word):
            continue
        after = start + len(word)
        if needs_gap and not (after < end and (text[after].isspace() or text[after] == ":")):
            continue
        if word != "authorization:" and after < end and text[after] == ":":
            after += 1
        notes.note(words)
        return after - start
    match = _NAME_PREFIX.match(text, start, end)
    if match is not None and not match.group(1).startswith("eyJ"):
        notes.note(f"the '{match.group(1)}=' prefix")
        return match.end() - start
    return 0


def _first_token_value(value: object) -> str | None:
    """The first string, in document order and at any depth, that holds a token."""
    stack: list[Iterator[object]] = [iter([value])]
    while stack:
        item = next(stack[-1], stack)
        if item is stack:
            stack.pop()
        elif isinstance(item, str):
            if _holds_token(item):
                return item
        elif isinstance(item, dict):
            stack.append(iter(item.values()))
        elif isinstance(item, list):
            stack.append(iter(item))
    return None


def _unwrap_json(text: str, notes: _Notes) -> str | None:
    if not text or text[0] not in '{["':
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, str):
        notes.note("quotes around the token" if value == text[1:-1]
                   else "the quotes and escapes of a JSON string")
        return value
    found = _first_token_value(value)
    if found is None:
        return None
    notes.note("the JSON around the token")
    return found


def _unwrap_url(text: str, notes: _Notes) -> str | None:
    if _URL.fullmatch(text):
        try:
            parts = urlsplit(text)
        except ValueError:  # urllib refuses an unbalanced '[' (an IPv6 host): no URL then
            return None
        candidates = [parts.query, parts.fragment.partition("?")[2], parts.fragment]
        words = "the web address around the token"
    elif ("=" in text and ("&" in text or text.startswith("?"))
          and not _TOKENISH.fullmatch(text) and not any(c.isspace() for c in text)):
        candidates = [text.lstrip("?")]
        words = "the query string around the token"
    else:
        return None
    for query in candidates:
        for name, value in parse_qsl(query, keep_blank_values=True):
            if _holds_token(value):
                # The name is the paste's: named only when it reads as a parameter name.
                shown = f"its '{name}' parameter" if _PARAMETER.fullmatch(name) else "a parameter"
                notes.note(f"{words} ({shown})")
                return value
    return None


def _unwrap_bytes(text: str, notes: _Notes) -> str | None:
    match = _BYTES.match(text)
    if match is None:
        return None
    quote = match.group(1)
    inner = text[2:-1] if len(text) > 2 and text.endswith(quote) else text[2:]
    notes.note("the Python bytes literal b'...'")
    return inner


def _strip_quotes(text: str, notes: _Notes) -> str | None:
    start, end = 0, len(text)
    while start < end and text[start] in QUOTES:
        start += 1
    while end > start and text[end - 1] in QUOTES:
        end -= 1
    if (start, end) == (0, len(text)):
        return None
    notes.note("quotes around the token")
    return text[start:end]


def _strip_ellipsis(text: str, notes: _Notes) -> str | None:
    for ellipsis in _ELLIPSES:
        if text.endswith(ellipsis):
            notes.note("the ellipsis at the end")
            notes.cut = True
            return text[: -len(ellipsis)]
    return None


def _unwrap(text: str, notes: _Notes) -> str:
    """Take wrappings off until nothing more comes off (SPEC 3.1)."""
    for _ in range(_MAX_ROUNDS):
        text = _strip_ends(text, notes)
        for step in (_strip_ellipsis, _unwrap_bytes, _unwrap_json, _unwrap_url, _strip_quotes):
            inner = step(text, notes)
            if inner is not None:
                text = inner
                break
        else:
            return text
    return text


def _split_glued(text: str) -> tuple[str, str | None]:
    """(first token, the rest) when a token has another glued to it with no separator (the
    third part is longer than a signature and its rest begins with eyJ, SPEC 3.1) or joined
    by a dot (a fourth part beginning with eyJ: a second header)."""
    parts = text.split(".")
    if len(parts) < 3:
        return text, None
    signature, rest = parts[2][:SIGNATURE_LENGTH], parts[2][SIGNATURE_LENGTH:]
    if not rest.startswith("eyJ"):
        if len(parts) > 3 and parts[3].startswith("eyJ"):
            return ".".join(parts[:3]), ".".join(parts[3:])
        return text, None
    return ".".join([*parts[:2], signature]), ".".join([rest, *parts[3:]])


def _glued_count(text: str) -> int:
    count = 1
    rest: str | None = text
    while rest is not None and count < 1000:
        _, rest = _split_glued(rest)
        count += rest is not None
    return count


def _count_tokens(text: str) -> int:
    """Tokens of at least two dots standing apart in the paste, each with any glued to it."""
    return sum(
        _glued_count(match.group())
        for match in _CANDIDATE.finditer(text)
        if match.group().count(".") >= 2
    )


def _standing_token(text: str) -> re.Match[str] | None:
    """The first whole token (or one cut at an ellipsis) standing apart among other words;
    None for a paste of one word, or a token whose line breaks split it (it is joined up)."""
    if not any(char.isspace() for char in text):
        return None
    standing = next((m for m in _STANDING.finditer(text)
                     if m.group(3) or len(m.group(2)) >= SIGNATURE_LENGTH), None)
    first = next((m for m in _CANDIDATE.finditer(text) if m.group().count(".") >= 2), None)
    # Only the first token of the paste: with another before it, the several-tokens rule picks.
    if standing is None or first is None or first.start() != standing.start():
        return None
    return standing


def _pick_from_text(text: str, notes: _Notes) -> str:
    """The token inside running text (a log line, an e-mail), or the text joined up."""
    standing = _standing_token(text)
    if standing is not None:
        notes.note("the text around the token")
        if standing.group(3):
            notes.note("the ellipsis at the end")
            notes.cut = True
        return standing.group(1)
    joined = _WHITESPACE.sub("", text)
    whole = _TOKENISH.fullmatch(joined.replace("%20", "")) and _count_tokens(text) < 2
    if whole or not _holds_token(text):
        if joined != text:
            notes.note("spaces or line breaks inside the token")
        return joined
    match = next(m for m in _CANDIDATE.finditer(text) if "." in m.group())
    found = match.group()
    after = text[match.end() :]
    glued = next((e for e in _ELLIPSES if after.startswith(e)), None)
    if glued is not None and after[len(glued) :][:1] not in ("", *" \t\r\n"):
        # An ellipsis inside the paste is not recognised (SPEC 3.1): the paste is read as it
        # is, not cut at the ellipsis nor taken for text around a token.
        if joined != text:
            notes.note("spaces or line breaks inside the token")
        return joined
    notes.note("the text around the token")
    # An ellipsis ends the token only where it ends a word: inside a paste it is not one.
    if found.endswith("...") or any(after.startswith(e) and after[len(e) :][:1].isspace()
                                    or after == e for e in _ELLIPSES):
        notes.note("the ellipsis at the end")
        notes.cut = True
        found = found.removesuffix("...")
    return found


def _strip_full_stop(text: str, notes: _Notes) -> str:
    """A sentence's full stop right after a whole token ("... my token is eyJ….sig.") is no
    part of it: a JWS has three parts (RFC 7515 section 7.1), and "h.p.s." would read as four,
    the last empty. An unsigned "h.p." (an empty signature) keeps its dot."""
    parts = text.split(".")
    if len(parts) == 4 and not parts[3] and all(parts[:2]) and text.startswith("eyJ"):
        notes.note("the full stop after the token")
        return text[:-1]
    return text


def clean_paste(raw: str) -> Cleaned:
    """The token in `raw` and the wrappings taken off it, by name (SPEC 3 step 1, SPEC 3.1)."""
    notes = _Notes()
    text = _INVISIBLE.sub("", raw)
    if text != raw:
        notes.note("invisible characters (zero-width or no-break spaces, soft hyphens)")
    counted = _count_tokens(text)
    text = _strip_full_stop(_pick_from_text(_unwrap(text, notes), notes), notes)
    if "%20" in text:
        notes.note("'%20' (an encoded space) inside the token")
        text = text.replace("%20", "")
    first, rest = _split_glued(text)
    tokens = max(counted, _glued_count(text) if rest is not None else 1)
    if rest is not None or tokens > 1:
        notes.note("the tokens after the first")
    return Cleaned(text=first, removed=tuple(notes.removed), cut=notes.cut, tokens=tokens)
