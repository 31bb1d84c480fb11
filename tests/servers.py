"""Real gunicorn processes on loopback for multi-worker and multi-instance tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_healthz(process: subprocess.Popen[bytes], url: str, timeout: float,
                     log: Callable[[], str]) -> None:
    """Until ``url``/healthz answers; RuntimeError (with the end of ``log()``) if the
    process exits first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited: {log()[-2000:]}")
        try:
            with urlopen(url + "/healthz", timeout=1):  # noqa: S310 - loopback only
                return
        except (URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"{process.args[0]} did not answer /healthz in time")


def end(process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """SIGTERM, then SIGKILL past ``timeout`` seconds; nothing if it has ended already."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def sqlite_env(tmp_path: Path, name: str, **extra: str) -> dict[str, str]:
    """The environment of a deployment on one SQLite file under ``tmp_path``."""
    from cryptography.fernet import Fernet

    return {
        "TOKEN_CONSOLE_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / (name + '.db')}",
        "SECRET_KEY": f"{name}-" + "k" * 40,
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "LOG_LEVEL": "INFO",
        **extra,
    }


def app_for(env: dict[str, str]):  # type: ignore[no-untyped-def]
    """An app in this process on the same database and secrets as ``env``'s servers."""
    from webapp import create_app

    return create_app({"INSTANCE_PATH": env["TOKEN_CONSOLE_INSTANCE_PATH"],
                       "DATABASE_URL": env["DATABASE_URL"], "SECRET_KEY": env["SECRET_KEY"],
                       "ENCRYPTION_KEYS": env["ENCRYPTION_KEYS"]})


class Gunicorn:
    """``gunicorn wsgi:app`` with the repository's config, its logs captured to files."""

    def __init__(self, env: dict[str, str], log_dir: Path, workers: int = 3,
                 name: str = "app", config: str = "gunicorn.conf.py") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Stopped at once unless a test asks for gunicorn.conf.py's drain (see there).
        self.env = {"GUNICORN_DRAIN_SECONDS": "0", **os.environ, **env}
        self.workers = workers
        self.config = config
        self.access_log = log_dir / f"{name}-access.log"
        self.error_log = log_dir / f"{name}-error.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> Gunicorn:
        command = [GUNICORN, "--config", self.config, "--bind", f"127.0.0.1:{self.port}",
                   "--workers", str(self.workers), "--access-logfile", str(self.access_log),
                   "--error-logfile", str(self.error_log), "--capture-output", "wsgi:app"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_healthz(self.process, self.url, timeout, lambda: self.error_log.read_text())
        except RuntimeError:
            self.stop()
            raise
        return self

    def signal(self, signum: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def stop(self) -> None:
        end(self.process, timeout=30)

    def logs(self) -> str:
        """Everything gunicorn and the app wrote."""
        return "".join(path.read_text(errors="replace") for path in
                       (self.access_log, self.error_log) if path.exists())

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def migrated_sqlite(folder: Path, name: str, **extra: str) -> tuple[dict[str, str], str]:
    """A SQLite deployment under ``folder``, migrated, with one key and one client far above
    any test's load: its environment (see sqlite_env) and the client's key."""
    from flask_migrate import upgrade

    from webapp.extensions import db
    from webapp.services import api_clients, videosdk_keys

    env = sqlite_env(folder, name, **extra)
    app = app_for(env)
    with app.app_context():
        upgrade(directory=str(ROOT / "webapp" / "migrations"))
        videosdk_keys.add_key("load", "load-api-key", "L" * 64)
        _, client_key = api_clients.create_client("load", ["tokens:mint"], key_labels=["load"],
                                                  rate_limit="1000000/minute")
        db.session.commit()
        db.engine.dispose()
    return env, client_key


def run_cli(env: dict[str, str], *args: str,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``flask --app webapp ARGS`` in a subprocess with ``env``."""
    return subprocess.run([str(Path(sys.executable).with_name("flask")), "--app", "webapp", *args],
                          cwd=ROOT, env={**os.environ, **env}, input=stdin, text=True,
                          capture_output=True, timeout=120, check=False)


__all__ = ["Gunicorn", "free_port", "run_cli", "signal"]
