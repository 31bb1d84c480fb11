"""Every setting of Token Console and its default, in one place.

Order of precedence (lowest first): the defaults below, the instance folder's
``settings.py`` and generated ``secrets.json``, the environment, and finally
the ``test_config`` handed to :func:`webapp.create_app`.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.tokens import LifetimeError, format_lifetime, parse_lifetime

SECRETS_FILE = "secrets.json"

# Names read from the environment. Anything listed here can also be set in the
# instance folder's settings.py.
ENVIRONMENT_SETTINGS = (
    "APP_ENV",
    "SECRET_KEY",
    "DATABASE_URL",
    "ENCRYPTION_KEYS",
    "RATELIMIT_STORAGE_URI",
    "VIDEOSDK_API_KEY",
    "VIDEOSDK_SECRET_KEY",
    "VIDEOSDK_API_ENDPOINT",
    "VIDEOSDK_API_TIMEOUT",
    "ADMIN_EMAIL",
    "MAX_TOKEN_LIFETIME",
    "CORS_ORIGINS",
    "TRUSTED_HOSTS",
    "PROXY_FIX_X_FOR",
    "PROXY_FIX_X_PROTO",
    "PROXY_FIX_X_HOST",
    "LOG_LEVEL",
)


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong in a way that must stop start-up."""


