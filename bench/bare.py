"""The bare baseline of SPEC 8: Flask + PyJWT signing the same claims, nothing else.

No authentication, no database, no audit: what the real mint endpoint is
measured against, under the same gunicorn settings. It signs exactly what
Token Console signs for the benchmark's body (the same header, the claims in
the same order, ``version: 2`` when a room, participant or roles is given)
and answers the same six fields, so the two differ only by what the product
adds around the signature.
"""

from __future__ import annotations

import math
import os
import time
from datetime import UTC, datetime

import jwt
from flask import Flask, Response, jsonify, request

SECRET = os.environ.get("BENCH_SECRET", "b" * 64)
APIKEY = os.environ.get("BENCH_APIKEY", "bench-api-key")
LIFETIME = 3600  # the product's default of 1h

app = Flask(__name__)


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(body: dict[str, object]) -> tuple[str, dict[str, object], int]:
    """The token, its claims and its iat for a mint body, as Token Console signs them."""
    now = math.floor(time.time())
    claims: dict[str, object] = {"apikey": APIKEY, "permissions": body["permissions"]}
    if any(name in body for name in ("roomId", "participantId", "roles")):
        claims["version"] = 2
    for name in ("roomId", "participantId", "roles"):
        if name in body:
            claims[name] = body[name]
    claims["iat"] = now
    claims["exp"] = now + LIFETIME
    token = jwt.encode(claims, SECRET, algorithm="HS256", headers={"typ": "JWT"})
    return token, claims, now


def answer(token: str, claims: dict[str, object], now: int) -> tuple[Response, int]:
    """The six fields of Token Console's 201."""
    return jsonify(token=token, apikey=APIKEY, claims=claims, issuedAt=_iso(now),
                   expiresAt=_iso(now + LIFETIME), expiresIn=LIFETIME), 201


@app.post("/api/v1/tokens")
def mint():  # type: ignore[no-untyped-def]
    return answer(*sign(request.get_json()))
