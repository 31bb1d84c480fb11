"""Clients generated from the served OpenAPI document work, type-check and meet every answer.

A Python client (openapi-python-client) and a TypeScript one (openapi-typescript types with
openapi-fetch, compiled by `tsc --strict`) each mint, inspect and introspect, and handle a 401,
a 422 and a 429 from a live gunicorn on loopback, as an app team's code would (SPEC 5).
Redocly's recommended ruleset finds no error in the document.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.clients.conftest import BUILD, HERE, LIMITED_RATE, LiveApi
from tests.support import unavailable

pytestmark = [pytest.mark.slow, pytest.mark.clients]

BIN = Path(sys.executable).parent
PACKAGE = "token_console_client"
# No post-generation hooks (the default runs ruff from PATH): the output is what the
# generator itself writes, on any machine.
GENERATOR_CONFIG = "project_name_override: token-console-client\n" \
                   f"package_name_override: {PACKAGE}\npost_hooks: []\n"


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, cwd=cwd, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, (command, done.stdout[-3000:], done.stderr[-3000:])
    return done


def _expect_the_flow(seen: dict[str, Any]) -> None:
    """What both clients must have met, field by field."""
    assert seen["mint"] == {"status": 201, "expiresIn": 600, "permissions": ["allow_join"],
                            "rateLimit": "10000"}
    assert seen["again"] == 201
    assert seen["inspect"] == {"verdict": "valid", "valid": True, "summary": True,
                               "roomId": "standup-42", "reasons": ["issued_here"]}
    assert seen["introspect"] == {"scope": "allow_join", "token_type": "videosdk",
                                  "inactive": {"active": False}}
    assert all(seen["dropIn"]) and len(seen["dropIn"]) >= 2, seen["dropIn"]
    assert seen["401"] == {"status": 401, "code": True,
                           "challenge": 'Bearer error="invalid_token"'}
    assert seen["422"] == {"status": 422, "code": True, "fieldCodes": ["pattern"],
                           "pattern": True}
    limit = int(LIMITED_RATE.split("/")[0])
    assert seen["statuses"] == [200] * limit + [429]
    assert seen["429"]["code"] is True
    assert seen["429"]["remaining"] == "0"
    assert 0 <= int(seen["429"]["retryAfter"]) <= 60


def test_the_generated_python_client_type_checks_and_meets_every_answer(
        live_api: LiveApi, tmp_path: Path) -> None:
    if not (BIN / "openapi-python-client").is_file():
        unavailable("openapi-python-client is not installed (pip install -e '.[dev]')")
    config = tmp_path / "generator.yaml"
    config.write_text(GENERATOR_CONFIG)
    output = tmp_path / "generated" / PACKAGE
    generated = _run([str(BIN / "openapi-python-client"), "generate", "--path",
                      str(live_api.document_path), "--output-path", str(output), "--meta", "none",
                      "--config", str(config)], cwd=tmp_path)
    assert "Warning" not in generated.stdout + generated.stderr, generated.stdout
    models = sorted(path.stem for path in (output / "models").glob("*.py")
                    if path.stem != "__init__")
    # One model per named schema: no per-status error models, no TypeN or _item names.
    assert not [name for name in models if "response_" in name or "type_" in name
                or name.endswith("_item")], models
    assert {"problem", "claims", "diagnosis", "active_introspection", "inactive_introspection",
            "introspection_form", "drop_in_request", "drop_in_form", "permission",
            "role"} <= set(models)

    script = HERE / "use_python_client.py"
    _run([str(BIN / "mypy"), "--strict", "--no-incremental", "--python-executable",
          sys.executable, str(script), str(output)], cwd=tmp_path,
         env={"MYPYPATH": str(output.parent)})

    key = live_api.client_key("python-app")
    limited = live_api.client_key("python-limited", LIMITED_RATE)
    done = _run([sys.executable, str(script), live_api.url, key, limited], cwd=tmp_path,
                env={"PYTHONPATH": str(output.parent)})
    _expect_the_flow(json.loads(done.stdout))


def test_the_typescript_client_compiles_strictly_and_meets_every_answer(
        live_api: LiveApi, node_tools: Path) -> None:
    BUILD.mkdir(exist_ok=True)
    schema = BUILD / "schema.ts"
    _run([str(node_tools / "openapi-typescript"), str(live_api.document_path), "--output",
          str(schema)], cwd=HERE)
    types = schema.read_text()
    # The shapes a client reads are named and typed, never an empty record.
    assert "Record<string, never>;" not in types.split("export type webhooks")[0]
    assert 'code: components["schemas"]["KnownProblemCode"] | string;' in types
    compiled = subprocess.run([str(node_tools / "tsc"), "-p", str(HERE / "tsconfig.json")],
                              cwd=HERE, capture_output=True, text=True, timeout=300,
                              check=False)
    assert compiled.returncode == 0, compiled.stdout[-3000:]

    key = live_api.client_key("typescript-app")
    limited = live_api.client_key("typescript-limited", LIMITED_RATE)
    done = _run(["node", str(BUILD / "out" / "use_typescript_client.js"), live_api.url, key,
                 limited], cwd=HERE)
    _expect_the_flow(json.loads(done.stdout))


def test_redocly_recommended_ruleset_finds_no_error(live_api: LiveApi,
                                                      node_tools: Path) -> None:
    done = subprocess.run([str(node_tools / "redocly"), "lint", "--extends", "recommended",
                           "--format", "json", str(live_api.document_path)],
                          cwd=HERE, capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "REDOCLY_TELEMETRY": "off",
                               "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"})
    report = json.loads(done.stdout)
    problems = [(p["ruleId"], p["severity"], p["message"]) for p in report["problems"]]
    assert [p for p in problems if p[1] == "error"] == []
    assert done.returncode == 0, done.stderr[-2000:]
    # Warnings are not errors, but none is expected either: keep the document clean.
    assert problems == []
