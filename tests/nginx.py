"""Debian's nginx on loopback, configured with the README's own nginx block (SPEC 7).

The README's ``nginx`` code block is the configuration production runs; this module takes
it as written, points its ``server`` lines at the instances under test and its ``listen`` at
a free loopback port, wraps it with a pid file, logs and temporary folders inside a folder
of the test's, and runs nginx in the foreground. ``.ci/run`` installs the package.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tests.servers import ROOT, end, free_port, wait_for_healthz
from tests.support import unavailable

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
_BLOCK = re.compile(r"```nginx\n(.*?)```", re.DOTALL)
_UPSTREAM_SERVER = re.compile(r"^(\s*server )127\.0\.0\.1:800\d( .*;)$", re.MULTILINE)


def readme_configuration() -> str:
    """The README's nginx block, as written there."""
    blocks = _BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) == 1, "the README holds one nginx block"
    return str(blocks[0])


def configuration(upstreams: Sequence[str], port: int, folder: Path) -> str:
    """The whole nginx.conf: the README's block for ``upstreams`` (host:port) on ``port``."""
    block = readme_configuration()
    servers = _UPSTREAM_SERVER.findall(block)
    assert len(servers) >= len(upstreams), "the README's upstream names too few servers"
    addresses = iter(upstreams)

    def point(match: re.Match[str]) -> str:
        address = next(addresses, None)
        return f"{match.group(1)}{address}{match.group(2)}" if address else ""

    block = _UPSTREAM_SERVER.sub(point, block)
    block, listens = re.subn(r"^(\s*)listen 80;$", rf"\1listen 127.0.0.1:{port};", block,
                             flags=re.MULTILINE)
    assert listens == 1, "the README's server listens on port 80 once"
    temp = "\n".join(f"    {name}_temp_path {folder / name};"
                     for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # As root, nginx's workers would otherwise run as nobody, who cannot enter pytest's
    # private temporary folders.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return (f"{user}daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
            f"error_log {folder / 'error.log'} info;\n"
            "events { worker_connections 512; }\n"
            f"http {{\n    access_log {folder / 'access.log'};\n{temp}\n{block}}}\n")


class Nginx:
    """nginx in front of ``upstreams`` on a free loopback port, for the length of a test."""

    def __init__(self, upstreams: Sequence[str], folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.upstreams = list(upstreams)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15) -> Nginx:
        if not Path(NGINX).exists():
            unavailable("nginx is not installed (Debian's nginx package; .ci/run installs it)")
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "nginx.conf"
        conf.write_text(configuration(self.upstreams, self.port, self.folder), encoding="utf-8")
        checked = subprocess.run([NGINX, "-t", "-p", str(self.folder), "-c", str(conf),
                                  "-e", str(self.folder / "error.log")],
                                 capture_output=True, text=True, timeout=30, check=False)
        assert checked.returncode == 0, checked.stderr
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.folder), "-c", str(conf), "-e", str(self.folder / "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_healthz(self.process, self.url, timeout, self.error_log)
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        end(self.process, timeout=15)

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def access_log(self) -> str:
        path = self.folder / "access.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["Nginx", "configuration", "readme_configuration"]
