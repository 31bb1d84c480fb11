"""Each worker opens its own database connections, after the fork; none is inherited."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from tests.conftest import base_config
from tests.servers import Gunicorn
from tests.support import unavailable
from webapp import create_app
from webapp.extensions import db

from .conftest import Deployment

pytestmark = [pytest.mark.slow]


def children_of(pid: int) -> set[int]:
    return {int(child) for child in
            Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


@pytest.mark.postgres
@pytest.mark.redis
def test_every_connection_is_opened_by_a_worker_never_by_the_master(deployment: Deployment,
                                                                    tmp_path):
    server = Gunicorn({**deployment.env, "TOKEN_CONSOLE_INSTANCE_PATH": str(tmp_path / "w")},
                      tmp_path, workers=2, name="workers").start()
    try:
        assert server.process is not None
        master = server.process.pid
        workers = children_of(master)
        assert len(workers) == 2
        # Busy enough that both workers answer: /readyz asks the database every time.
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(
                lambda _: requests.get(server.url + "/readyz", timeout=10).status_code,
                range(80)))
        assert set(statuses) == {200}
        with deployment.shared.app_context():
            names = db.session.execute(text(
                "SELECT application_name FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name LIKE 'token-console pid=%'"
            )).scalars().all()
        openers = {int(name.rpartition("=")[2]) for name in names}
        openers.discard(os.getpid())  # this test's own connection
        ours = openers & ({master} | workers)
        assert ours == workers, (names, master, workers)
    finally:
        server.stop()


def _child_report(app, write_fd: int) -> None:  # type: ignore[no-untyped-def]
    try:
        with app.app_context():
            inherited = db.engine.pool.checkedin()
            if db.engine.dialect.name == "postgresql":
                backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            else:
                backend = id(db.session.connection().connection.dbapi_connection)
            db.session.remove()
        os.write(write_fd, json.dumps({"inherited": inherited, "backend": backend}).encode())
    finally:
        os._exit(0)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents_alone(tmp_path, backend):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'fork.db'}"
    else:
        url = os.environ.get("TEST_DATABASE_URL", "")
        if not url.startswith("postgresql"):
            unavailable("TEST_DATABASE_URL (PostgreSQL) is not set: fork test on SQLite only")
    app = create_app(base_config(tmp_path, url))
    with app.app_context():
        if backend == "postgresql":
            parent_backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        else:
            db.session.execute(text("SELECT 1"))
            parent_backend = id(db.session.connection().connection.dbapi_connection)
        db.session.remove()
        assert db.engine.pool.checkedin() == 1  # pooled, as gunicorn --preload would leave it
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _child_report(app, write_fd)
        os.close(write_fd)
        _, status = os.waitpid(pid, 0)
        report = json.loads(os.read(read_fd, 4096))
        os.close(read_fd)
        assert status == 0
        assert report["inherited"] == 0
        if backend == "postgresql":
            assert report["backend"] != parent_backend
        # The parent's own connection still works: the child did not close it under it.
        assert db.session.execute(text("SELECT 1")).scalar_one() == 1
        if backend == "postgresql":
            assert db.session.execute(text("SELECT pg_backend_pid()")).scalar_one() == (
                parent_backend)
        db.session.remove()
        db.engine.dispose()
