"""Two admins demoting each other at the same moment on PostgreSQL: one admin remains."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_DATABASE_URL
from tests.support import unavailable
from webapp.extensions import db
from webapp.models import User
from webapp.services.accounts import AccountError, change_role


@pytest.fixture
def pg_app(app):
    if not TEST_DATABASE_URL or not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("row locks are PostgreSQL's; this parameter runs on SQLite")
    return app


def test_simultaneous_demotions_leave_one_admin(pg_app, make_user):
    if not TEST_DATABASE_URL:
        unavailable("TEST_DATABASE_URL is not set")
    first = make_user("one@example.com", role="admin")
    second = make_user("two@example.com", role="admin")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(email: str) -> None:
        with pg_app.app_context():
            user = db.session.execute(select(User).where(User.email == email)).scalar_one()
            barrier.wait()
            try:
                change_role(user, "developer")
                db.session.commit()
                outcomes.append("demoted")
            except AccountError:
                db.session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=demote, args=(p.email,)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["demoted", "refused"]
    with pg_app.app_context():
        admins = db.session.execute(select(func.count()).select_from(User).where(
            User.role == "admin", User.active.is_(True))).scalar_one()
    assert admins == 1
