"""Several gunicorn workers on one SQLite file: no error, no lost row, graceful signals."""

from __future__ import annotations

import json
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

import pytest
from sqlalchemy import func, select

from tests.servers import Gunicorn, app_for, migrated_sqlite
from tests.support import trail_lines
from webapp.extensions import db
from webapp.models import IssuedToken

pytestmark = pytest.mark.slow


@pytest.fixture
def deployment(tmp_path):
    """A migrated SQLite file with a key and a client above any load; env and client key."""
    env, client_key = migrated_sqlite(tmp_path, "shared")
    return app_for(env), env, client_key


def mint(url: str, client_key: str, room: str) -> int:
    body = json.dumps({"permissions": ["allow_join"], "roomId": room}).encode()
    request = Request(url + "/api/v1/tokens", data=body, method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {client_key}"})
    try:
        with urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            return int(response.status)
    except HTTPError as error:
        return int(error.code)


def stored(app) -> tuple[int, int]:
    with app.app_context():
        tokens = db.session.execute(select(func.count()).select_from(IssuedToken)).scalar_one()
        audited = len(trail_lines("token.minted", outcome="success"))
        db.engine.dispose()
    return tokens, audited


def test_200_concurrent_mints_lose_no_row(deployment, tmp_path):
    app, env, client_key = deployment
    with Gunicorn(env, tmp_path, workers=4) as server:
        with ThreadPoolExecutor(max_workers=40) as pool:
            statuses = list(pool.map(lambda i: mint(server.url, client_key, f"room-{i}"),
                                     range(200)))
        logs = server.logs()
    assert statuses == [201] * 200
    assert stored(app) == (200, 200)
    assert "database is locked" not in logs
    assert client_key not in logs


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_signals_under_load_give_no_5xx(deployment, tmp_path, signum):
    app, env, client_key = deployment
    server = Gunicorn(env, tmp_path, workers=3).start()
    statuses: list[int] = []
    refused: list[str] = []
    stop = threading.Event()

    def hammer(worker: int) -> None:
        count = 0
        while not stop.is_set() and count < 400:
            count += 1
            try:
                statuses.append(mint(server.url, client_key, f"r{worker}-{count}"))
            except (URLError, ConnectionError):
                refused.append("refused")  # the socket closed after SIGTERM: not an answer
                time.sleep(0.05)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(6)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        server.signal(signum)
        time.sleep(2.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        server.stop()
    assert statuses, "no request was answered"
    assert [s for s in statuses if s >= 500] == []
    assert set(statuses) == {201}
    if signum == signal.SIGHUP:
        assert refused == []
    tokens, audited = stored(app)
    assert tokens == audited == len(statuses)
