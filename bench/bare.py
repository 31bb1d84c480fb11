"""The bare baseline of SPEC 8: Flask + PyJWT signing the same claims, nothing else.

No authentication, no database, no audit: what the real mint endpoint is
measured against, under the same gunicorn settings.
"""

from __future__ import annotations

import math
import os
import time

import jwt
from flask import Flask, jsonify, request

SECRET = os.environ.get("BENCH_SECRET", "b" * 64)
APIKEY = os.environ.get("BENCH_APIKEY", "bench-api-key")

app = Flask(__name__)


@app.post("/api/v1/tokens")
def mint():  # type: ignore[no-untyped-def]
    body = request.get_json()
    now = math.floor(time.time())
    claims = {"apikey": APIKEY, "permissions": body["permissions"], "iat": now,
              "exp": now + 3600}
    if "roomId" in body:
        claims["roomId"] = body["roomId"]
        claims["version"] = 2
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    return jsonify(token=token, apikey=APIKEY, claims=claims), 201
