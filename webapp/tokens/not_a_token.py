"""What a paste that is not a three-part token looks like (SPEC 3 `not_a_jwt`, `truncated`).

The message says what the paste seems to be (a key's API key or secret, a URL, a log line,
JSON, two tokens, an encrypted JWE) and never repeats it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from webapp.tokens.cleaning import Cleaned
from webapp.tokens.exposure import SecretGuard
from webapp.tokens.reading import decode_segment, parse_object
from webapp.tokens.reasons import Findings
from webapp.tokens.signature_finding import KnownKey

_KEYLIKE = re.compile(r"[0-9a-fA-F-]{32,64}")
_INTRO = ("This is not a token: a VideoSDK token is a JWT, three parts joined by dots "
          "(header.payload.signature).")
_FIX = ("Paste the token itself: the long text starting 'eyJ' with two dots in it, as "
        "returned by the server that signs tokens. An API key or secret is not a token.")


def not_a_token(found: Findings, text: str, cleaned: Cleaned, keys: Sequence[KnownKey],
                guard: SecretGuard, pasted: str) -> None:
    """`truncated` for a paste cut short by an ellipsis, else `not_a_jwt` saying what it is."""
    parts = text.count(".") + 1 if text else 0
    if cleaned.cut and parts < 3:
        found.add(
            "truncated",
            f"The paste ends in an ellipsis and what remains has {parts} of the three parts "
            "of a token: it was cut short by a log, a screen or a length limit.",
            "Copy the whole token again from where it was made (the signing server's answer "
            "or its log without a length limit), not from a shortened display.",
        )
        return
    found.add("not_a_jwt", f"{_INTRO} {_looks_like(text, keys, guard, pasted)}", _FIX)


def _looks_like(text: str, keys: Sequence[KnownKey], guard: SecretGuard, pasted: str) -> str:
    if not text:
        return "There is nothing to read: the paste is empty."
    owner = next((k for k in keys if k.apikey == text), None)
    if owner is not None:
        return (f"It is the API key of stored key '{owner.label}' (the public half of the "
                "pair), which goes into the token's apikey claim.")
    secret = guard.holder(text)
    if secret is not None and secret.value == text:
        whose = (f"the secret of stored key '{secret.label}'" if secret.label
                 else "the one-off secret given")
        return f"It is {whose}, which signs tokens and must never be sent."
    return _shape(text, pasted)


def _shape(text: str, pasted: str) -> str:
    parts = text.count(".") + 1
    if parts > 3 and any("eyJ" in part for part in text.split(".")[2:]):
        return (f"It has {parts} parts and a second header ('eyJ...') inside: two tokens run "
                "together, at least one of them cut.")
    if parts == 5:
        header = decode_segment(text.split(".")[0])
        parsed = parse_object(header) if isinstance(header, bytes) else None
        if isinstance(parsed, dict) and "enc" in parsed:
            return ("It has five parts and its header names an encryption (enc): an "
                    "encrypted token (JWE). VideoSDK tokens are signed JWTs.")
        return "It has five parts, not three, and its header names no encryption."
    stripped = pasted.strip()
    if "://" in stripped:
        return "It looks like a web address with no token in it."
    if stripped.startswith(("{", "[")):
        return "It looks like JSON with no token in it."
    if parts == 1 and _KEYLIKE.fullmatch(text):
        return "It looks like an API key or a secret, not a token."
    if any(c.isspace() for c in stripped):
        return "It looks like text (a log line or a message) with no token in it."
    if parts == 2:
        return "It has 2 parts: the signature or the payload is missing."
    if parts == 4:
        return "It has 4 parts: an extra dot, or pieces of two tokens run together."
    return f"This text has {parts} part{'s' if parts != 1 else ''}."
