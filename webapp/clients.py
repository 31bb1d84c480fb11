"""API clients: creation, bearer-key authentication and revocation.

A client key is shown once and stored only as its SHA-256. Keys look like
``tck_<32 base62 characters><6-character checksum>`` so that secret scanners
can recognise a leaked one and check it without asking this service.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import zlib
from collections.abc import Iterable

from flask import current_app
from limits import parse_many
from sqlalchemy import select

from .extensions import db
from .keyring import key_by_label, max_token_lifetime
from .models import ApiClient, VideoSDKKey, utcnow
from .tokens import LifetimeError, parse_lifetime

KEY_PREFIX = "tck_"
SCOPES = ("tokens:mint", "tokens:inspect")
_ALPHABET = string.digits + string.ascii_letters
_BODY_LENGTH = 32
_CHECKSUM_LENGTH = 6


class ClientError(ValueError):
    """A client cannot be created or changed as asked; the message says why."""


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(_ALPHABET[remainder])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), _CHECKSUM_LENGTH)


def generate_client_key() -> str:
    """A new random client key with its prefix and checksum."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_BODY_LENGTH))
    return KEY_PREFIX + body + _checksum(body)


def looks_like_client_key(value: str) -> bool:
    """Whether ``value`` has the shape and checksum of a client key (no database needed)."""
    if not value.startswith(KEY_PREFIX) or len(value) != len(KEY_PREFIX) + _BODY_LENGTH + 6:
        return False
    body = value[len(KEY_PREFIX):-_CHECKSUM_LENGTH]
    if any(ch not in _ALPHABET for ch in body):
        return False
    return hmac.compare_digest(value[-_CHECKSUM_LENGTH:], _checksum(body))


def hash_client_key(value: str) -> str:
    """The stored form of a client key."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _check_rate_limit(value: str) -> str:
    try:
        parse_many(value)
    except ValueError as error:
        raise ClientError(f"{value!r} is not a rate limit such as '600/minute'.") from error
    return value


def create_client(
    name: str,
    scopes: Iterable[str],
    *,
    key_labels: Iterable[str] = (),
    max_lifetime: str | None = None,
    rate_limit: str | None = None,
) -> tuple[ApiClient, str]:
    """Create a client; returns it with its plaintext key, which is never stored."""
    name = name.strip()
    if not name or len(name) > 80:
        raise ClientError("A name of 1 to 80 characters is needed.")
    if db.session.execute(select(ApiClient).where(ApiClient.name == name)).first():
        raise ClientError(f"A client named {name!r} exists already.")
    chosen = list(dict.fromkeys(scopes))
    if not chosen:
        raise ClientError("Choose at least one scope: " + ", ".join(SCOPES) + ".")
    unknown = [scope for scope in chosen if scope not in SCOPES]
    if unknown:
        raise ClientError(f"Unknown scope(s) {', '.join(unknown)}: use {', '.join(SCOPES)}.")
    keys: list[VideoSDKKey] = []
    for label in dict.fromkeys(key_labels):
        key = key_by_label(label)
        if key is None:
            raise ClientError(f"No key is labelled {label!r}.")
        keys.append(key)
    lifetime: int | None = None
    if max_lifetime:
        try:
            seconds = parse_lifetime(max_lifetime)
        except LifetimeError as error:
            raise ClientError(str(error)) from error
        if seconds > max_token_lifetime():
            raise ClientError("The maximum lifetime cannot exceed MAX_TOKEN_LIFETIME.")
        lifetime = int(seconds)
    plaintext = generate_client_key()
    client = ApiClient(
        name=name,
        key_hash=hash_client_key(plaintext),
        key_prefix=plaintext[: len(KEY_PREFIX) + 4],
        scopes=chosen,
        max_lifetime=lifetime,
        rate_limit=_check_rate_limit(
            rate_limit or current_app.config["API_CLIENT_DEFAULT_RATE_LIMIT"]),
        keys=keys,
    )
    db.session.add(client)
    db.session.flush()
    return client, plaintext


def authenticate(presented: str) -> ApiClient | None:
    """The active client whose key this is, or None (unknown, malformed or revoked)."""
    if not looks_like_client_key(presented):
        return None
    client = db.session.execute(
        select(ApiClient).where(ApiClient.key_hash == hash_client_key(presented))
    ).scalar_one_or_none()
    if client is None or client.revoked_at is not None:
        return None
    return client


def revoke(client: ApiClient) -> None:
    """Revoke a client; its key stops working at the next request. The caller commits."""
    if client.revoked_at is None:
        client.revoked_at = utcnow()


def usable_keys(client: ApiClient) -> list[VideoSDKKey]:
    """The active keys the client may sign with (all active keys when none are named)."""
    from .keyring import active_keys

    if client.keys:
        return [key for key in client.keys if not key.disabled]
    return active_keys()
