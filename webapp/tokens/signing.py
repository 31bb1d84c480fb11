"""HS256 signing and signature checks: the one module of the code base that uses PyJWT.

Only the signature is PyJWT's business here. Claim and time rules belong to the diagnosis,
which follows node jsonwebtoken 9 rather than PyJWT's own, stricter or looser, opinions.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Mapping

import jwt
from jwt.algorithms import HMACAlgorithm
from jwt.exceptions import InvalidKeyError
from jwt.utils import base64url_decode, base64url_encode

ALGORITHM = "HS256"
SIGNATURE_LENGTH = 43  # characters of an unpadded base64url HMAC-SHA256 signature

_HS256 = HMACAlgorithm(HMACAlgorithm.SHA256)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def sign(claims: Mapping[str, object], secret: str) -> str:
    """Sign `claims` with HS256 under the header {"alg":"HS256","typ":"JWT"}."""
    return jwt.encode(dict(claims), secret, algorithm=ALGORITHM, headers={"typ": "JWT"})


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
