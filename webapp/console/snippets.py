"""Ready-to-run snippets that mint the same token elsewhere: the JSON API, node and Python.

They carry the claims and the lifetime, never a secret or the token: secrets come from the
environment variables VideoSDK's own examples use.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

# The claims a signer adds by itself; the snippets ask for the rest.
_SIGNER_CLAIMS = ("iat", "exp")
_API_FIELDS = ("apikey", "permissions", "roles", "roomId", "participantId")


@dataclass(frozen=True)
class Snippet:
    """One snippet: its tab name, language and text."""

    name: str
    language: str
    text: str


def _object_literal(values: Mapping[str, object], indent: str,
                    extra: tuple[str, ...] = ()) -> str:
    """An object literal, one claim a line with its value on that line: JSON, JS and Python."""
    # The values are text, lists of text and the integer 2, which the three write alike.
    lines = [f"{indent}{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
             for k, v in values.items()]
    lines.extend(f"{indent}{line}" for line in extra)
    return "{\n" + ",\n".join(lines) + ",\n}"


def payload_of(claims: Mapping[str, object]) -> dict[str, object]:
    """The claims a signer is asked to sign: all but iat and exp, which it adds."""
    return {k: v for k, v in claims.items() if k not in _SIGNER_CLAIMS}


def api_body(claims: Mapping[str, object], lifetime: str) -> dict[str, object]:
    """The body of POST /api/v1/tokens that asks for the same token (version is implied)."""
    body: dict[str, object] = {k: claims[k] for k in _API_FIELDS if k in claims}
    body["expiresIn"] = lifetime
    return body


def curl(api_url: str, claims: Mapping[str, object], lifetime: str) -> str:
    """curl against the JSON API, authenticated with $TOKEN_CONSOLE_CLIENT_KEY."""
    body = json.dumps(api_body(claims, lifetime), ensure_ascii=False)
    return (
        f"curl -sS -X POST {shlex.quote(api_url)} \\\n"
        '  -H "Authorization: Bearer $TOKEN_CONSOLE_CLIENT_KEY" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d {shlex.quote(body)}\n"
    )


def node(claims: Mapping[str, object], lifetime: str) -> str:
    """node's jsonwebtoken signing the same payload with process.env.VIDEOSDK_SECRET_KEY."""
    payload = _object_literal(payload_of(claims), "  ")
    # The lifetime comes from format_lifetime: digits and a unit, safe inside quotes.
    return (
        "// npm install jsonwebtoken\n"
        "const jwt = require('jsonwebtoken');\n"
        "\n"
        f"const payload = {payload};\n"
        "\n"
        "const token = jwt.sign(payload, process.env.VIDEOSDK_SECRET_KEY, "
        f"{{ algorithm: 'HS256', expiresIn: '{lifetime}' }});\n"
        "console.log(token);\n"
    )


def python(claims: Mapping[str, object], seconds: int) -> str:
    """PyJWT signing the same payload with os.environ["VIDEOSDK_SECRET_KEY"]."""
    payload = _object_literal(payload_of(claims), "    ",
                              extra=('"iat": now', f'"exp": now + {seconds}'))
    return (
        "# pip install PyJWT\n"
        "import os\n"
        "import time\n"
        "\n"
        "import jwt\n"
        "\n"
        "now = int(time.time())\n"
        f"payload = {payload}\n"
        'token = jwt.encode(payload, os.environ["VIDEOSDK_SECRET_KEY"], algorithm="HS256")\n'
        "print(token)\n"
    )


def all_snippets(api_url: str, claims: Mapping[str, object], lifetime: str,
                 seconds: int) -> tuple[Snippet, ...]:
    """The three snippets of the result page, in the order shown."""
    return (
        Snippet("curl (JSON API)", "shell", curl(api_url, claims, lifetime)),
        Snippet("node (jsonwebtoken)", "javascript", node(claims, lifetime)),
        Snippet("Python (PyJWT)", "python", python(claims, seconds)),
    )
