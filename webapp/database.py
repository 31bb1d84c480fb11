"""The database of one app: Flask-SQLAlchemy and Flask-Migrate bound, each engine tuned.

Every engine the app creates gets the per-backend settings below through SQLAlchemy's public
event API, on that engine alone (nothing is registered on the global ``Engine`` class, and
nothing happens at import).
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, event

from webapp.config import make_private
from webapp.extensions import db, migrate

MIGRATIONS = Path(__file__).parent / "migrations"


def sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """On each new SQLite connection: a private file, WAL, foreign keys, NORMAL sync.

    WAL lets readers work while one writer commits. The busy timeout, which makes a second
    writer wait instead of failing with "database is locked", is sqlite3's own ``timeout``
    (SQLITE_BUSY_TIMEOUT_MS, see _engine_options).
    """
    cursor = dbapi_connection.cursor()
    # Before WAL mode opens its -wal and -shm files, which SQLite creates with the database
    # file's permissions: the people's password hashes and the trail are the app's alone.
    for _, name, filename in cursor.execute("PRAGMA database_list").fetchall():
        if name == "main" and filename:
            make_private(filename, filename + "-wal", filename + "-shm")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def name_postgres_connections(dialect: Any, conn_rec: Any, cargs: Any, cparams: Any) -> None:
    """pg_stat_activity then says which process opened which connection: each gunicorn worker
    its own, never the master (see tests/scale)."""
    cparams.setdefault("application_name", f"token-console pid={os.getpid()}")


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


def tune(engine: Engine) -> None:
    """Register this backend's connection settings on ``engine``; remember it for forks."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", sqlite_pragmas)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "do_connect", name_postgres_connections)
    _ENGINES.add(engine)


# Every engine this process created; forgotten by a forked child (see _forget_pools).
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()
_FORK_HOOK = {"registered": False}


def _forget_pools() -> None:
    """In a forked child: drop the inherited pooled connections without closing them.

    The app is normally created in each gunicorn worker (preload_app = False). Should one be
    created before a fork anyway (--preload), the child must not talk over its parent's
    sockets, nor close them under the parent: it opens its own on first use.
    """
    for engine in list(_ENGINES):
        engine.dispose(close=False)


def init_app(app: Flask) -> None:
    """Bind Flask-SQLAlchemy and Flask-Migrate to ``app`` and tune each of its engines."""
    _engine_options(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    with app.app_context():
        for engine in db.engines.values():
            tune(engine)
    if not _FORK_HOOK["registered"]:
        os.register_at_fork(after_in_child=_forget_pools)
        _FORK_HOOK["registered"] = True
