"""The gunicorn settings of the repository: sizing, timeouts, and an access log with no secret."""

from __future__ import annotations

import re
import runpy
import subprocess
from pathlib import Path

import pytest
import requests

from tests.servers import Gunicorn

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def settings(monkeypatch: pytest.MonkeyPatch, **environ: str) -> dict[str, object]:
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "GUNICORN_TIMEOUT",
                 "GUNICORN_MAX_REQUESTS", "GUNICORN_DRAIN_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_workers_follow_the_cores_unless_told(monkeypatch):
    monkeypatch.setattr("multiprocessing.cpu_count", lambda: 4)
    assert settings(monkeypatch)["workers"] == 5
    assert settings(monkeypatch, WEB_CONCURRENCY="3")["workers"] == 3


def test_timeouts_graceful_restart_and_no_preload(monkeypatch):
    conf = settings(monkeypatch, GUNICORN_MAX_REQUESTS="1000")
    assert (conf["timeout"], conf["graceful_timeout"], conf["keepalive"]) == (30, 30, 5)
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (1000, 100)
    assert conf["preload_app"] is False
    assert conf["control_socket_disable"] is True


def test_the_access_log_format_holds_no_query_string_and_no_header(monkeypatch):
    fmt = str(settings(monkeypatch)["access_log_format"])
    atoms = set(re.findall(r"%\((\{?[^)]*)\)s", fmt))
    assert "U" in atoms
    # r (request line), q (query), i/o headers ({name}i), cookies, environ: none of them.
    assert atoms.isdisjoint({"r", "q", "a", "f"})
    assert not any(atom.startswith("{") for atom in atoms)


@pytest.mark.slow
def test_a_token_in_a_query_string_never_reaches_the_access_log(tmp_path):
    env = {"TOKEN_CONSOLE_INSTANCE_PATH": str(tmp_path / "instance"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'log.db'}", "SECRET_KEY": "log-" + "k" * 40}
    secret = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJl"
    with Gunicorn(env, tmp_path, workers=1, name="log") as server:
        answer = requests.get(f"{server.url}/healthz?token={secret}&key=tck_x", timeout=10,
                              headers={"Authorization": "Bearer tck_leak"})
        assert answer.status_code == 200
        server.stop()
        access = server.access_log.read_text()
    assert '"GET /healthz HTTP/1.1" 200' in access
    assert secret not in access and "token=" not in access and "tck_" not in access


def test_sigterm_drains_a_few_seconds_unless_told(monkeypatch):
    assert settings(monkeypatch)["drain_seconds"] == 5.0
    assert settings(monkeypatch, GUNICORN_DRAIN_SECONDS="0")["drain_seconds"] == 0.0
    conf = settings(monkeypatch)
    assert callable(conf["on_starting"]) and callable(conf["when_ready"])


def test_make_run_binds_to_loopback_and_says_so():
    done = subprocess.run(["make", "-n", "run"], cwd=CONF.parent, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "--bind 127.0.0.1:5000 wsgi:app" in done.stdout
    assert "Serving on http://127.0.0.1:5000/ (loopback only:" in done.stdout
