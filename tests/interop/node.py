"""A batch door to node's jsonwebtoken through jwt_tool.js."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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
