"""What every gunicorn worker does at start-up, which SIGHUP makes all of them do at once."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

from tests.conftest import base_config
from webapp import create_app


def test_create_app_hashes_nothing(tmp_path, monkeypatch):
    def refuse(*args: object, **kwargs: object) -> str:
        raise AssertionError("create_app spent an argon2 hash")

    monkeypatch.setattr(PasswordHasher, "hash", refuse)
    create_app(base_config(tmp_path, f"sqlite:///{tmp_path / 'start.db'}"))


def test_the_unknown_email_hash_costs_what_a_real_one_does_and_matches_nothing(tmp_path):
    app = create_app({**base_config(tmp_path, f"sqlite:///{tmp_path / 'start.db'}"),
                      "ARGON2_TIME_COST": 2, "ARGON2_MEMORY_COST": 1024,
                      "ARGON2_PARALLELISM": 2})
    hasher: PasswordHasher = app.extensions["password_hasher"]
    dummy: str = app.extensions["password_dummy_hash"]
    real = hasher.hash("a password")
    # The same algorithm, version and cost parameters: verifying costs the same.
    assert dummy.split("$")[1:4] == real.split("$")[1:4] == ["argon2id", "v=19",
                                                             "m=1024,t=2,p=2"]
    assert len(dummy) == len(real)
    assert not hasher.check_needs_rehash(dummy)
    for attempt in ("", "a password", "token-console-timing-equaliser"):
        with pytest.raises(VerifyMismatchError):
            hasher.verify(dummy, attempt)
    # Each app its own random salt and digest.
    other = create_app(base_config(tmp_path / "other", f"sqlite:///{tmp_path / 'o.db'}"))
    assert other.extensions["password_dummy_hash"] != dummy
