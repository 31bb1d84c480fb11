"""A stand-in of VideoSDK's REST API (v2), served for real on loopback by the tests.

It checks the `Authorization` header as VideoSDK does: a bare HS256 JWT (a `Bearer ` prefix
is tolerated), verified with PyJWT against the secret of the `apikey` it names, unexpired.
Otherwise `401 {"message": "Token is invalid or expired"}`. Then:

- `POST /rooms` -> `200 {"roomId": "abcd-efgh-ijkl", ...}` (region echoed back);
- `GET /rooms/validate/<id>` -> `200 {"roomId": <id>, ...}` for a room it created, else
  `400 {"message": ...}`.

It counts and keeps every request (method, path, headers, body) so a test can prove what
left Token Console and what did not, and it can be told to answer late or never.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
from flask import Flask
from werkzeug.wrappers import Request, Response

from tests.browser.conftest import LiveServer

ROOM_ID = "abcd-efgh-ijkl"
INVALID = {"message": "Token is invalid or expired"}


@dataclass
class Seen:
    """One request as the stand-in received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: str


@dataclass
class StandIn:
    """The WSGI app: secrets by apikey, the requests seen, a delay before answering."""

    secrets: dict[str, str] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    delay: float = 0.0
    rooms: set[str] = field(default_factory=lambda: {ROOM_ID})
    # Compress answers when the request accepts gzip, as a real server or proxy may.
    gzip: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        with self.lock:
            self.seen.append(Seen(request.method, request.path, dict(request.headers), body,
                                  request.query_string.decode("latin-1")))
        if self.delay:
            time.sleep(self.delay)
        response = self.answer(request, body)
        if self.gzip and "gzip" in request.headers.get("Accept-Encoding", ""):
            response.set_data(gzip.compress(response.get_data()))
            response.headers["Content-Encoding"] = "gzip"
        return response(environ, start_response)

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.seen)

    def _claims(self, request: Request) -> dict[str, Any] | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
            secret = self.secrets[str(unverified.get("apikey"))]
            claims: dict[str, Any] = jwt.decode(token, secret, algorithms=["HS256"])
        except (jwt.PyJWTError, KeyError):
            return None
        return claims

    def answer(self, request: Request, body: bytes) -> Response:
        claims = self._claims(request)
        if claims is None:
            return _json(401, INVALID)
        path = request.path.removeprefix("/v2")
        if request.method == "POST" and path == "/rooms":
            region = json.loads(body or b"{}").get("region") or "sg001"
            return _json(200, {"apiKey": claims["apikey"], "roomId": ROOM_ID,
                               "customRoomId": "", "disabled": False, "region": region,
                               "createdAt": "2026-01-01T00:00:00.000Z",
                               "links": {"get_room": f"https://api.videosdk.live/v2/rooms/{ROOM_ID}",
                                         "get_session": f"https://api.videosdk.live/v2/sessions/"
                                                        f"?roomId={ROOM_ID}"},
                               "id": "65a1b2c3d4e5f6a7b8c9d0e1"})
        prefix = "/rooms/validate/"
        if request.method == "GET" and path.startswith(prefix):
            room = path[len(prefix):]
            if room in self.rooms:
                return _json(200, {"apiKey": claims["apikey"], "roomId": room,
                                   "disabled": False, "createdAt": "2026-01-01T00:00:00.000Z",
                                   "id": "65a1b2c3d4e5f6a7b8c9d0e1"})
            return _json(400, {"message": "Invalid room id", "statusCode": 400})
        return _json(404, {"message": "Not found"})


def _json(status: int, body: object) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


class Served(LiveServer):
    """The stand-in served by werkzeug on 127.0.0.1 in a background thread; url ends in /v2."""

    def __init__(self, standin: StandIn) -> None:
        super().__init__(standin)
        self.standin = standin
        self.url += "/v2"


def closed_port_url() -> str:
    """An endpoint on loopback where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v2"


def serve(app: Flask, secrets: dict[str, str]) -> Iterator[Served]:
    """For a fixture: the stand-in knowing ``secrets`` (apikey -> secret), set as the app's
    VIDEOSDK_API_ENDPOINT while it runs."""
    with Served(StandIn(secrets=dict(secrets))) as served:
        app.config["VIDEOSDK_API_ENDPOINT"] = served.url
        yield served
