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
from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import make_transient_to_detached

from webapp.characters import refusal
from webapp.extensions import db
from webapp.models import ApiClient, VideoSDKKey, client_keys, utcnow
from webapp.services.videosdk_keys import key_by_label, max_token_lifetime
from webapp.tokens import LifetimeError, format_lifetime, parse_lifetime

KEY_PREFIX = "tck_"
SCOPES = ("tokens:mint", "tokens:inspect")
_ALPHABET = string.digits + string.ascii_letters
_ALPHABET_SET = frozenset(_ALPHABET)
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
    if not _ALPHABET_SET.issuperset(body):
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


_CLIENT = ApiClient.__table__
_KEY = VideoSDKKey.__table__
_CLIENT_COLUMNS = ("id", "name", "key_hash", "key_prefix", "scopes", "max_lifetime",
                   "rate_limit", "created_at", "revoked_at")
_KEY_COLUMNS = ("id", "label", "apikey", "secret_encrypted", "secret_last4", "max_lifetime",
                "allowed_permissions", "allowed_roles", "disabled", "sandbox", "created_at")
_KEY_AT = len(_CLIENT_COLUMNS)
# One indexed Core statement per request: the client by its key's hash, with the keys it may
# use (one row per key; a single row of NULL key columns when it names none).
_BY_KEY_HASH = (
    select(*(_CLIENT.c[name] for name in _CLIENT_COLUMNS),
           *(_KEY.c[name].label(f"key_{name}") for name in _KEY_COLUMNS))
    .select_from(_CLIENT.outerjoin(client_keys, client_keys.c.client_id == _CLIENT.c.id)
                 .outerjoin(_KEY, _KEY.c.id == client_keys.c.key_id))
    .where(_CLIENT.c.key_hash == bindparam("key_hash"))
    .order_by(client_keys.c.key_id)
)


def authenticate(presented: str) -> ApiClient | None:
    """The active client whose key this is, or None (unknown, malformed or revoked).

    Read afresh on every call (one SELECT), so a revocation or a policy change holds from the
    next request on. The client comes back detached from the session with its keys, as of
    this read: when the read returns exactly what it returned last time for this key, the
    client built then is handed back again, unless something was changed on it since.
    """
    if not looks_like_client_key(presented):
        return None
    key_hash = hash_client_key(presented)
    # On the session's connection and transaction, without the ORM's execution layer.
    found = db.session.connection().execute(_BY_KEY_HASH, {"key_hash": key_hash})
    rows = [tuple(row) for row in found]
    recent = _RECENT.get(key_hash)
    if recent is not None and recent[0] == rows and _pristine(recent[1]):
        return recent[1]
    if not rows or rows[0][_CLIENT_COLUMNS.index("revoked_at")] is not None:
        _RECENT.pop(key_hash, None)
        return None
    keys = [VideoSDKKey(**dict(zip(_KEY_COLUMNS, row[_KEY_AT:], strict=True)))
            for row in rows if row[_KEY_AT] is not None]
    client = ApiClient(**dict(zip(_CLIENT_COLUMNS, rows[0][:_KEY_AT], strict=True)), keys=keys)
    for instance in (client, *keys):
        # As if loaded by a query and let go by its session: no pending change to flush.
        make_transient_to_detached(instance)
    if len(_RECENT) >= _RECENT_SIZE:
        _RECENT.clear()
    _RECENT[key_hash] = (rows, client)
    return client


# Per process: a key's hash -> the rows last read for it and the client built from them.
_RECENT: dict[str, tuple[list[tuple[Any, ...]], ApiClient]] = {}
_RECENT_SIZE = 256


def _pristine(client: ApiClient) -> bool:
    """Still exactly as built: detached from any session, nothing set on it or its keys."""
    for instance in (client, *client.keys):
        state = inspect(instance)
        if state.modified or not state.detached:
            return False
    return True


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
