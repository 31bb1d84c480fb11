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


@pytest.mark.parametrize(("value", "message"), [
    ("2592000", "MAX_TOKEN_LIFETIME='2592000' is not a lifetime: "),
    ("forever", "MAX_TOKEN_LIFETIME='forever' is not a lifetime: "),
    ("-1d", "MAX_TOKEN_LIFETIME='-1d' is not a lifetime: "),
])
def test_an_unreadable_token_ceiling_stops_start_up(tmp_path, monkeypatch, clean_environment,
                                                    value, message):
    monkeypatch.setenv("MAX_TOKEN_LIFETIME", value)
    with pytest.raises(ConfigurationError) as raised:
        create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    assert str(raised.value).startswith(message)
    assert str(raised.value).endswith("Write it as node's expiresIn does, such as 30d or 720h.")


@pytest.mark.parametrize(("ceiling", "default_key_maximum"), [
    ("30d", "24h"), ("7 days", "24h"), ("24h", "24h"), ("12h", "12h"), ("90m", "90m")])
def test_a_new_keys_default_maximum_stays_under_the_ceiling(tmp_path, monkeypatch,
                                                            clean_environment, ceiling,
                                                            default_key_maximum):
    monkeypatch.setenv("MAX_TOKEN_LIFETIME", ceiling)
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    assert app.config["MAX_TOKEN_LIFETIME"] == ceiling
    assert app.config["DEFAULT_KEY_MAX_LIFETIME"] == default_key_maximum


@pytest.fixture
def no_videosdk_api_environment(monkeypatch):
    for name in ("VIDEOSDK_API_ENDPOINT", "VIDEOSDK_API_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)


def test_videosdks_rest_api_defaults_to_the_example_servers_endpoint_and_5_s(
        tmp_path, clean_environment, no_videosdk_api_environment):
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    assert app.config["VIDEOSDK_API_ENDPOINT"] == "https://api.videosdk.live/v2"
    assert app.config["VIDEOSDK_API_TIMEOUT"] == 5.0


@pytest.mark.parametrize(("environment", "endpoint", "timeout"), [
    ({"VIDEOSDK_API_ENDPOINT": ""}, "", 5.0),  # empty turns the relay off, not "unset"
    ({"VIDEOSDK_API_ENDPOINT": "  http://127.0.0.1:9/v2 "}, "http://127.0.0.1:9/v2", 5.0),
    ({"VIDEOSDK_API_TIMEOUT": "2.5"}, "https://api.videosdk.live/v2", 2.5),
])
def test_the_environment_sets_or_empties_videosdks_rest_api(
        tmp_path, monkeypatch, clean_environment, no_videosdk_api_environment, environment,
        endpoint, timeout):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    assert app.config["VIDEOSDK_API_ENDPOINT"] == endpoint
    assert app.config["VIDEOSDK_API_TIMEOUT"] == timeout


@pytest.mark.parametrize(("name", "value", "message"), [
    ("VIDEOSDK_API_ENDPOINT", "api.videosdk.live/v2",
     "VIDEOSDK_API_ENDPOINT='api.videosdk.live/v2' is not an http(s) URL"),
    ("VIDEOSDK_API_ENDPOINT", "file:///etc/passwd",
     "VIDEOSDK_API_ENDPOINT='file:///etc/passwd' is not an http(s) URL"),
    ("VIDEOSDK_API_TIMEOUT", "0", "VIDEOSDK_API_TIMEOUT='0' is not a number of seconds"),
    ("VIDEOSDK_API_TIMEOUT", "soon", "VIDEOSDK_API_TIMEOUT='soon' is not a number of seconds"),
    ("VIDEOSDK_API_TIMEOUT", "nan", "VIDEOSDK_API_TIMEOUT='nan' is not a number of seconds"),
    ("VIDEOSDK_API_TIMEOUT", "61", "VIDEOSDK_API_TIMEOUT='61' is not a number of seconds"),
])
def test_a_wrong_videosdk_api_setting_stops_start_up(tmp_path, monkeypatch, clean_environment,
                                                     no_videosdk_api_environment, name, value,
                                                     message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as raised:
        create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    assert str(raised.value).startswith(message)


class TestFilesAreTheAppsAlone:
    """SPEC 7: the database, its -wal and -shm, the generated secrets: 0600; the instance
    folder 0700, whatever the umask."""

    @staticmethod
    def mode(path) -> int:  # type: ignore[no-untyped-def]
        return path.stat().st_mode & 0o777

    def test_a_fresh_instance_on_sqlite(self, tmp_path):
        import os

        from webapp import create_app

        previous = os.umask(0o022)
        try:
            instance = tmp_path / "instance"
            app = create_app({"INSTANCE_PATH": str(instance), "TESTING": True,
                              "DATABASE_URL": f"sqlite:///{instance / 'token-console.db'}"})
            result = app.test_cli_runner().invoke(args=["db", "upgrade"])
            assert result.exit_code == 0, result.output
            with app.app_context():
                from webapp.services import audit

                audit.record("user.created", target="x@example.com")
                # The -wal and -shm exist while a connection is open.
                files = sorted(p.name for p in instance.iterdir())
                assert {"token-console.db", "token-console.db-wal",
                        "token-console.db-shm", "secrets.json"} <= set(files)
                assert {name: self.mode(instance / name) for name in files} == dict.fromkeys(
                    files, 0o600)
            assert self.mode(instance) == 0o700
        finally:
            os.umask(previous)

    def test_files_left_readable_by_an_older_version_are_tightened(self, tmp_path):
        import os
        import sqlite3

        from webapp import create_app
        from webapp.extensions import db

        instance = tmp_path / "instance"
        instance.mkdir(mode=0o755)
        os.chmod(instance, 0o755)  # noqa: S103 - as an older version left it
        database = instance / "token-console.db"
        sqlite3.connect(database).close()
        os.chmod(database, 0o644)
        app = create_app({"INSTANCE_PATH": str(instance), "TESTING": True,
                          "DATABASE_URL": f"sqlite:///{database}"})
        assert self.mode(instance) == 0o700
        assert self.mode(instance / "secrets.json") == 0o600
        with app.app_context():
            db.session.execute(db.text("SELECT 1"))
            assert self.mode(database) == 0o600
            db.session.remove()
            db.engine.dispose()
