"""How long SIGHUP stops the answers, and how a worker's start-up time divides (issue 18.4).

gunicorn stops the old workers as soon as it has forked the new ones, so for as long as a new
worker takes to import the app and build it, no one answers. This starts gunicorn (3 workers,
SQLite) with a config file, keeps two clients asking /healthz back to back, sends SIGHUP a
few times and prints the longest pause between two answers after each; then it times one
worker's start-up in pieces, with and without the libraries the master preloads.

    .venv/bin/python bench/restarts.py                      # this repository's gunicorn.conf.py
    .venv/bin/python bench/restarts.py /tmp/old.conf.py     # another one, to compare
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import Gunicorn, run_cli, sqlite_env  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_HUP_ROUNDS", "3"))
STARTUP = """
import time
started = time.perf_counter()
{preload}
libraries = time.perf_counter()
import webapp
imported = time.perf_counter()
webapp.create_app()
built = time.perf_counter()
print(f"{{libraries - started:.3f}} {{imported - libraries:.3f}} {{built - imported:.3f}}")
"""


def longest_pauses(config: str, folder: Path) -> list[float]:
    folder.mkdir(parents=True, exist_ok=True)
    env = sqlite_env(folder, "hup")
    done = run_cli(env, "db", "upgrade")
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    server = Gunicorn(env, folder, workers=3, config=config).start()
    pauses = []
    try:
        for _ in range(ROUNDS):
            answered: list[float] = []
            failed: list[str] = []
            stop = threading.Event()
            clients = [threading.Thread(target=_ask, args=(server.url, stop, answered, failed))
                       for _ in range(2)]
            for client in clients:
                client.start()
            time.sleep(1.0)
            sent = time.monotonic()
            server.signal(signal.SIGHUP)
            time.sleep(6.0)
            stop.set()
            for client in clients:
                client.join(timeout=30)
            after = sorted(moment for moment in answered if moment >= sent - 0.5)
            pauses.append(max(b - a for a, b in zip(after, after[1:], strict=False)))
            if failed:
                raise SystemExit(f"requests failed during SIGHUP: {failed}")
            time.sleep(1.0)
    finally:
        server.stop()
    return pauses


def _ask(url: str, stop: threading.Event, answered: list[float], failed: list[str]) -> None:
    """GET /healthz back to back until ``stop``, noting when each answer came."""
    session = requests.Session()
    while not stop.is_set():
        try:
            session.get(url + "/healthz", timeout=30)
            answered.append(time.monotonic())
        except requests.RequestException as error:
            failed.append(type(error).__name__)


def startup_pieces(folder: Path, preload: str) -> tuple[float, float, float]:
    """(libraries, import webapp, create_app) in seconds, in a fresh interpreter."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **sqlite_env(folder, "start")}
    done = subprocess.run([sys.executable, "-c", STARTUP.format(preload=preload)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=True)
    pieces = [float(value) for value in done.stdout.split()]
    return pieces[0], pieces[1], pieces[2]


def main() -> None:
    config = sys.argv[1] if len(sys.argv) > 1 else "gunicorn.conf.py"
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        pauses = longest_pauses(config, folder / "hup")
        print(f"{config}: longest pause after SIGHUP, {ROUNDS} rounds: "
              + ", ".join(f"{pause:.2f} s" for pause in pauses))
        import runpy

        libraries = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["PRELOADED_LIBRARIES"]
        preload = "\n".join(f"import {name}" for name in libraries if name != "psycopg")
        cold = startup_pieces(folder / "cold", preload)
        print("one worker from nothing: libraries {:.2f} s, webapp {:.2f} s, create_app {:.2f} s"
              .format(*cold))


if __name__ == "__main__":
    main()
