"""The stored VideoSDK keys: secrets encrypted at rest, policies, and look-ups.

Secrets are encrypted with MultiFernet under ENCRYPTION_KEYS (newest first),
so keys can be rotated: old keys still decrypt, the newest encrypts. A replaced secret is
kept, encrypted the same way and never shown, for REPLACED_SECRET_RETENTION (SPEC 4
`/admin/keys`), so that the diagnosis can name a backend still signing with it (SPEC 3
`replaced_secret`).
"""

from __future__ import annotations

import logging
import secrets as random_secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app
from sqlalchemy import delete, select

from webapp.characters import refusal
from webapp.extensions import db
from webapp.models import ReplacedKeySecret, VideoSDKKey, utcnow
from webapp.services import audit
from webapp.tokens import (
    KnownKey,
    LifetimeError,
    Permission,
    Policy,
    ReplacedSecret,
    Role,
    format_lifetime,
    iso_utc,
    parse_lifetime,
    trim_secret,
)

log = logging.getLogger(__name__)

MIN_SECRET_BYTES = 32
SANDBOX_LABEL = "sandbox"
# Plaintext secrets kept per worker, keyed by their ciphertext: a handful of keys, each
# decrypted once instead of on every mint. Bounded so a churn of replaced secrets cannot grow it.
_SECRET_CACHE_SIZE = 256
# Long enough for a backend that missed a rotation to be noticed (tokens of the old secret
# failing for weeks), short enough that a leaked secret does not linger: SPEC 4 `/admin/keys`.
REPLACED_SECRET_RETENTION = timedelta(days=90)


class KeyringError(ValueError):
    """A key cannot be stored or used as asked; the message says why."""


def init_app(app: Flask) -> None:
    """Build the app's MultiFernet from ENCRYPTION_KEYS; refuse malformed keys."""
    raw = app.config.get("ENCRYPTION_KEYS") or ""
    keys = [part.strip() for part in str(raw).split(",") if part.strip()]
    # Per app: tests build apps with different ENCRYPTION_KEYS in one process.
    app.extensions["secret_cache"] = _SecretCache()
    if not keys:
        app.extensions["fernet"] = None
        return
    try:
        app.extensions["fernet"] = MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise KeyringError(
            "ENCRYPTION_KEYS must be comma-separated Fernet keys (32 url-safe base64 bytes)"
        ) from error


def _fernet() -> MultiFernet:
    fernet: MultiFernet | None = current_app.extensions.get("fernet")
    if fernet is None:
        raise KeyringError("ENCRYPTION_KEYS is not set: run `flask --app webapp setup`.")
    return fernet


def encrypt_secret(secret: str) -> bytes:
    """The secret encrypted under the newest encryption key."""
    return _fernet().encrypt(secret.encode("utf-8"))


class _SecretCache:
    """Ciphertext -> plaintext for this app's ENCRYPTION_KEYS, bounded, safe across threads.

    A ciphertext carries its own HMAC, so the same bytes always decrypt to the same secret:
    a replaced secret or a rotated encryption key gives new bytes and a fresh entry.
    """

    def __init__(self) -> None:
        self._plain: dict[bytes, str] = {}
        self._lock = threading.Lock()

    def get(self, ciphertext: bytes) -> str | None:
        return self._plain.get(ciphertext)

    def put(self, ciphertext: bytes, plaintext: str) -> None:
        with self._lock:
            if len(self._plain) >= _SECRET_CACHE_SIZE:
                self._plain.clear()
            self._plain[ciphertext] = plaintext


def decrypt_secret(key: VideoSDKKey) -> str:
    """The plaintext secret of a stored key; KeyringError when ENCRYPTION_KEYS cannot open it."""
    return _decrypt(bytes(key.secret_encrypted), key.label)


def _decrypt(ciphertext: bytes, label: str, *, replaced: bool = False) -> str:
    plaintext = _plaintext(ciphertext)
    if plaintext is None:
        # The operator's to fix, wherever it shows (a 503 page, a 503 problem, exit 4): say
        # so in the log too, by the key's label only.
        what = f"{'A replaced secret' if replaced else 'The secret'} of key {label!r}"
        log.error("%s cannot be decrypted with ENCRYPTION_KEYS", what)
        raise KeyringError(f"{what} cannot be decrypted with ENCRYPTION_KEYS.")
    return plaintext


