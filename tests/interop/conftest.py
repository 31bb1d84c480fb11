"""node jsonwebtoken for the interop tests: installed on demand, skipped (or failed) without node.

CI sets TOKEN_CONSOLE_STRICT_TESTS=1: there a missing node is a failure, never a silent skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
TOOL = HERE / "jwt_tool.js"


class NodeJwt:
    """A batch door to tests/interop/jwt_tool.js."""

    def __init__(self, node: str) -> None:
        self.node = node

    def run(self, operations: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Run the operations in one node process and return their results, in order."""
        done = subprocess.run(
            [self.node, str(TOOL)],
            input=json.dumps(list(operations)),
            capture_output=True,
            text=True,
            cwd=HERE,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"jwt_tool.js failed: {done.stderr.strip()}")
        results: list[dict[str, Any]] = json.loads(done.stdout)
        return results

    def sign(self, payload: object, secret: str, **options: object) -> str:
        """One token signed by jsonwebtoken (prefer batching through run())."""
        (result,) = self.run(
            [{"op": "sign", "payload": payload, "secret": secret, "options": options}]
        )
        if "token" not in result:
            raise RuntimeError(result)
        return str(result["token"])


def _unavailable(reason: str) -> None:
    if os.environ.get("TOKEN_CONSOLE_STRICT_TESTS") == "1":
        pytest.fail(f"{reason} (TOKEN_CONSOLE_STRICT_TESTS=1: interop must run, not skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def node_jwt() -> NodeJwt:
    """node's jsonwebtoken 9, `npm ci`-installed from package-lock.json when missing."""
    node = shutil.which("node")
    if node is None:
        _unavailable("node is not installed: the jsonwebtoken interop tests need Node.js 18+")
        raise AssertionError("unreachable")
    if not (HERE / "node_modules" / "jsonwebtoken" / "package.json").is_file():
        npm = shutil.which("npm")
        if npm is None:
            _unavailable("npm is not installed: cannot install jsonwebtoken for the interop tests")
            raise AssertionError("unreachable")
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
