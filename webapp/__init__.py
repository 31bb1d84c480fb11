"""Token Console: mint, inspect and audit VideoSDK access tokens."""

from __future__ import annotations

import os
import weakref
from functools import partial, wraps
from pathlib import Path
from typing import Any

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from webapp import config as settings
from webapp import logs

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` limited to what a 64-bit database column holds."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build a configured Token Console application.

    Settings come from the defaults, the instance folder, the environment and
    finally ``test_config``. Nothing here writes to the database.
    """
    test_config = dict(test_config or {})
    instance_path = test_config.pop("INSTANCE_PATH", None) or os.environ.get(
        "TOKEN_CONSOLE_INSTANCE_PATH"
    )
    app = Flask(
        __name__,
        instance_path=str(instance_path) if instance_path else None,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    _configure(app, test_config)
    logs.init_app(app)
    from webapp.web.middleware import BufferedChunkedBodies

    app.wsgi_app = BufferedChunkedBodies(  # type: ignore[method-assign]
        app.wsgi_app, app.config.get("MAX_CONTENT_LENGTH"))
    # Ids past 64 bits cannot name a row and would overflow the database driver: 404.
    app.url_map.converters["int"] = BoundedIntegerConverter
    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    from webapp import health
    from webapp.web import display, errors, navigation, security

    display.init_app(app)
    health.init_app(app)
    errors.init_app(app)
    navigation.init_app(app)
    security.init_app(app)
    return app


def _configure(app: Flask, test_config: dict[str, Any]) -> None:
    settings.private_instance_folder(app.instance_path)
    app.config.from_mapping(settings.defaults(app.instance_path))
    app.config.from_pyfile("settings.py", silent=True)
    app.config.update(settings.read_instance_secrets(app.instance_path))
    app.config.update(settings.from_environment(os.environ))
    app.config.update(test_config)
    needs_secrets = not (app.config.get("SECRET_KEY") and app.config.get("ENCRYPTION_KEYS"))
    if needs_secrets and app.config["APP_ENV"] != "production":
        # A developer's machine: generate once into the instance folder. Safe
        # when several workers start together (exclusive create), and the
        # same values `flask setup` writes.
        generated = settings.ensure_instance_secrets(app.instance_path)
        for name, value in generated.items():
            if not app.config.get(name):
                app.config[name] = value
    settings.finalize(app.config)  # type: ignore[arg-type]
    if app.config.get("TRUSTED_HOSTS"):
        app.config["TRUSTED_HOSTS"] = list(app.config["TRUSTED_HOSTS"])
    proxies = {
        "x_for": app.config["PROXY_FIX_X_FOR"],
        "x_proto": app.config["PROXY_FIX_X_PROTO"],
        "x_host": app.config["PROXY_FIX_X_HOST"],
    }
    if any(proxies.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **proxies)  # type: ignore[method-assign]


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # WAL lets readers work while one writer commits. The busy timeout, which makes a second
    # writer wait instead of failing with "database is locked", is sqlite3's own `timeout`
    # (SQLITE_BUSY_TIMEOUT_MS, see _engine_options).
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    # Before WAL mode opens its -wal and -shm files, which SQLite creates with the database
    # file's permissions: the people's password hashes and the trail are the app's alone.
    for _, name, filename in cursor.execute("PRAGMA database_list").fetchall():
        if name == "main" and filename:
            settings.make_private(filename, filename + "-wal", filename + "-shm")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _engine_options(app: Flask) -> None:
    """Pool settings per backend: each worker keeps its connections, opened after the fork."""
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite"):
        # A local file cannot go stale under a pooled connection: the ping would be one more
        # statement on every request for nothing.
        options["pool_pre_ping"] = False
        # How long a writer waits for another's lock before the request answers 503.
        options["connect_args"] = {"timeout": int(app.config["SQLITE_BUSY_TIMEOUT_MS"]) / 1000,
                                   **options.get("connect_args", {})}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


# Every engine this process created; forgotten by a forked child (see _forget_pools).
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_pools() -> None:
    """In a forked child: drop the inherited pooled connections without closing them.

    The app is normally created in each gunicorn worker (preload_app = False). Should one be
    created before a fork anyway (--preload), the child must not talk over its parent's
    sockets, nor close them under the parent: it opens its own on first use.
    """
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_pools)


def _track_engines(app: Flask) -> None:
    from webapp.extensions import db

    with app.app_context():
        _ENGINES.update(db.engines.values())


@event.listens_for(Engine, "do_connect")
def _name_postgres_connections(dialect: Any, conn_rec: Any, cargs: Any, cparams: Any) -> None:
    # pg_stat_activity then says which process opened which connection: each gunicorn worker
    # its own, never the master (see tests/scale).
    if dialect.name == "postgresql":
        cparams.setdefault("application_name", f"token-console pid={os.getpid()}")


def _init_extensions(app: Flask) -> None:
    from webapp.extensions import bootstrap, csrf, db, login_manager, migrate
    from webapp.services import passwords, videosdk_api, videosdk_keys

    _engine_options(app)
    db.init_app(app)
    _track_engines(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"),
                     render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to open that page."
    login_manager.login_message_category = "info"
    # The server-side session record carries the protection (see auth.sessions).
    login_manager.session_protection = None
    csrf.init_app(app)
    bootstrap.init_app(app)
    _init_rate_limits(app)
    passwords.init_app(app)
    videosdk_keys.init_app(app)
    videosdk_api.init_app(app)
    from webapp.api import cors
    from webapp.services import sessions  # noqa: F401  registers the user loader

    cors.init_app(app)
    _spare_the_api(app)


# The blueprints whose requests carry a bearer key and never a session (see api.authentication).
API_BLUEPRINTS = frozenset({"api", "dropin"})


def _spare_the_api(app: Flask) -> None:
    """Extension hooks with nothing to do on an API request return at once there.

    CSRF exempts the API's blueprints anyway; Flask-Login's remember cookie lives in the
    session, which the API neither reads nor writes; Flask-Limiter only counts sign-in (the
    API counts in api.authentication), so it has no limit, header or context for an API
    request. Each hook cost a few microseconds of proxies and look-ups on every mint.
    """
    from flask_limiter import Limiter

    from webapp.extensions import limiter, login_manager

    def ours(hook: Any) -> bool:
        owner = getattr(hook, "__self__", None)
        if owner is login_manager or owner is limiter:
            return True
        if isinstance(hook, partial) and hook.args[:1] == (limiter,):
            return hook.func is getattr(Limiter, "_Limiter__inject_headers", None)
        return getattr(hook, "__qualname__", "") == "CSRFProtect.init_app.<locals>.csrf_protect"

    for hooks, on_api in ((app.before_request_funcs, _none), (app.after_request_funcs, _same),
                          (app.teardown_request_funcs, _none)):
        hooks[None] = [_skipped_on_the_api(hook, on_api) if ours(hook) else hook
                       for hook in hooks.get(None, [])]


def _none(*_: Any) -> None:
    return None


def _same(response: Any) -> Any:
    return response


def _skipped_on_the_api(hook: Any, on_api: Any) -> Any:
    @wraps(hook)
    def hook_off_the_api(*args: Any) -> Any:
        if request.blueprint in API_BLUEPRINTS:
            return on_api(*args)
        return hook(*args)

    return hook_off_the_api


def _init_rate_limits(app: Flask) -> None:
    """Bind Flask-Limiter and register the probe /readyz asks whether its storage answers."""
    from webapp.extensions import limiter

    if str(app.config["RATELIMIT_STORAGE_URI"]).startswith(("redis", "rediss")):
        # A Redis that stopped answering must not hang requests or /readyz for long.
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS",
                              {"socket_connect_timeout": 2, "socket_timeout": 2})
    from webapp.api import authentication

    limiter.init_app(app)
    # This app's own storage, even when tests build several apps (none when limits are off).
    storage = limiter.storage if limiter.enabled else None
    if storage is not None:
        app.extensions["ratelimit_probe"] = lambda: bool(storage.check())
    authentication.init_app(app, storage)
    manager = limiter.limit_manager
    if not (manager.default_limits or manager.application_limits
            or limiter._meta_limits or manager._blueprint_limits):
        # Flask-Limiter's before-request hook only serves default, application and blueprint
        # limits, none of which this app sets: decorated views (sign-in) check their own
        # limit, and the API counts in api.authentication. The hook cost every request more
        # than counting does.
        hooks = app.before_request_funcs.get(None, [])
        app.before_request_funcs[None] = [
            hook for hook in hooks
            if getattr(hook, "__func__", None) is not type(limiter)._check_request_limit]


def _register_blueprints(app: Flask) -> None:
    from webapp.admin import bp as admin_bp
    from webapp.api import bp as api_bp
    from webapp.api import dropin as dropin_bp
    from webapp.auth import bp as auth_bp
    from webapp.console import bp as console_bp
    from webapp.extensions import csrf
    from webapp.health import bp as health_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(console_bp)
    app.register_blueprint(admin_bp)
    # Bearer keys, never cookies, authenticate the API: there is no session to forge.
    csrf.exempt(api_bp)
    csrf.exempt(dropin_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(dropin_bp)


def _register_cli(app: Flask) -> None:
    from webapp import cli

    cli.init_app(app)
