"""nginx in front of the instances, as the README configures it (SPEC 7; issues 13.4, 18.3).

Real processes on loopback, each case bounded in time: nginx spreads requests over both
instances, slow clients never reach a gunicorn worker, and an instance stopped with SIGTERM
under steady load loses no request.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections import Counter

import pytest
import requests
from sqlalchemy import func, select

from tests.nginx import Nginx
from tests.servers import Gunicorn
from webapp.extensions import db
from webapp.models import ApiClient, IssuedToken

from .conftest import Deployment
from .test_two_instances import make_client, store_key

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

MINT = {"permissions": ["allow_join"], "roomId": "nginx-room"}


@pytest.fixture(scope="module")
def nginx_key(deployment: Deployment) -> str:
    store_key(deployment, "nginx", "scale-nginx-apikey", "g" * 64)
    return "nginx"


def test_nginx_spreads_mints_over_both_instances(deployment: Deployment, nginx_key):
    headers = make_client(deployment, "spread", keys=(nginx_key,), rate_limit="1000/minute")
    before = {name: server.access_log.read_text().count('"POST /api/v1/tokens')
              for name, server in (("a", deployment.a), ("b", deployment.b))}
    statuses = [requests.post(deployment.nginx.url + "/api/v1/tokens", json=MINT,
                              headers=headers, timeout=30).status_code for _ in range(8)]
    assert statuses == [201] * 8
    deadline = time.monotonic() + 5  # each access line is written after its answer
    while True:
        served = {name: server.access_log.read_text().count('"POST /api/v1/tokens')
                  - before[name] for name, server in (("a", deployment.a), ("b", deployment.b))}
        if served["a"] + served["b"] == 8 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert served["a"] + served["b"] == 8
    assert served["a"] >= 2 and served["b"] >= 2, served


def trickle(url: str, sockets: int) -> list[socket.socket]:
    """Open ``sockets`` connections that each start a request and never finish it; the test
    then sends one more header line on each every few seconds (issue 13.4's slow client)."""
    host, port = url.removeprefix("http://").split(":")
    opened = []
    for number in range(sockets):
        conn = socket.create_connection((host, int(port)), timeout=5)
        conn.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-Slow-{number}: 1\r\n".encode())
        opened.append(conn)
    return opened


def test_slow_clients_never_hold_a_worker_behind_nginx(deployment: Deployment):
    # More slow sockets than the two instances have workers (2 + 2): straight to gunicorn,
    # these would hold every worker and /healthz would not answer.
    slow = trickle(deployment.nginx.url, sockets=12)
    longest = 0.0
    failures: list[str] = []
    try:
        deadline = time.monotonic() + 9
        next_line = time.monotonic() + 2
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                answer = requests.get(deployment.nginx.url + "/healthz", timeout=5)
                if answer.status_code != 200:
                    failures.append(str(answer.status_code))
            except requests.RequestException as error:
                failures.append(type(error).__name__)
            longest = max(longest, time.monotonic() - started)
            if time.monotonic() >= next_line:
                for number, conn in enumerate(slow):
                    conn.sendall(f"X-Still-Coming-{number}: 1\r\n".encode())
                next_line += 2
            time.sleep(0.1)
    finally:
        for conn in slow:
            conn.close()
    assert failures == []
    assert longest < 2.0, f"/healthz took {longest:.2f} s behind nginx"


def test_sigterm_under_steady_load_behind_nginx_loses_no_request(deployment: Deployment,
                                                                 nginx_key, tmp_path):
    """A rolling restart's first half: one of two instances stops while clients mint."""
    headers = make_client(deployment, "rolling", keys=(nginx_key,), rate_limit="100000/minute")
    env = {**deployment.env, "GUNICORN_DRAIN_SECONDS": "2"}
    leaving = Gunicorn({**env, "TOKEN_CONSOLE_INSTANCE_PATH": str(tmp_path / "l")}, tmp_path,
                       workers=2, name="leaving").start()
    staying = Gunicorn({**env, "TOKEN_CONSOLE_INSTANCE_PATH": str(tmp_path / "s")}, tmp_path,
                       workers=2, name="staying").start()
    proxy = Nginx([f"127.0.0.1:{leaving.port}", f"127.0.0.1:{staying.port}"],
                  tmp_path / "nginx").start()
    outcomes: Counter[str] = Counter()
    stop = threading.Event()
    readiness: list[int] = []

    def client(number: int) -> None:
        session = requests.Session()
        for count in range(3000):  # bounded: the test stops it much sooner
            if stop.is_set():
                return
            try:
                answer = session.post(proxy.url + "/api/v1/tokens", headers=headers, timeout=30,
                                      json={**MINT, "roomId": f"roll-{number}-{count}"})
                outcomes[str(answer.status_code)] += 1
            except requests.RequestException as error:
                outcomes[type(error).__name__] += 1
            time.sleep(0.01)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        signalled = time.monotonic()
        leaving.signal(signal.SIGTERM)
        time.sleep(0.3)
        # Draining: readiness says so at once, while it still serves.
        readiness.append(requests.get(leaving.url + "/readyz", timeout=10).status_code)
        readiness.append(requests.get(leaving.url + "/healthz", timeout=10).status_code)
        assert leaving.process is not None
        leaving.process.wait(timeout=45)
        stopped_after = time.monotonic() - signalled
        time.sleep(1.0)  # load goes on against the remaining instance
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        proxy.stop()
        leaving.stop()
        staying.stop()
    assert readiness == [503, 200]
    assert stopped_after >= 2.0  # it drained before it stopped
    answered = outcomes["201"]
    assert answered > 50
    assert outcomes == Counter({"201": answered}), outcomes
    assert "SIGTERM: /readyz answers 503; serving 2.0 s more before stopping" in leaving.logs()
    # Each 201 has exactly one row: nothing lost, nothing made twice.
    with deployment.shared.app_context():
        client_id = db.session.execute(select(ApiClient.id).where(ApiClient.name == "rolling")
                                       ).scalar_one()
        rows = db.session.execute(select(func.count()).select_from(IssuedToken).where(
            IssuedToken.client_id == client_id)).scalar_one()
    assert rows == answered
