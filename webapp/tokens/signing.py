"""HS256 signing and signature checks: the one module of the code base that uses PyJWT.

Only the signature is PyJWT's business here. Claim and time rules belong to the diagnosis,
which follows node jsonwebtoken 9 rather than PyJWT's own, stricter or looser, opinions.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import re
import warnings
from collections.abc import Mapping
from functools import lru_cache
from typing import Protocol

import jwt
from jwt.algorithms import HMACAlgorithm
from jwt.exceptions import InvalidKeyError
from jwt.utils import base64url_decode, base64url_encode
from jwt.warnings import InsecureKeyLengthWarning

ALGORITHM = "HS256"
SIGNATURE_LENGTH = 43  # characters of an unpadded base64url HMAC-SHA256 signature

_HS256 = HMACAlgorithm(HMACAlgorithm.SHA256)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def _pyjwt_sign(claims: Mapping[str, object], secret: str) -> str:
    return jwt.encode(dict(claims), secret, algorithm=ALGORITHM, headers={"typ": "JWT"})


# PyJWT's own header segment for these arguments, made once: it never depends on the claims.
_HEADER_SEGMENT = _pyjwt_sign({}, "h" * 32).encode("ascii").partition(b".")[0]
_TIME_CLAIMS = ("exp", "iat", "nbf")


@lru_cache(maxsize=64)
def _prepared_key(secret: str) -> tuple[bytes, str | None]:
    # PyJWT's checks of the key (not empty, not a PEM or JWK) and its length warning, once per
    # secret instead of on every token: they parse the secret several ways.
    key = _HS256.prepare_key(secret)
    return key, _HS256.check_key_length(key)


def sign(claims: Mapping[str, object], secret: str) -> str:
    """Sign `claims` with HS256 under the header {"alg":"HS256","typ":"JWT"}.

    Byte for byte what ``jwt.encode`` makes (tests/tokens checks it), with the header and the
    prepared key made once: the claims JSON and the HMAC are the only work per token.
    """
    if any(not isinstance(claims.get(name, 0), int) for name in _TIME_CLAIMS) or (
            "iss" in claims and not isinstance(claims["iss"], str)):
        return _pyjwt_sign(claims, secret)  # PyJWT converts datetimes or refuses: let it
    key, short = _prepared_key(secret)
    if short:
        warnings.warn(short, InsecureKeyLengthWarning, stacklevel=2)
    payload = base64url_encode(json.dumps(dict(claims), separators=(",", ":")).encode("utf-8"))
    signing_input = _HEADER_SEGMENT + b"." + payload
    signature = base64url_encode(hmac.new(key, signing_input, hashlib.sha256).digest())
    return (signing_input + b"." + signature).decode("utf-8")


def signature_matches(token: str, secret: str) -> bool:
    """True when the token's HS256 signature was made with `secret`; never raises.

    The token must be three parts and its signature part canonical unpadded base64url: node's
    `jws` compares the signature text, so a variant spelling of the same bytes is a mismatch.
    """
    try:
        data = token.encode("ascii")
        secret_bytes = secret.encode("utf-8", "surrogatepass")
    except (UnicodeEncodeError, AttributeError):
        return False
    signing_input, _, signature_text = data.rpartition(b".")
    if signing_input.count(b".") != 1 or not _BASE64URL.fullmatch(signature_text.decode()):
        return False
    try:
        signature = base64url_decode(signature_text)
        key = _HS256.prepare_key(secret_bytes)
    except (binascii.Error, ValueError, InvalidKeyError):
        return False
    if base64url_encode(signature) != signature_text:
        return False
    return _HS256.verify(signing_input, key, signature)


def fingerprint(token: str) -> str:
    """SHA-256 of the token text, in hex: how issued tokens are found again without storing them."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def lenient_signature(token: str) -> tuple[bytes, bytes] | None:
    """(signing input as sent, signature bytes) of a three-part token, reading the signature
    leniently: '=' padding and the standard '+' '/' alphabet accepted (SPEC 3: a right
    signature wrongly encoded is named as such). None when it cannot be read at all."""
    try:
        data = token.encode("ascii")
    except UnicodeEncodeError:
        return None
    signing_input, _, signature_text = data.rpartition(b".")
    if signing_input.count(b".") != 1:
        return None
    text = signature_text.rstrip(b"=").replace(b"+", b"-").replace(b"/", b"_")
    if not _BASE64URL.fullmatch(text.decode("ascii")) or len(text) % 4 == 1:
        return None
    try:
        signature = base64url_decode(text)
    except (binascii.Error, ValueError):
        return None
    # node's jws compares the signature text: other spellings of the same bytes (a last
    # character with different unused bits) are a mismatch, not a right signature.
    return (signing_input, signature) if base64url_encode(signature) == text else None


class _Digest(Protocol):  # hashlib's hash objects (their type is not public)
    def copy(self) -> _Digest: ...
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


HmacPads = tuple["_Digest", "_Digest"]


@lru_cache(maxsize=8192)
def hmac_pads(secret: bytes) -> HmacPads:
    """The HMAC-SHA256 key schedule of `secret` (RFC 2104), for mac_matches()."""
    # RFC 2104: SHA-256 over (key ^ ipad) and (key ^ opad), made once per secret, so that each
    # try costs two hash copies instead of a whole HMAC set-up (SPEC 3.1: tries stay cheap).
    key = hashlib.sha256(secret).digest() if len(secret) > 64 else secret
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    return inner, outer


def mac_matches(signing_input: bytes, signature: bytes, pads: HmacPads) -> bool:
    """True when `signature` is the HMAC-SHA256 (RFC 2104) of `signing_input` under the key
    whose schedule is `pads` (from hmac_pads())."""
    inner_pad, outer_pad = pads
    inner = inner_pad.copy()
    inner.update(signing_input)
    outer = outer_pad.copy()
    outer.update(inner.digest())
    return hmac.compare_digest(outer.digest(), signature)


TRIMMED_NOTE = ("whitespace around the secret (such as the trailing newline echo or a secrets "
                "file leaves) was removed: node's jsonwebtoken would refuse tokens signed with it")


def trim_secret(raw: str) -> tuple[str, bool]:
    """A secret read from the environment or a file without surrounding whitespace, and whether
    any was removed (SPEC 3.1): this product never signs with a newline node would refuse."""
    secret = raw.strip()
    return secret, secret != raw