def _plaintext(ciphertext: bytes) -> str | None:
    """The plaintext of a ciphertext, from the per-worker cache or decrypted; None when no
    key of ENCRYPTION_KEYS opens it."""
    cache: _SecretCache | None = current_app.extensions.get("secret_cache")
    if cache is not None and (known := cache.get(ciphertext)) is not None:
        return known
    try:
        plaintext = _fernet().decrypt(ciphertext).decode("utf-8")
    except InvalidToken:
        return None
    if cache is not None:
        cache.put(ciphertext, plaintext)
    return plaintext


def max_token_lifetime() -> float:
    """The longest lifetime any key may allow (MAX_TOKEN_LIFETIME)."""
    return _parsed_lifetime(current_app.config["MAX_TOKEN_LIFETIME"])


@lru_cache(maxsize=64)
def _parsed_lifetime(value: str | int | float) -> float:
    # A setting read on every mint: parse each distinct spelling once per worker.
    return parse_lifetime(value)


def _default_max_lifetime() -> str:
    return str(current_app.config["DEFAULT_KEY_MAX_LIFETIME"])


def _lifetime_seconds(value: str | int | float | None, default: str) -> int:
    try:
        seconds = parse_lifetime(default if value in (None, "") else value)
    except LifetimeError as error:
        raise KeyringError(str(error)) from error
    ceiling = max_token_lifetime()
    if seconds > ceiling:
        raise KeyringError(
            f"The maximum lifetime cannot exceed MAX_TOKEN_LIFETIME "
            f"({current_app.config['MAX_TOKEN_LIFETIME']})."
        )
    return int(seconds)


def _checked(values: Iterable[str] | None, allowed: type[Permission] | type[Role]) -> list[str]:
    if values is None:
        return [member.value for member in allowed]
    chosen = list(dict.fromkeys(values))
    unknown = [value for value in chosen if value not in {m.value for m in allowed}]
    if unknown:
        raise KeyringError(f"Unknown value(s): {', '.join(unknown)}.")
    return chosen


def add_key(
    label: str,
    apikey: str,
    secret: str,
    *,
    max_lifetime: str | int | None = None,
    permissions: Iterable[str] | None = None,
    roles: Iterable[str] | None = None,
    sandbox: bool = False,
) -> VideoSDKKey:
    """Store a new key pair; the caller commits. Refuses short secrets and taken labels."""
    label = label.strip()
    apikey = apikey.strip()
    if not label or len(label) > 80:
        raise KeyringError("A label of 1 to 80 characters is needed.")
    if not apikey or len(apikey) > 255 or any(ch.isspace() for ch in apikey):
        raise KeyringError("The API key must be 1 to 255 characters without spaces.")
    # `keys list` prints both to a terminal, the pages and the trail show them (SPEC 4).
    if problem := refusal("The label", label) or refusal("The API key", apikey):
        raise KeyringError(problem)
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        raise KeyringError(
            f"The secret must be at least {MIN_SECRET_BYTES} bytes long; "
            "VideoSDK secrets are 64 hexadecimal characters."
        )
    if key_by_label(label) is not None:
        raise KeyringError(f"A key labelled {label!r} exists already.")
    key = VideoSDKKey(
        label=label,
        apikey=apikey,
        secret_encrypted=encrypt_secret(secret),
        secret_last4=secret[-4:],
        max_lifetime=_lifetime_seconds(max_lifetime, _default_max_lifetime()),
        allowed_permissions=_checked(permissions, Permission),
        allowed_roles=_checked(roles, Role),
        disabled=False,
        sandbox=sandbox,
    )
    db.session.add(key)
    db.session.flush()
    return key


def update_policy(
    key: VideoSDKKey,
    *,
    max_lifetime: str | int,
    permissions: Iterable[str],
    roles: Iterable[str],
) -> None:
    """Change what a key allows; the caller commits."""
    key.max_lifetime = _lifetime_seconds(max_lifetime, _default_max_lifetime())
    key.allowed_permissions = _checked(permissions, Permission)
    key.allowed_roles = _checked(roles, Role)


