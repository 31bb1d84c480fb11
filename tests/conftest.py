"""Fixtures: the app on each database backend, its clients, and people of each role."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from tests.support import create_schema, login
from webapp import create_app
from webapp.extensions import db
from webapp.models import User
from webapp.services.accounts import create_user

PASSWORD = "correct horse battery staple"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if TEST_DATABASE_URL else ["sqlite"]


def postgres_reachable(url: str) -> bool:
    """Whether the PostgreSQL at ``url`` answers."""
    try:
        with create_engine(url).connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except OperationalError:
        return False


def base_config(tmp_path, database_url: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Settings for a test app: fast hashing, CSRF off, its own instance folder."""
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key-not-for-production",
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 8,
        "ARGON2_PARALLELISM": 1,
        "RATELIMIT_STORAGE_URI": "memory://",
        # No test reaches the real VideoSDK: those that call its REST API start a stand-in
        # (tests/videosdk_standin.py) and point this at it.
        "VIDEOSDK_API_ENDPOINT": "",
    }


def drop_everything() -> None:
    """Drop every table, Alembic's bookkeeping included (PostgreSQL outlives a test)."""
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(params=_backends())
def app(request: pytest.FixtureRequest, tmp_path) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """The app with an empty schema on SQLite, and on PostgreSQL where TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
    else:
        assert TEST_DATABASE_URL is not None
        url = TEST_DATABASE_URL
    overrides: dict[str, object] = {}
    marker = request.node.get_closest_marker("app_config")
    if marker is not None:
        overrides = {**overrides, **marker.kwargs}
    application = create_app({**base_config(tmp_path, url), **overrides})
    with application.app_context():
        drop_everything()
        create_schema()
    # No app context stays pushed: each request then gets its own, as in
    # production, and tests open one (`with app.app_context()`) to look inside.
    yield application
    with application.app_context():
        db.session.remove()
        drop_everything()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    role: str
    password: str = PASSWORD


@pytest.fixture
def make_user(app: Flask) -> Callable[..., Person]:
    """Create a person directly in the database."""

    def make(email: str | None = None, role: str = "developer", password: str = PASSWORD,
             active: bool = True) -> Person:
        email = email or f"{role}@example.com"
        with app.app_context():
            user = create_user(email, password, role)
            user.active = active
            db.session.commit()
            return Person(id=user.id, email=user.email, role=role, password=password)

    return make


@pytest.fixture
def sign_in(app: Flask, make_user: Callable[..., Person]) -> Callable[[str], FlaskClient]:
    """A fresh test client signed in as a new person of ``role``."""

    def signed_in(role: str) -> FlaskClient:
        person = make_user(f"{role}-{os.urandom(3).hex()}@example.com", role)
        browser = app.test_client()
        response = login(browser, person.email, person.password)
        assert response.status_code == 302, response.get_data(as_text=True)
        browser.person = person  # type: ignore[attr-defined]
        return browser

    return signed_in


@pytest.fixture
def admin_client(sign_in: Callable[[str], FlaskClient]) -> FlaskClient:
    return sign_in("admin")


@pytest.fixture
def developer_client(sign_in: Callable[[str], FlaskClient]) -> FlaskClient:
    return sign_in("developer")


@pytest.fixture
def support_client(sign_in: Callable[[str], FlaskClient]) -> FlaskClient:
    return sign_in("support")


def csrf_token_from(html: str) -> str:
    """The CSRF token embedded in a rendered form."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no csrf_token in the page"
    return match.group(1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "app_config(**settings): extra settings for the app fixture")


__all__ = ["PASSWORD", "Person", "User", "csrf_token_from", "postgres_reachable"]


@pytest.fixture
def keys_undecryptable(app: Flask, tmp_path) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """A second app on the same database whose ENCRYPTION_KEYS cannot open the stored secrets,
    as after an operator lost or replaced them without rotating."""
    other = create_app({**base_config(tmp_path / "lost-keys", app.config["DATABASE_URL"]),
                        "ENCRYPTION_KEYS": Fernet.generate_key().decode()})
    yield other
    with other.app_context():
        db.engine.dispose()
