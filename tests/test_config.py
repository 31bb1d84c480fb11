"""Settings: generated development secrets, a refused production start."""

from __future__ import annotations

import json
import os

import pytest

from webapp import create_app
from webapp.config import ConfigurationError


@pytest.fixture
def clean_environment(monkeypatch):
    for name in ("SECRET_KEY", "ENCRYPTION_KEYS", "APP_ENV", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_development_generates_secrets_once_into_the_instance_folder(tmp_path,
                                                                    clean_environment):
    instance = tmp_path / "instance"
    first = create_app({"INSTANCE_PATH": str(instance)})
    stored = json.loads((instance / "secrets.json").read_text())
    assert first.config["SECRET_KEY"] == stored["SECRET_KEY"]
    assert first.config["ENCRYPTION_KEYS"] == stored["ENCRYPTION_KEYS"]
    assert oct((instance / "secrets.json").stat().st_mode & 0o777) == "0o600"
    second = create_app({"INSTANCE_PATH": str(instance)})
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert first.config["SQLALCHEMY_DATABASE_URI"] == (
        "sqlite:///" + os.path.join(str(instance), "token-console.db"))


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ENCRYPTION_KEYS"])
def test_production_refuses_to_start_without_its_secrets(tmp_path, monkeypatch,
                                                         clean_environment, missing):
    monkeypatch.setenv("APP_ENV", "production")
    present = {"SECRET_KEY": "s" * 40, "ENCRYPTION_KEYS": "x"}
    present.pop(missing)
    for name, value in present.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=f"APP_ENV=production needs {missing}"):
        create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    assert not (tmp_path / "instance" / "secrets.json").exists()


def test_production_sets_secure_cookies_and_never_debug(tmp_path, monkeypatch, clean_environment):
    from cryptography.fernet import Fernet

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("ENCRYPTION_KEYS", Fernet.generate_key().decode())
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "DEBUG": True})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.debug is False


@pytest.mark.parametrize(("app_env", "secure"), [("development", False), ("staging", True),
                                                 ("test", True)])
def test_cookies_are_secure_outside_development(tmp_path, monkeypatch, clean_environment,
                                                app_env, secure):
    monkeypatch.setenv("APP_ENV", app_env)
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    assert app.config["SESSION_COOKIE_SECURE"] is secure
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_environment_overrides_defaults(tmp_path, monkeypatch, clean_environment):
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/elsewhere.db")
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:////tmp/elsewhere.db"