def replace_secret(key: VideoSDKKey, secret: str) -> datetime | None:
    """Store a new secret for a key, keep the old one and audit who replaced it; the caller commits.

    The one way a secret is replaced (admin page and `flask keys set-secret`): the old
    ciphertext is kept as it is (not decrypted) with the moment and the acting person, or `cli`,
    for REPLACED_SECRET_RETENTION, and older replaced secrets are purged (SPEC 4 `/admin/keys`).
    The audit line names the key and the actor, never any part of either secret. Returns until
    when the old secret is kept: None when ENCRYPTION_KEYS no longer opens it (replacing is then
    the way back, and a secret nobody can read would only break the diagnosis). Raises
    KeyringError for a short secret or the one stored already.
    """
    if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
        raise KeyringError(f"The secret must be at least {MIN_SECRET_BYTES} bytes long.")
    current = _plaintext(bytes(key.secret_encrypted))
    if secret == current:
        raise KeyringError(f"That is the secret key {key.label!r} has already.")
    actor, actor_kind = audit.current_actor()
    now = utcnow()
    _purge_replaced_secrets(now)
    kept_until = now + REPLACED_SECRET_RETENTION if current is not None else None
    if kept_until is not None:
        db.session.add(ReplacedKeySecret(key_id=key.id, secret_encrypted=key.secret_encrypted,
                                         replaced_at=now, replaced_by=actor))
    key.secret_encrypted = encrypt_secret(secret)
    key.secret_last4 = secret[-4:]
    audit.record("key.secret_replaced", target=key.label, actor=actor, actor_kind=actor_kind,
                 details={"oldSecretKeptUntil": iso_utc(kept_until) if kept_until else None},
                 commit=False)
    return kept_until


@dataclass(frozen=True)
class Replacement:
    """When and by whom a key's secret was replaced, as admins see it: never the secret."""

    replaced_at: datetime
    replaced_by: str
    kept_until: datetime


def replacements(key: VideoSDKKey) -> list[Replacement]:
    """The replacements of a key's secret still kept, newest first (SPEC 4 `/admin/keys`)."""
    rows = db.session.execute(
        select(ReplacedKeySecret.replaced_at, ReplacedKeySecret.replaced_by)
        .where(ReplacedKeySecret.key_id == key.id,
               ReplacedKeySecret.replaced_at >= utcnow() - REPLACED_SECRET_RETENTION)
        .order_by(ReplacedKeySecret.replaced_at.desc(), ReplacedKeySecret.id.desc())
    ).all()
    return [Replacement(at, by, at + REPLACED_SECRET_RETENTION) for at, by in rows]


def _purge_replaced_secrets(now: datetime) -> None:
    db.session.execute(delete(ReplacedKeySecret).where(
        ReplacedKeySecret.replaced_at < now - REPLACED_SECRET_RETENTION))


def _replaced_secrets_by_key(labels: dict[int, str]) -> dict[int, tuple[ReplacedSecret, ...]]:
    """Every kept replaced secret, decrypted, by key id, newest first: one query.

    Plaintexts come from the per-worker cache after the first inspection; expired rows seen
    here are purged in the caller's transaction.
    """
    now = utcnow()
    cutoff = now - REPLACED_SECRET_RETENTION
    rows = db.session.execute(
        select(ReplacedKeySecret.key_id, ReplacedKeySecret.secret_encrypted,
               ReplacedKeySecret.replaced_at, ReplacedKeySecret.replaced_by)
        .order_by(ReplacedKeySecret.replaced_at.desc(), ReplacedKeySecret.id.desc())
    ).all()
    found: dict[int, list[ReplacedSecret]] = {}
    expired = False
    for key_id, ciphertext, replaced_at, replaced_by in rows:
        if replaced_at < cutoff:
            expired = True
            continue
        secret = _decrypt(bytes(ciphertext), labels.get(key_id, str(key_id)), replaced=True)
        found.setdefault(key_id, []).append(ReplacedSecret(secret, replaced_at, replaced_by))
    if expired:
        _purge_replaced_secrets(now)
    return {key_id: tuple(secrets) for key_id, secrets in found.items()}


def key_by_label(label: str) -> VideoSDKKey | None:
    """The stored key with this label, if any."""
    return db.session.execute(
        select(VideoSDKKey).where(VideoSDKKey.label == label)
    ).scalar_one_or_none()


def all_keys() -> list[VideoSDKKey]:
    """Every stored key, by label."""
    return list(db.session.execute(select(VideoSDKKey).order_by(VideoSDKKey.label)).scalars())


def active_keys() -> list[VideoSDKKey]:
    """The keys that may sign, by label."""
    return [key for key in all_keys() if not key.disabled]


