"""The last-admin rule under concurrency (SPEC 4, 6): real gunicorn workers, two requests at
the same moment, on SQLite and on PostgreSQL. One active admin always remains.

Two active admins, then at once: one admin sends "make me developer" and "make the other
developer"; or each demotes the other; or each disables the other. Several rounds each,
since a race may need a few tries to show. Loopback only, every request bounded in time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import PASSWORD, csrf_token_from
from tests.servers import Gunicorn, app_for, run_cli, sqlite_env
from tests.support import unavailable
from webapp.extensions import db
from webapp.models import AuditEvent, User
from webapp.services.accounts import create_user

from .conftest import _fresh_schema

pytestmark = [pytest.mark.slow]

ROUNDS = 4
FIRST, SECOND = "one@example.com", "two@example.com"
# Sign-in may run once per round and person: above the per-address limit of production.
INSTANCE_SETTINGS = 'LOGIN_RATE_LIMIT = "1000/minute"\nARGON2_TIME_COST = 1\n' \
                    'ARGON2_MEMORY_COST = 8\nARGON2_PARALLELISM = 1\n'


class Site:
    """A gunicorn instance with three workers and an app on its database to arrange state."""

    def __init__(self, server: Gunicorn, app: Flask) -> None:
        self.server, self.app = server, app

    def reset(self) -> dict[str, int]:
        """Both people active admins again, with no session left; their ids."""
        with self.app.app_context():
            ids = {}
            for email in (FIRST, SECOND):
                user = db.session.execute(select(User).where(User.email == email)).scalar_one()
                user.role, user.active = "admin", True
                ids[email] = user.id
            db.session.commit()
            return ids

    def active_admins(self) -> list[str]:
        with self.app.app_context():
            return list(db.session.execute(select(User.email).where(
                User.role == "admin", User.active.is_(True))).scalars())

    def successes(self, action: str) -> int:
        with self.app.app_context():
            return db.session.execute(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == action, AuditEvent.outcome == "success")).scalar_one()

    def browser(self, email: str) -> tuple[requests.Session, str]:
        """A signed-in browser and a CSRF token of its session."""
        browser = requests.Session()
        page = browser.get(self.server.url + "/login", timeout=10)
        signed = browser.post(self.server.url + "/login", timeout=10, allow_redirects=False,
                              data={"email": email, "password": PASSWORD, "next": "",
                                    "csrf_token": csrf_token_from(page.text)})
        assert signed.status_code == 302, signed.text[-500:]
        form = browser.get(self.server.url + "/admin/users/new", timeout=10)
        return browser, csrf_token_from(form.text)


def _deploy(env: dict[str, str], root: Path, workers: int = 3) -> Iterator[Site]:
    done = run_cli(env, "db", "upgrade")
    assert done.returncode == 0, done.stderr[-2000:]
    instance = Path(env["TOKEN_CONSOLE_INSTANCE_PATH"])
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "settings.py").write_text(INSTANCE_SETTINGS)
    app = app_for(env)
    with app.app_context():
        for email in (FIRST, SECOND):
            create_user(email, PASSWORD, "admin")
        db.session.commit()
    with Gunicorn(env, root, workers=workers, name="race") as server:
        yield Site(server, app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    env = sqlite_env(tmp_path, "race")
    if request.param == "postgresql":
        # This session's own database (the main suite's too, which rebuilds it per test).
        url = os.environ.get("TEST_DATABASE_URL", "")
        if not url.startswith("postgresql"):
            unavailable("TEST_DATABASE_URL (PostgreSQL) is not set")
        _fresh_schema(url)
        env["DATABASE_URL"] = url
    yield from _deploy(env, tmp_path)


def _at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; their answers."""
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [RuntimeError("no answer")] * len(calls)

    def run(index: int) -> None:
        barrier.wait(timeout=10)
        try:
            answers[index] = calls[index]()
        except BaseException as error:  # noqa: BLE001 - reported below
            answers[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
    return answers


def _post(browser: requests.Session, url: str, data: dict[str, str]) -> Callable[[],
                                                                               requests.Response]:
    return lambda: browser.post(url, data=data, timeout=20, allow_redirects=False)


def _check_round(site: Site, answers: list[requests.Response], action: str,
                 before: int) -> None:
    assert all(answer.status_code < 500 for answer in answers), \
        [(a.status_code, a.text[-300:]) for a in answers]
    assert len(site.active_admins()) == 1, (site.active_admins(), [a.status_code
                                                                    for a in answers])
    assert site.successes(action) == before + 1


def test_one_admin_demoting_self_and_the_other_at_once(site: Site):
    role = site.server.url + "/admin/users/{}/role"
    for _ in range(ROUNDS):
        ids = site.reset()
        browser, csrf = site.browser(FIRST)
        before = site.successes("user.role_changed")
        # The confirmation page's POST (issue 19: demoting an admin asks first).
        demote = {"role": "developer", "confirmed": "yes", "csrf_token": csrf}
        answers = _at_once(_post(browser, role.format(ids[FIRST]), demote),
                           _post(browser, role.format(ids[SECOND]), demote))
        _check_round(site, answers, "user.role_changed", before)


@pytest.mark.parametrize(("path", "form", "action"), [
    # The confirmation page's POST (issue 19: demoting an admin asks first).
    ("role", {"role": "support", "confirmed": "yes"}, "user.role_changed"),
    ("disable", {}, "user.disabled"),
], ids=["demoting", "disabling"])
def test_two_admins_acting_on_each_other_at_once(site: Site, path: str, form: dict[str, str],
                                                 action: str):
    url = site.server.url + "/admin/users/{}/" + path
    for _ in range(ROUNDS):
        ids = site.reset()
        (first, first_csrf), (second, second_csrf) = site.browser(FIRST), site.browser(SECOND)
        before = site.successes(action)
        answers = _at_once(
            _post(first, url.format(ids[SECOND]), {**form, "csrf_token": first_csrf}),
            _post(second, url.format(ids[FIRST]), {**form, "csrf_token": second_csrf}))
        _check_round(site, answers, action, before)


def test_the_cli_and_a_page_disabling_the_two_admins_at_once(site: Site):
    """`users disable` in its own process and an admin's page request, released together."""
    for _ in range(2):
        ids = site.reset()
        browser, csrf = site.browser(FIRST)
        before = site.successes("user.disabled")
        page, cli = _at_once(
            _post(browser, site.server.url + f"/admin/users/{ids[SECOND]}/disable",
                  {"csrf_token": csrf}),
            lambda: run_cli(site.server.env, "users", "disable", FIRST))
        assert page.status_code < 500
        assert len(site.active_admins()) == 1, (site.active_admins(), cli.stderr[-500:])
        assert site.successes("user.disabled") == before + 1
