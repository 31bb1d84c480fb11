"""API clients: creation, bearer-key authentication, policy changes and revocation.

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
from typing import Any

from flask import current_app
from limits import parse_many
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from webapp.characters import refusal
from webapp.extensions import db
from webapp.models import ApiClient, VideoSDKKey, utcnow
from webapp.services.videosdk_keys import key_by_label, max_token_lifetime
from webapp.tokens import LifetimeError, format_lifetime, parse_lifetime

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


def rate_limit_problem(value: str) -> str | None:
    """Why ``value`` is no usable rate limit, or None when it is one (such as '600/minute')."""
    try:
        items = parse_many(value)
    except ValueError:
        return "Write a limit such as 600/minute, 10/second or 1000 per hour."
    if any(item.amount == 0 for item in items):
        return "A limit of 0 refuses every request: revoke the client instead."
    return None


def _check_rate_limit(value: str) -> str:
    problem = rate_limit_problem(value)
    if problem is not None:
        raise ClientError(f"{value!r} is not a usable rate limit: {problem}")
    return value


def _checked_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(scopes))
    if not chosen:
        raise ClientError("Choose at least one scope: " + ", ".join(SCOPES) + ".")
    unknown = [scope for scope in chosen if scope not in SCOPES]
    if unknown:
        raise ClientError(f"Unknown scope(s) {', '.join(unknown)}: use {', '.join(SCOPES)}.")
    return chosen


def _keys_labelled(labels: Iterable[str]) -> list[VideoSDKKey]:
    keys: list[VideoSDKKey] = []
    for label in dict.fromkeys(labels):
        key = key_by_label(label)
        if key is None:
            raise ClientError(f"No key is labelled {label!r}.")
        keys.append(key)
    return keys


def _max_lifetime_seconds(value: str | None) -> int | None:
    """A client's own lifetime ceiling in seconds; None (empty) leaves each key's own."""
    if not value:
        return None
    try:
        seconds = parse_lifetime(value)
    except LifetimeError as error:
        raise ClientError(str(error)) from error
    if seconds > max_token_lifetime():
        raise ClientError("The maximum lifetime cannot exceed MAX_TOKEN_LIFETIME.")
    return int(seconds)


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
    # `clients list` prints it to a terminal, the pages and the trail show it (SPEC 4).
    if problem := refusal("The name", name):
        raise ClientError(problem)
    if db.session.execute(select(ApiClient).where(ApiClient.name == name)).first():
        raise ClientError(f"A client named {name!r} exists already.")
    chosen = _checked_scopes(scopes)
    keys = _keys_labelled(key_labels)
    lifetime = _max_lifetime_seconds(max_lifetime)
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


# One indexed statement per request: the client by its key's hash, with the keys it may use.
_BY_KEY_HASH = (select(ApiClient).options(joinedload(ApiClient.keys))
                .where(ApiClient.key_hash == bindparam("key_hash")))


def authenticate(presented: str) -> ApiClient | None:
    """The active client whose key this is, or None (unknown, malformed or revoked).

    Read afresh on every call, so a revocation holds from the next request on; its keys are
    loaded in the same SELECT.
    """
    if not looks_like_client_key(presented):
        return None
    client = db.session.execute(_BY_KEY_HASH, {"key_hash": hash_client_key(presented)}
                                ).unique().scalar_one_or_none()
    if client is None or client.revoked_at is not None:
        return None
    return client


def describe(client: ApiClient) -> dict[str, Any]:
    """What a client may do, as the audit trail records it (never its key beyond the prefix)."""
    return {
        "scopes": list(client.scopes),
        "keys": [key.label for key in client.keys],
        "maxLifetime": format_lifetime(client.max_lifetime) if client.max_lifetime else None,
        "rateLimit": client.rate_limit,
        "keyPrefix": client.key_prefix,
    }


def update_policy(
    client: ApiClient,
    scopes: Iterable[str],
    *,
    key_labels: Iterable[str],
    max_lifetime: str | None,
    rate_limit: str,
) -> None:
    """Change what a client may do; it holds from the client's next request. The caller commits.

    Its key stays the same: a client whose key may have leaked is revoked and replaced instead.
    """
    if client.revoked_at is not None:
        raise ClientError(f"Client {client.name!r} is revoked; a revoked client cannot change.")
    client.scopes = _checked_scopes(scopes)
    client.keys = _keys_labelled(key_labels)
    client.max_lifetime = _max_lifetime_seconds(max_lifetime)
    client.rate_limit = _check_rate_limit(rate_limit)


def revoke(client: ApiClient) -> None:
    """Revoke a client; its key stops working at the next request. The caller commits."""
    if client.revoked_at is None:
        client.revoked_at = utcnow()


def usable_keys(client: ApiClient) -> list[VideoSDKKey]:
    """The active keys the client may sign with (all active keys when none are named)."""
    from webapp.services.videosdk_keys import active_keys

    if client.keys:
        return [key for key in client.keys if not key.disabled]
    return active_keys()