def defaults(instance_path: str) -> dict[str, Any]:
    """The settings every deployment starts from."""
    return {
        "APP_ENV": "development",
        "SECRET_KEY": None,
        "ENCRYPTION_KEYS": None,
        "DATABASE_URL": "sqlite:///" + os.path.join(instance_path, "token-console.db"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SQLITE_BUSY_TIMEOUT_MS": 5000,
        # VideoSDK's own limits and this product's policy defaults (SPEC 2).
        "MAX_TOKEN_LIFETIME": "30d",
        "DEFAULT_KEY_MAX_LIFETIME": "24h",
        "VIDEOSDK_API_KEY": None,
        "VIDEOSDK_SECRET_KEY": None,
        "ADMIN_EMAIL": "admin@example.com",
        # VideoSDK's REST API, which /create-meeting, /validate-meeting and the inspector's
        # "Ask VideoSDK" call (SPEC 5): the example servers' variable and default. Empty
        # turns those off. The timeout is one deadline per call, in seconds.
        "VIDEOSDK_API_ENDPOINT": "https://api.videosdk.live/v2",
        "VIDEOSDK_API_TIMEOUT": 5.0,
        # Sign-in and sessions (SPEC 4).
        "PASSWORD_MIN_LENGTH": 12,
        "SESSION_IDLE_TIMEOUT": 30 * 60,
        "SESSION_ABSOLUTE_LIFETIME": 8 * 60 * 60,
        "SESSION_TOUCH_INTERVAL": 60,
        "LOGIN_LOCKOUT_ATTEMPTS": 5,
        "LOGIN_LOCKOUT_WINDOW": 15 * 60,
        "LOGIN_RATE_LIMIT": "30/minute;300/hour",
        "ARGON2_TIME_COST": 3,
        "ARGON2_MEMORY_COST": 65536,
        "ARGON2_PARALLELISM": 4,
        "SESSION_COOKIE_NAME": "tc_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_DURATION": 0,
        # Requests and answers.
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "MAX_TOKEN_LENGTH": 8 * 1024,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_STRATEGY": "fixed-window",
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "API_CLIENT_DEFAULT_RATE_LIMIT": "600/minute",
        "CORS_ORIGINS": "",
        "TRUSTED_HOSTS": None,
        "PROXY_FIX_X_FOR": 0,
        "PROXY_FIX_X_PROTO": 0,
        "PROXY_FIX_X_HOST": 0,
        "BOOTSTRAP_SERVE_LOCAL": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "LOG_LEVEL": "INFO",
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    }


# Settings whose empty value means something (off), rather than "not set".
EMPTY_MEANS_OFF = ("VIDEOSDK_API_ENDPOINT",)


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings the environment sets, as strings."""
    return {name: environ[name] for name in ENVIRONMENT_SETTINGS
            if environ.get(name) or (name in EMPTY_MEANS_OFF and name in environ)}


def private_instance_folder(instance_path: str) -> None:
    """Create the instance folder readable by this user only (0700), or make it so (SPEC 7):
    it holds the generated secrets and, by default, the database."""
    os.makedirs(instance_path, mode=0o700, exist_ok=True)
    _tighten(instance_path, 0o700)
    make_private(os.path.join(instance_path, SECRETS_FILE))


def make_private(*paths: str) -> None:
    """Make each of these files that exists readable and writable by this user only (0600)."""
    for path in paths:
        _tighten(path, 0o600)


def _tighten(path: str, mode: int) -> None:
    # A folder or file another user owns (a read-only deployment) is left as its owner set it.
    try:
        if os.stat(path).st_mode & 0o777 & ~mode:
            os.chmod(path, mode)
    except (FileNotFoundError, PermissionError):
        return


def read_instance_secrets(instance_path: str) -> dict[str, str]:
    """The SECRET_KEY and ENCRYPTION_KEYS generated earlier into the instance folder."""
    path = Path(instance_path, SECRETS_FILE)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return {k: v for k, v in data.items() if k in ("SECRET_KEY", "ENCRYPTION_KEYS")}


def ensure_instance_secrets(instance_path: str) -> dict[str, str]:
    """Generate the development SECRET_KEY and ENCRYPTION_KEYS once, and return them.

    Safe when several processes race: the file is created exclusively, so
    every process ends up reading the same values.
    """
    private_instance_folder(instance_path)
    existing = read_instance_secrets(instance_path)
    if existing.get("SECRET_KEY") and existing.get("ENCRYPTION_KEYS"):
        return existing
    generated = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ENCRYPTION_KEYS": Fernet.generate_key().decode("ascii"),
    }
    path = os.path.join(instance_path, SECRETS_FILE)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_instance_secrets(instance_path)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(generated, handle, indent=2)
    return generated


def finalize(config: dict[str, Any]) -> None:
    """Derive dependent settings and refuse a production start without its secrets."""
    production = config["APP_ENV"] == "production"
    if production:
        missing = [name for name in ("SECRET_KEY", "ENCRYPTION_KEYS") if not config.get(name)]
        if missing:
            raise ConfigurationError(
                "APP_ENV=production needs " + " and ".join(missing) + " in the environment. "
                "Generate them with: python -c 'import secrets; print(secrets.token_urlsafe(48))' "
                "and python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            )
        config["DEBUG"] = False
    if config["APP_ENV"] != "development":
        # Only a developer's own machine serves the console over plain HTTP.
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
    _check_lifetimes(config)
    _check_videosdk_api(config)
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    for name in ("PROXY_FIX_X_FOR", "PROXY_FIX_X_PROTO", "PROXY_FIX_X_HOST"):
        config[name] = int(config[name] or 0)
    if isinstance(config.get("TRUSTED_HOSTS"), str):
        hosts = config["TRUSTED_HOSTS"].split(",")
        config["TRUSTED_HOSTS"] = [host.strip() for host in hosts if host.strip()]


def _lifetime_setting(config: dict[str, Any], name: str) -> float:
    value = config[name]
    try:
        return parse_lifetime(value)
    except LifetimeError as error:
        raise ConfigurationError(
            f"{name}={value!r} is not a lifetime: {error} Write it as node's expiresIn "
            "does, such as 30d or 720h."
        ) from error


def _check_lifetimes(config: dict[str, Any]) -> None:
    """Read the lifetime settings once at start-up: a wrong one stops it, not every mint.

    A new key's default maximum never exceeds MAX_TOKEN_LIFETIME: lowering the ceiling
    below 24h lowers the default with it, so that setup can still store the first key.
    """
    ceiling = _lifetime_setting(config, "MAX_TOKEN_LIFETIME")
    if _lifetime_setting(config, "DEFAULT_KEY_MAX_LIFETIME") > ceiling:
        config["DEFAULT_KEY_MAX_LIFETIME"] = format_lifetime(ceiling)


def _check_videosdk_api(config: dict[str, Any]) -> None:
    """VIDEOSDK_API_ENDPOINT is empty (off) or an http(s) URL; the timeout is 0 < t <= 60 s."""
    endpoint = str(config.get("VIDEOSDK_API_ENDPOINT") or "").strip()
    if endpoint and not endpoint.startswith(("https://", "http://")):
        raise ConfigurationError(
            f"VIDEOSDK_API_ENDPOINT={endpoint!r} is not an http(s) URL: write it as "
            "https://api.videosdk.live/v2, or leave it empty to turn VideoSDK's REST API off."
        )
    config["VIDEOSDK_API_ENDPOINT"] = endpoint
    try:
        timeout = float(config["VIDEOSDK_API_TIMEOUT"])
    except (TypeError, ValueError):
        timeout = -1.0
    if not 0 < timeout <= 60:
        raise ConfigurationError(
            f"VIDEOSDK_API_TIMEOUT={config['VIDEOSDK_API_TIMEOUT']!r} is not a number of "
            "seconds between 0 and 60 (default 5)."
        )
    config["VIDEOSDK_API_TIMEOUT"] = timeout


def init_app(app: Flask, test_config: dict[str, Any]) -> None:
    """Load ``app``'s settings: the defaults, the instance folder's ``settings.py`` and secrets,
    the environment and finally ``test_config``; check them, and trust the proxies the
    PROXY_FIX_* settings name. The instance folder is made private (0700) first.

    Raises ConfigurationError for settings the app cannot run with.
    """
    private_instance_folder(app.instance_path)
    app.config.from_mapping(defaults(app.instance_path))
    app.config.from_pyfile("settings.py", silent=True)
    app.config.update(read_instance_secrets(app.instance_path))
    app.config.update(from_environment(os.environ))
    app.config.update(test_config)
    needs_secrets = not (app.config.get("SECRET_KEY") and app.config.get("ENCRYPTION_KEYS"))
    if needs_secrets and app.config["APP_ENV"] != "production":
        # A developer's machine: generate once into the instance folder. Safe
        # when several workers start together (exclusive create), and the
        # same values `flask setup` writes.
        generated = ensure_instance_secrets(app.instance_path)
        for name, value in generated.items():
            if not app.config.get(name):
                app.config[name] = value
    finalize(app.config)
    if app.config.get("TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = list(app.config["TRUSTED_HOSTS"])
    proxies = {
        "x_for": app.config["PROXY_FIX_X_FOR"],
        "x_proto": app.config["PROXY_FIX_X_PROTO"],
        "x_host": app.config["PROXY_FIX_X_HOST"],
    }
    if any(proxies.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **proxies)  # type: ignore[method-assign]
