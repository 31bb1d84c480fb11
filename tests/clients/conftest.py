"""A live server and the generators' toolchains for the generated-client tests.

node and npm are needed for the TypeScript client and Redocly; without them those tests skip,
and fail under TOKEN_CONSOLE_STRICT_TESTS=1 (CI), as the interop tests do.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.request import urlopen

import pytest

from tests.servers import Gunicorn, app_for, run_cli, sqlite_env
from tests.support import unavailable
from webapp.extensions import db
from webapp.services import api_clients

HERE = Path(__file__).parent
BUILD = HERE / "build"
SCOPES = ["tokens:mint", "tokens:inspect"]
# The limited client's quota: the scripts spend it and must then meet a 429.
LIMITED_RATE = "3/minute"


@dataclass(frozen=True)
class LiveApi:
    """A gunicorn serving the app on loopback, and the document it serves."""

    url: str
    env: dict[str, str]
    document_path: Path

    def client_key(self, name: str, rate_limit: str = "10000/minute") -> str:
        """A new client with both scopes and the only key; its plaintext key."""
        app = app_for(self.env)
        with app.app_context():
            _, key = api_clients.create_client(name, SCOPES, rate_limit=rate_limit)
            db.session.commit()
            db.engine.dispose()
        return key


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    """One gunicorn worker on a fresh SQLite database seeded with one VideoSDK key."""
    tmp_path = tmp_path_factory.mktemp("clients")
    env = sqlite_env(tmp_path, "clients", VIDEOSDK_API_KEY="clients-apikey",
                     VIDEOSDK_SECRET_KEY="5c" * 32)
    setup = run_cli(env, "setup")
    assert setup.returncode == 0, setup.stderr
    with Gunicorn(env, tmp_path, workers=1, name="clients") as server:
        with urlopen(server.url + "/api/v1/openapi.json", timeout=10) as answer:  # noqa: S310
            document = json.load(answer)
        path = tmp_path / "openapi.json"
        path.write_text(json.dumps(document, indent=1))
        yield LiveApi(server.url, env, path)


@pytest.fixture(scope="session")
def node_tools() -> Path:
    """tests/clients/node_modules, `npm ci`-installed from package-lock.json when missing."""
    if shutil.which("node") is None:
        unavailable("node is not installed: the TypeScript client and Redocly need Node.js 20+")
    marker = HERE / "node_modules" / ".package-lock.json"
    lock = HERE / "package-lock.json"
    if not marker.is_file() or marker.stat().st_mtime < lock.stat().st_mtime:
        npm = shutil.which("npm")
        if npm is None:
            unavailable("npm is not installed: cannot install the TypeScript toolchain")
        assert npm is not None
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE,
                              capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            unavailable(f"npm ci failed in {HERE}: {done.stderr.strip()[-500:]}")
    return HERE / "node_modules" / ".bin"
