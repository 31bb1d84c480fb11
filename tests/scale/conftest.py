"""Several instances on one PostgreSQL database and one Redis, behind nginx, as production
runs them (SPEC 7): Debian's nginx with the README's configuration (tests/nginx.py).

Needs TEST_DATABASE_URL (a PostgreSQL server: the tests use their own database `tc_scale`
on it, created when missing, so that they never clash with the main suite's) and
TEST_REDIS_URL (the tests use the next lower database number, flushed first). Without
them the tests skip, or fail under TOKEN_CONSOLE_STRICT_TESTS=1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import requests
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import create_engine, make_url, text

from tests.conftest import csrf_token_from
from tests.nginx import Nginx
from tests.servers import Gunicorn, run_cli
from tests.support import unavailable
from webapp import create_app
from webapp.extensions import db

SCALE_DATABASE = "tc_scale"


def scale_database_url() -> str:
    """TEST_DATABASE_URL pointed at this folder's own database, created when missing."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        unavailable("TEST_DATABASE_URL (PostgreSQL) is not set: the multi-instance tests skip")
    assert base is not None
    server = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                        {"name": SCALE_DATABASE}).first()
            if exists is None:
                connection.execute(text(f'CREATE DATABASE "{SCALE_DATABASE}"'))
    finally:
        server.dispose()
    return make_url(base).set(database=SCALE_DATABASE).render_as_string(hide_password=False)


def scale_redis_url() -> str:
    """TEST_REDIS_URL on the next lower database number (15 -> 14), flushed."""
    base = os.environ.get("TEST_REDIS_URL")
    if not base:
        unavailable("TEST_REDIS_URL is not set: the multi-instance tests skip")
    assert base is not None
    scheme, _, rest = base.partition("://")
    host, _, number = rest.partition("/")
    current = int(number or 0)
    url = f"{scheme}://{host}/{current - 1 if current > 0 else 1}"
    redis.Redis.from_url(url).flushdb()
    return url


@dataclass
class Deployment:
    """Two gunicorn instances on one database and one Redis behind nginx, and the settings
    they share."""

    env: dict[str, str]
    a: Gunicorn
    b: Gunicorn
    shared: Flask  # an app on the same database, to arrange and look at stored state
    nginx: Nginx  # the load balancer in front of a and b

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """Run `flask --app webapp ARGS` against the shared database; its output."""
        done = run_cli(self.env, *args, stdin=stdin)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout


def _fresh_schema(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            # The tables of an earlier run, whatever they were, and Alembic's record of them.
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """`flask db upgrade` on a fresh tc_scale, then instances A and B, two workers each, and
    nginx in front of both."""
    database_url, redis_url = scale_database_url(), scale_redis_url()
    _fresh_schema(database_url)
    root = tmp_path_factory.mktemp("scale")
    env = {
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "SECRET_KEY": "scale-" + "s" * 40,
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "TOKEN_CONSOLE_INSTANCE_PATH": str(root / "cli-instance"),
        "LOG_LEVEL": "INFO",
    }
    done = run_cli(env, "db", "upgrade")
    assert done.returncode == 0, done.stderr[-2000:]
    shared = create_app({"INSTANCE_PATH": str(root / "test-instance"), "DATABASE_URL": database_url,
                         "RATELIMIT_STORAGE_URI": redis_url, "SECRET_KEY": env["SECRET_KEY"],
                         "ENCRYPTION_KEYS": env["ENCRYPTION_KEYS"]})
    # Each instance keeps nothing of its own but its instance folder: stateless otherwise.
    a = Gunicorn({**env, "TOKEN_CONSOLE_INSTANCE_PATH": str(root / "a")}, root, workers=2,
                 name="a")
    b = Gunicorn({**env, "TOKEN_CONSOLE_INSTANCE_PATH": str(root / "b")}, root, workers=2,
                 name="b")
    with a, b, Nginx([f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}"], root / "nginx") as proxy:
        yield Deployment(env=env, a=a, b=b, shared=shared, nginx=proxy)
    with shared.app_context():
        db.session.remove()
        db.engine.dispose()


def sign_in(server: Gunicorn, email: str, password: str) -> tuple[requests.Session,
                                                                   requests.Response]:
    """The real form on a real process: fetch /login for its CSRF token, then POST it."""
    browser = requests.Session()
    page = browser.get(server.url + "/login", timeout=10)
    assert page.status_code == 200
    response = browser.post(server.url + "/login", timeout=30, allow_redirects=False, data={
        "email": email, "password": password, "next": "",
        "csrf_token": csrf_token_from(page.text)})
    return browser, response


__all__ = ["Deployment", "Path", "sign_in"]
