"""Faults against real gunicorn processes: storage that fails answers 503, readiness tells the
truth, and the rate-limit fallback is logged (SPEC 5, 7; issue 18).

Every case is bounded in time and stays on loopback. The full disk is a small tmpfs this
test mounts and unmounts (root only).
"""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from tests.servers import Gunicorn, app_for, free_port, migrated_sqlite, sqlite_env
from tests.support import trail_lines, unavailable
from webapp.extensions import db
from webapp.models import IssuedToken
from webapp.services.api_clients import generate_client_key

pytestmark = pytest.mark.slow

MINT = {"permissions": ["allow_join"], "roomId": "fault-room"}


@dataclass
class Site:
    """A migrated SQLite deployment: its environment, a client key, and an app to look in."""

    env: dict[str, str]
    headers: dict[str, str]
    database: Path

    def recorded(self) -> tuple[int, int]:
        """(issued-token rows, token.minted audit lines)."""
        app = app_for(self.env)
        with app.app_context():
            tokens = db.session.execute(select(func.count()).select_from(IssuedToken)
                                        ).scalar_one()
            minted = len(trail_lines("token.minted"))
            db.session.remove()
            db.engine.dispose()
        return tokens, minted


def make_site(folder: Path, **extra: str) -> Site:
    env, client_key = migrated_sqlite(folder, "faults", **extra)
    return Site(env=env, headers={"Authorization": f"Bearer {client_key}"},
                database=folder / "faults.db")


_MINTS = itertools.count()


def mint(url: str, headers: dict[str, str]) -> requests.Response:
    # Each mint asks for its own participant: two identical mints in the same second sign the
    # very same token, which is one issued-token row (per issuer) however often it is minted.
    body = {**MINT, "participantId": f"p{next(_MINTS)}"}
    return requests.post(url + "/api/v1/tokens", json=body, headers=headers, timeout=30)


def assert_503_problem(answer: requests.Response, retry_after: str) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["code"] == "service_unavailable"
    assert answer.headers["Retry-After"] == retry_after


