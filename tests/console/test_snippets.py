"""The result page's snippets run, and sign the token the console signed."""

from __future__ import annotations

import os
import subprocess
import sys

from webapp.console import snippets
from webapp.tokens import KnownKey, diagnose

SECRET = "0d" * 32
CLAIMS = {"apikey": "key-1", "permissions": ["allow_join", "allow_mod"], "version": 2,
          "roomId": "it's a room", "participantId": "jane", "roles": ["rtc"],
          "iat": 1_700_000_000, "exp": 1_700_005_400}


def check_signed(token: str) -> None:
    """The snippet's token carries CLAIMS, 90 minutes apart, signed with SECRET."""
    diagnosis = diagnose(token, keys=[KnownKey("k", "key-1", SECRET)])
    assert diagnosis.verdict == "valid", diagnosis.report()
    assert diagnosis.claims is not None
    claims = dict(diagnosis.claims)
    assert claims.pop("exp") - claims.pop("iat") == 5400
    assert claims == {k: v for k, v in CLAIMS.items() if k not in ("iat", "exp")}


def test_the_python_snippet_signs_the_same_claims():
    code = snippets.python(CLAIMS, 5400)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "VIDEOSDK_SECRET_KEY": SECRET}, check=True)
    check_signed(result.stdout.strip())


def test_the_curl_body_survives_the_shell_with_quotes_in_the_room():
    command = snippets.curl("http://127.0.0.1:5000/api/v1/tokens", CLAIMS, "90m")
    # Ask the shell what curl would receive, with echo standing in for curl.
    result = subprocess.run(["sh", "-c", "curl() { printf '%s\\n' \"$@\"; }; " + command],
                            capture_output=True, text=True, check=True,
                            env={"TOKEN_CONSOLE_CLIENT_KEY": "tc_x", "PATH": os.environ["PATH"]})
    args = result.stdout.splitlines()
    assert args[:4] == ["-sS", "-X", "POST", "http://127.0.0.1:5000/api/v1/tokens"]
    assert "Authorization: Bearer tc_x" in args
    assert args[-1] == ('{"apikey": "key-1", "permissions": ["allow_join", "allow_mod"], '
                        '"roles": ["rtc"], "roomId": "it\'s a room", "participantId": "jane", '
                        '"expiresIn": "90m"}')
