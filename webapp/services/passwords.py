"""Password hashing with argon2id, tuned from the app's settings."""

from __future__ import annotations

import base64
import os

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import ARGON2_VERSION
from flask import Flask, current_app


def init_app(app: Flask) -> None:
    """Build the app's hasher once from its ARGON2_* settings."""
    hasher = PasswordHasher(
        time_cost=app.config["ARGON2_TIME_COST"],
        memory_cost=app.config["ARGON2_MEMORY_COST"],
        parallelism=app.config["ARGON2_PARALLELISM"],
        type=Type.ID,
    )
    app.extensions["password_hasher"] = hasher
    # Verified against when the email is unknown, so both paths cost the same.
    app.extensions["password_dummy_hash"] = _unmatchable_hash(hasher)


def _unmatchable_hash(hasher: PasswordHasher) -> str:
    """An encoded argon2id hash (PHC string format) with the hasher's parameters and random
    salt and digest.

    Verifying a password against it costs exactly what verifying against a real hash made
    with the same parameters does (the cost is read from the string), and no password
    matches it. Building it takes no hashing: every worker used to spend a whole argon2
    hash (0.1-0.5 s of CPU) on this at start-up, and SIGHUP starts them all at once.
    """
    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii").rstrip("=")

    return (f"$argon2id$v={ARGON2_VERSION}$m={hasher.memory_cost},t={hasher.time_cost},"
            f"p={hasher.parallelism}${b64(os.urandom(hasher.salt_len))}"
            f"${b64(os.urandom(hasher.hash_len))}")


def _hasher() -> PasswordHasher:
    hasher: PasswordHasher = current_app.extensions["password_hasher"]
    return hasher


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; with no hash, spend the same time and say no."""
    if password_hash is None:
        password_hash = current_app.extensions["password_dummy_hash"]
        try:
            _hasher().verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker settings than the current ones."""
    return _hasher().check_needs_rehash(password_hash)
