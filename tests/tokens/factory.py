"""Build test tokens with the clock under control: no literal token that could expire.

Signatures are made here with the standard library's hmac, independently of the code under
test, so a bug in `webapp.tokens.signing` cannot hide itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

from webapp.tokens import KnownKey

NOW = datetime(2026, 11, 27, 21, 0, tzinfo=UTC)
T = int(NOW.timestamp())

SECRET_A = "5f1c0ad3e6b7a9c2d4e8f0a1b3c5d7e9f2a4b6c8d0e1f3a5b7c9d1e3f5a7b9c1"
SECRET_B = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
SECRET_STRANGER = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
SECRET_SANDBOX = "sandbox-secret-sandbox-secret-sandbox-secret-00"
SECRET_OLD = "old-secret-old-secret-old-secret-old-secret-0001"

KEY_A = KnownKey("default", "apikey-a", SECRET_A, max_lifetime=86400)
KEY_B = KnownKey("other", "apikey-b", SECRET_B)
KEY_SANDBOX = KnownKey("sandbox", "apikey-sandbox", SECRET_SANDBOX, sandbox=True)
KEY_OLD = KnownKey("old", "apikey-old", SECRET_OLD, disabled=True)
KEYS = (KEY_A, KEY_B, KEY_SANDBOX, KEY_OLD)

DROP = object()  # a claim override that removes the claim


def b64(data: bytes) -> str:
    """Unpadded base64url, as in a JWT."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(part: object) -> str:
    if isinstance(part, bytes):
        return b64(part)
    if isinstance(part, str):
        return b64(part.encode())
    return b64(json.dumps(part, separators=(",", ":")).encode())


def hs(signing_input: str, secret: str, digest: str = "sha256") -> str:
    """The base64url HMAC of `signing_input`."""
    mac = hmac.new(secret.encode(), signing_input.encode(), getattr(hashlib, digest))
    return b64(mac.digest())


def raw_token(
    payload: object,
    *,
    header: object = None,
    secret: str | None = SECRET_A,
    digest: str = "sha256",
) -> str:
    """header.payload.signature from dicts or raw JSON text/bytes; unsigned when secret is None."""
    head = _segment({"alg": "HS256", "typ": "JWT"} if header is None else header)
    signing_input = f"{head}.{_segment(payload)}"
    signature = "" if secret is None else hs(signing_input, secret, digest)
    return f"{signing_input}.{signature}"


def claims(**overrides: object) -> dict[str, object]:
    """A valid payload for KEY_A: signed a minute before NOW, expiring an hour after."""
    base: dict[str, object] = {
        "apikey": KEY_A.apikey,
        "permissions": ["allow_join"],
        "iat": T - 60,
        "exp": T + 3600,
    }
    for name, value in overrides.items():
        if value is DROP:
            base.pop(name, None)
        else:
            base[name] = value
    return base


def token(secret: str | None = SECRET_A, header: object = None, **overrides: object) -> str:
    """A token of `claims(**overrides)`, signed with `secret`."""
    return raw_token(claims(**overrides), header=header, secret=secret)


def at(**delta: float) -> datetime:
    """NOW shifted by a timedelta."""
    return NOW + timedelta(**delta)
