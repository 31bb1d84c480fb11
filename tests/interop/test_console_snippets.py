"""The console's node snippet runs under node's jsonwebtoken and signs the same claims."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.console.test_snippets import CLAIMS, SECRET, check_signed
from webapp.console import snippets

NODE_MODULES = Path(__file__).resolve().parent / "node_modules"


def test_the_node_snippet_signs_the_same_claims(node_jwt):
    code = snippets.node(CLAIMS, "90m")
    result = subprocess.run([node_jwt.node, "-e", code], capture_output=True, text=True,
                            check=True, env={**os.environ, "VIDEOSDK_SECRET_KEY": SECRET,
                                             "NODE_PATH": str(NODE_MODULES)})
    check_signed(result.stdout.strip())
