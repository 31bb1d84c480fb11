"""The PyJWT wrapper: the header and signature node expects, and a check that never raises."""

from __future__ import annotations

import base64
import hashlib
import json

import jwt  # only to prove PyJWT itself accepts what we sign
import pytest

from tests.tokens.factory import SECRET_A, SECRET_B, T, b64, hs
from webapp.tokens import fingerprint, sign, signature_matches

CLAIMS = {"apikey": "apikey-a", "permissions": ["allow_join"], "iat": T, "exp": T + 600}


def _decode(segment: str) -> object:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def test_sign_writes_the_header_and_claims_node_writes() -> None:
    token = sign(CLAIMS, SECRET_A)
    header, payload, signature = token.split(".")
    assert header == b64(b'{"alg":"HS256","typ":"JWT"}')
    assert _decode(payload) == CLAIMS
    assert list(_decode(payload)) == list(CLAIMS)  # type: ignore[arg-type]
    assert signature == hs(f"{header}.{payload}", SECRET_A)
    assert jwt.decode(token, SECRET_A, algorithms=["HS256"], options={"verify_exp": False}) == (
        CLAIMS
    )


def test_signature_matches_only_its_secret() -> None:
    token = sign(CLAIMS, SECRET_A)
    assert signature_matches(token, SECRET_A)
    assert not signature_matches(token, SECRET_B)
    assert not signature_matches(token, SECRET_A + " ")


def test_signature_check_ignores_claims_and_times() -> None:
    """Only the signature: an expired token with odd claims still matches its secret."""
    head = b64(b'{"alg":"HS256","kid":5,"b64":false,"crit":["x"]}')
    body = b64(b'{"exp":1,"nbf":"x","aud":5}')
    assert signature_matches(f"{head}.{body}.{hs(f'{head}.{body}', SECRET_A)}", SECRET_A)


def test_a_variant_spelling_of_the_signature_is_a_mismatch() -> None:
    """node's jws compares signature text: the unused low bits of the last character count."""
    token = sign(CLAIMS, SECRET_A)
    last = token[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    index = alphabet.index(last)
    assert index % 4 == 0  # the last of 43 characters carries 4 signature bits and 2 spare
    variant = alphabet[index + 1]
    decode = base64.urlsafe_b64decode
    assert decode(token[-43:-1] + variant + "=") == decode(token[-43:] + "=")
    assert not signature_matches(token[:-1] + variant, SECRET_A)


@pytest.mark.parametrize(
    "token",
    ["", ".", "..", "a.b", "a.b.c.d", "a.b.c=", "a.b.+/", "é.é.é", "\ud800.a.b", "a.b." + "A" * 43],
)
@pytest.mark.parametrize("secret", [SECRET_A, "", "\ud800", "-----BEGIN PUBLIC KEY-----"])
def test_signature_matches_never_raises(token: str, secret: str) -> None:
    assert signature_matches(token, secret) is False


def test_fingerprint_is_sha256_hex_of_the_text() -> None:
    token = sign(CLAIMS, SECRET_A)
    assert fingerprint(token) == hashlib.sha256(token.encode()).hexdigest()
    assert len(fingerprint("\ud800")) == 64