def test_a_mint_while_another_connection_holds_the_write_lock_answers_503(tmp_path):
    site = make_site(tmp_path)
    with Gunicorn(site.env, tmp_path, workers=1) as server:
        assert mint(server.url, site.headers).status_code == 201
        before = site.recorded()
        holder = sqlite3.connect(site.database, timeout=0, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            answer = mint(server.url, site.headers)
            waited = time.monotonic() - started
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        # The busy timeout (5 s by default) and no longer: then 503, not 500.
        assert 4.5 < waited < 15
        assert_503_problem(answer, "1")
        assert site.recorded() == before
        assert mint(server.url, site.headers).status_code == 201
        server.stop()
        logs = server.logs()
    assert logs.count("storage fault: database locked past the busy timeout on "
                      "POST /api/v1/tokens; answered 503") == 1
    assert "unhandled" not in logs and "fault-room" not in logs


def test_postgresql_unreachable_answers_503_and_readyz_503(tmp_path):
    env = sqlite_env(tmp_path, "none")
    env["DATABASE_URL"] = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"
    # A well-formed key, which only the database can say is unknown.
    headers = {"Authorization": f"Bearer {generate_client_key()}"}
    with Gunicorn(env, tmp_path, workers=1) as server:
        assert_503_problem(mint(server.url, headers), "5")
        assert_503_problem(requests.get(server.url + "/get-token", headers=headers, timeout=30),
                           "5")
        ready = requests.get(server.url + "/readyz", timeout=30)
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "unavailable"
        page = requests.post(server.url + "/login", timeout=30, data={
            "email": "who@example.com", "password": "not a real password"})
        assert page.status_code in (400, 503)  # CSRF refuses first, or storage does
        assert requests.get(server.url + "/healthz", timeout=30).status_code == 200
        server.stop()
        logs = server.logs()
    assert "storage fault: database unreachable on POST /api/v1/tokens; answered 503" in logs
    assert "unhandled" not in logs and "tck_" not in logs


@contextmanager
def small_filesystem(folder: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``folder`` for the block (root only)."""
    if os.geteuid() != 0:
        unavailable("mounting a small tmpfs needs root: the full-disk test skips")
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                              str(folder)], capture_output=True, text=True, timeout=30,
                             check=False)
    if mounted.returncode != 0:
        unavailable(f"cannot mount a tmpfs here ({mounted.stderr.strip()}): the full-disk "
                    "test skips")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], capture_output=True, timeout=30,
                       check=False)


def fill(folder: Path) -> Path:
    """Write a file until the filesystem under ``folder`` has no block left."""
    filler = folder / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 512):
            try:
                while True:
                    os.write(descriptor, b"\0" * size)
            except OSError:
                pass  # ENOSPC: on to smaller writes, then done
    finally:
        os.close(descriptor)
    return filler


def test_a_full_disk_turns_readiness_503_until_space_returns(tmp_path):
    with small_filesystem(tmp_path / "disk") as disk:
        site = make_site(disk)
        with Gunicorn(site.env, tmp_path, workers=2) as server:
            assert mint(server.url, site.headers).status_code == 201
            assert requests.get(server.url + "/readyz", timeout=30).status_code == 200
            filler = fill(disk)
            answers = [mint(server.url, site.headers) for _ in range(5)]
            statuses = [answer.status_code for answer in answers]
            assert 503 in statuses and set(statuses) <= {201, 503}, statuses
            for answer in answers:
                if answer.status_code == 503:
                    assert_503_problem(answer, "5")
            # Every worker says so (the state is shared), not only the one that failed.
            probes = [requests.get(server.url + "/readyz", timeout=30) for _ in range(6)]
            assert [probe.status_code for probe in probes] == [503] * 6
            assert probes[0].json()["checks"]["writes"].startswith("failing")
            assert probes[0].json()["checks"]["database"] == "ok"

            filler.unlink()
            deadline = time.monotonic() + 10
            while requests.get(server.url + "/readyz", timeout=30).status_code != 200:
                assert time.monotonic() < deadline, "readiness did not come back"
                time.sleep(0.3)
            assert mint(server.url, site.headers).status_code == 201
            server.stop()
            logs = server.logs()
        # Every 201 has its row and its audit line; no 503 left one.
        tokens, minted = site.recorded()
        assert tokens == minted == 2 + statuses.count(201)
    assert "storage fault: database cannot be written" in logs
    assert "unhandled" not in logs


@contextmanager
def redis_server(port: int, folder: Path) -> Iterator[subprocess.Popen[bytes]]:
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not installed: the fallback-warning test skips")
    assert binary is not None
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                             timeout=5, check=False).stdout.strip() != b"PONG":
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_rate_limit_fallback_is_logged_once_per_outage_and_on_recovery(tmp_path):
    port = free_port()
    site = make_site(tmp_path, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}/0")
    warning = "Rate limit storage unreachable - falling back to in-memory storage"
    with redis_server(port, tmp_path):
        server = Gunicorn(site.env, tmp_path, workers=1).start()
        assert mint(server.url, site.headers).status_code == 201
    try:
        # Redis gone: minting goes on, counted in memory, and the log says so once.
        statuses = [mint(server.url, site.headers).status_code for _ in range(4)]
        assert statuses == [201] * 4
        assert requests.get(server.url + "/readyz", timeout=30).status_code == 503
        assert server.logs().count(warning) == 1
        with redis_server(port, tmp_path):
            time.sleep(5.5)  # the fallback looks at Redis again every 5 s
            assert mint(server.url, site.headers).status_code == 201
            assert requests.get(server.url + "/readyz", timeout=30).status_code == 200
            server.stop()
    finally:
        server.stop()
    logs = server.logs()
    assert logs.count(warning) == 1
    assert logs.count("Rate limit storage recovered") == 1
