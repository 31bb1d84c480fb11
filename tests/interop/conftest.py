"""node jsonwebtoken for the interop tests: installed on demand, skipped (or failed) without node.

CI sets TOKEN_CONSOLE_STRICT_TESTS=1: there a missing node is a failure, never a silent skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import NoReturn

import pytest

from tests.interop.node import HERE, NodeJwt


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("TOKEN_CONSOLE_STRICT_TESTS") == "1":
        pytest.fail(f"{reason} (TOKEN_CONSOLE_STRICT_TESTS=1: interop must run, not skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def node_jwt() -> NodeJwt:
    """node's jsonwebtoken 9, `npm ci`-installed from package-lock.json when missing."""
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not installed: the jsonwebtoken interop tests need Node.js 18+")
    if not (HERE / "node_modules" / "jsonwebtoken" / "package.json").is_file():
        npm = shutil.which("npm")
        if npm is None:
            _unavailable("npm is not installed: cannot install jsonwebtoken for the interop tests")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            _unavailable(f"npm ci failed in {HERE}: {done.stderr.strip()[-500:]}")
    installed = json.loads((HERE / "node_modules" / "jsonwebtoken" / "package.json").read_text())
    assert str(installed["version"]).startswith("9."), installed["version"]
    tool = NodeJwt(node)
    (smoke,) = tool.run([{"op": "decode", "token": "not a token"}])
    if smoke.get("error") != "null":
        raise RuntimeError(f"jwt_tool.js is not working: {smoke}")
    return tool