def policy_of(key: VideoSDKKey) -> Policy:
    """What a key allows, as the domain's Policy."""
    return _policy(float(key.max_lifetime), tuple(key.allowed_permissions),
                   tuple(key.allowed_roles))


@lru_cache(maxsize=256)
def _policy(max_lifetime: float, permissions: tuple[str, ...], roles: tuple[str, ...]) -> Policy:
    # Policy is frozen: the same stored values give one shared object, built once per worker.
    return Policy(max_lifetime=max_lifetime, permissions=frozenset(permissions),
                  roles=frozenset(roles))


def known_keys() -> list[KnownKey]:
    """Every stored key with its plaintext secret, plus the VIDEOSDK_* pair, for diagnosis.

    Each stored key carries its replaced secrets still kept, newest first: two queries in all.
    """
    stored = all_keys()
    replaced = _replaced_secrets_by_key({key.id: key.label for key in stored})
    known = [
        KnownKey(
            label=key.label,
            apikey=key.apikey,
            secret=decrypt_secret(key),
            disabled=key.disabled,
            sandbox=key.sandbox,
            max_lifetime=float(key.max_lifetime),
            replaced_secrets=replaced.get(key.id, ()),
        )
        for key in stored
    ]
    env_key = environment_key()
    if env_key is not None and all(k.apikey != env_key.apikey for k in known):
        known.append(env_key)
    return known


def environment_secret() -> tuple[str | None, bool]:
    """VIDEOSDK_SECRET_KEY without surrounding whitespace (SPEC 3.1), and whether any was
    removed so that the command can say so; (None, False) when unset."""
    raw = current_app.config.get("VIDEOSDK_SECRET_KEY")
    if not raw:
        return None, False
    secret, trimmed = trim_secret(str(raw))
    return secret or None, trimmed


def environment_key() -> KnownKey | None:
    """The VIDEOSDK_API_KEY / VIDEOSDK_SECRET_KEY pair of the environment, if set."""
    apikey = current_app.config.get("VIDEOSDK_API_KEY")
    secret, _ = environment_secret()
    if not apikey or not secret:
        return None
    return KnownKey(label="environment", apikey=apikey, secret=secret, stored=False,
                    max_lifetime=parse_lifetime(current_app.config["DEFAULT_KEY_MAX_LIFETIME"]))


def seed_first_key() -> VideoSDKKey | None:
    """On first start: a `default` key from VIDEOSDK_*, else a clearly marked sandbox key."""
    if all_keys():
        return None
    apikey = current_app.config.get("VIDEOSDK_API_KEY")
    secret, _ = environment_secret()
    if apikey and secret:
        return add_key("default", apikey, secret)
    return add_key(
        SANDBOX_LABEL,
        "sandbox-" + random_secrets.token_hex(8),
        random_secrets.token_hex(32),
        sandbox=True,
    )


@dataclass(frozen=True)
class Rotation:
    """What `keys rotate-encryption` re-encrypted: current secrets and replaced ones kept."""

    secrets: int
    replaced_secrets: int


def rotate_encryption() -> Rotation:
    """Re-encrypt every stored secret, replaced ones included, under the newest encryption key.

    Expired replaced secrets are purged first. Raises InvalidToken when a ciphertext opens
    under none of ENCRYPTION_KEYS; the caller rolls back.
    """
    fernet = _fernet()
    keys = all_keys()
    for key in keys:
        key.secret_encrypted = fernet.rotate(key.secret_encrypted)
    _purge_replaced_secrets(utcnow())
    replaced = list(db.session.execute(select(ReplacedKeySecret)).scalars())
    for row in replaced:
        row.secret_encrypted = fernet.rotate(row.secret_encrypted)
    return Rotation(secrets=len(keys), replaced_secrets=len(replaced))


def masked_secret(key: VideoSDKKey) -> str:
    """The only form in which a stored secret is ever shown: its last 4 characters."""
    return "…" + key.secret_last4


def describe(key: VideoSDKKey) -> dict[str, object]:
    """A stored key as shown to admins (pages, JSON, CLI): the secret masked."""
    return {
        "label": key.label,
        "apikey": key.apikey,
        "secret": masked_secret(key),
        "maxLifetime": format_lifetime(key.max_lifetime),
        "allowedPermissions": list(key.allowed_permissions),
        "allowedRoles": list(key.allowed_roles),
        "disabled": key.disabled,
        "sandbox": key.sandbox,
        "createdAt": iso_utc(key.created_at),
    }
