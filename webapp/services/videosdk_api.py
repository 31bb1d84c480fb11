"""VideoSDK's REST API, reached at VIDEOSDK_API_ENDPOINT: create a room, validate a room.

What VideoSDK's example servers do for their client apps (their `/create-meeting/` and
`/validate-meeting/:meetingId`, SPEC 5): send the token as the bare `Authorization` header
(no `Bearer`, as VideoSDK's REST API docs and every example server send it) to
`POST {endpoint}/rooms` with `{"region": ...}`, or to `GET {endpoint}/rooms/validate/<roomId>`.
Nothing else of the caller's request leaves this module.

One pooled HTTP client per worker (httpx: connection reuse, and one total deadline of
VIDEOSDK_API_TIMEOUT seconds, 5 by default). Every call is audited (`videosdk.called`: who,
route, room id, VideoSDK's status, never the token).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from flask import Flask, current_app

from webapp.services import audit

# Room ids VideoSDK hands out look like abcd-efgh-ijkl; custom ones are letters, digits, - and _.
# Anything else is refused here, never sent: it would land in the path of VideoSDK's URL.
ROOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
REGION = re.compile(r"[A-Za-z0-9_-]{1,32}")
# VideoSDK's answers are small JSON objects; a larger body is not one of them.
MAX_ANSWER_BYTES = 256 * 1024
_EXTENSION = "videosdk_api"


class Unavailable(Exception):
    """VideoSDK's REST API could not be reached, or did not answer with JSON (SPEC 5: 502)."""


class TimedOut(Unavailable):
    """VideoSDK's REST API did not answer within VIDEOSDK_API_TIMEOUT seconds (SPEC 5: 504)."""


class Disabled(Exception):
    """VIDEOSDK_API_ENDPOINT is empty: this deployment does not talk to VideoSDK's REST API."""


@dataclass(frozen=True)
class Answer:
    """VideoSDK's answer as it came: its HTTP status and its JSON body."""

    status: int
    body: Any

    @property
    def message(self) -> str:
        """VideoSDK's own words: its `message` (or `error`), else its JSON body written out."""
        if isinstance(self.body, dict):
            for name in ("message", "error"):
                if isinstance(self.body.get(name), str):
                    return str(self.body[name])
        return json.dumps(self.body, ensure_ascii=False)[:500]


@dataclass(frozen=True)
class Call:
    """One call to make: the route as audited, the method, the path under the endpoint."""

    method: str
    path: str
    route: str
    room_id: str | None
    body: dict[str, str] | None = None


def create_room(region: str | None) -> Call:
    """`POST /rooms` with `{"region": ...}` (region left out when none is given)."""
    return Call("POST", "/rooms", "POST /rooms", None, {"region": region} if region else {})


def validate_room(room_id: str) -> Call:
    """`GET /rooms/validate/<roomId>`; raises ValueError for an id outside ROOM_ID."""
    if not valid_room_id(room_id):
        raise ValueError(f"not a room id VideoSDK could be asked about: {room_id!r}")
    return Call("GET", f"/rooms/validate/{room_id}", "GET /rooms/validate", room_id)


def valid_room_id(room_id: str) -> bool:
    """Whether ``room_id`` may go into VideoSDK's URL: [A-Za-z0-9_-]{1,64} (SPEC 5)."""
    return ROOM_ID.fullmatch(room_id) is not None


def sendable_token(token: str) -> bool:
    """Whether the token can travel as a header value: printable ASCII, no spaces."""
    return bool(token) and all("!" <= ch <= "~" for ch in token)


def endpoint() -> str | None:
    """VIDEOSDK_API_ENDPOINT without its trailing slash, or None when it is empty (off)."""
    value = str(current_app.config.get("VIDEOSDK_API_ENDPOINT") or "").strip().rstrip("/")
    return value or None


class _Clients:
    """One httpx.Client per process: created on first use, so after gunicorn's fork."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None

    def get(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    follow_redirects=False,
                    limits=httpx.Limits(max_connections=20, max_keepalive_connections=5),
                    headers={"User-Agent": "token-console"},
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def init_app(app: Flask) -> None:
    """Give the app its (lazily opened) pooled client for VideoSDK's REST API."""
    app.extensions[_EXTENSION] = _Clients()


def _client() -> httpx.Client:
    clients: _Clients = current_app.extensions[_EXTENSION]
    return clients.get()


def _exchange(call: Call, token: str, base: str, timeout: float) -> Answer:
    """Send the call; the answer, or Unavailable / TimedOut. One deadline for the whole call."""
    deadline = time.monotonic() + timeout
    headers = {"Authorization": token, "Accept": "application/json"}
    request = _client().build_request(
        call.method, base + call.path, headers=headers, json=call.body,
        timeout=httpx.Timeout(timeout))
    try:
        response = _client().send(request, stream=True)
    except httpx.TimeoutException as error:
        raise TimedOut(f"VideoSDK did not answer within {timeout:g} s.") from error
    except httpx.HTTPError as error:
        raise Unavailable(f"VideoSDK's REST API could not be reached "
                          f"({type(error).__name__}).") from error
    try:
        data = bytearray()
        # Decoded bytes: VideoSDK (or a proxy) may gzip what httpx offered to accept; the cap
        # then bounds what the answer unpacks to.
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) > MAX_ANSWER_BYTES:
                raise Unavailable(f"VideoSDK answered {response.status_code} with a body over "
                                  f"{MAX_ANSWER_BYTES // 1024} KiB.")
            if time.monotonic() > deadline:
                raise TimedOut(f"VideoSDK did not finish answering within {timeout:g} s.")
    except httpx.TimeoutException as error:
        raise TimedOut(f"VideoSDK did not finish answering within {timeout:g} s.") from error
    except httpx.HTTPError as error:
        raise Unavailable(f"VideoSDK's answer broke off ({type(error).__name__}).") from error
    finally:
        response.close()
    status = response.status_code
    if not (200 <= status < 300 or 400 <= status < 500):
        # A redirect, or VideoSDK's own failure: no answer the caller could act on.
        raise Unavailable(f"VideoSDK's REST API answered {status}.")
    try:
        body = json.loads(bytes(data))
    except ValueError as error:
        raise Unavailable(f"VideoSDK answered {status} with a body that is not JSON.") from error
    return Answer(status, body)


def send(
    call: Call,
    token: str,
    *,
    via: str,
    actor: str | None = None,
    actor_kind: str | None = None,
    origin: str,
    fingerprint: str | None = None,
) -> Answer:
    """Make the call with ``token`` as the Authorization header, audit it, return the answer.

    Raises Disabled when VIDEOSDK_API_ENDPOINT is empty, TimedOut past VIDEOSDK_API_TIMEOUT
    seconds, Unavailable when VideoSDK cannot be reached or answers a 5xx or no JSON. 2xx and
    4xx answers come back as they came. The audit line names the route, the room id,
    VideoSDK's status (None when there was no answer) and where the token came from
    (``origin``: minted, given, pasted) with its fingerprint, never the token.
    """
    base = endpoint()
    if base is None:
        raise Disabled("VideoSDK's REST API is turned off here: VIDEOSDK_API_ENDPOINT is empty.")
    timeout = float(current_app.config["VIDEOSDK_API_TIMEOUT"])
    details: dict[str, Any] = {"via": via, "route": call.route, "roomId": call.room_id,
                               "tokenOrigin": origin}
    if fingerprint:
        details["fingerprint"] = fingerprint
    try:
        answer = _exchange(call, token, base, timeout)
    except Unavailable as error:
        details.update(status=None, reason=str(error))
        audit.record("videosdk.called", outcome="failure", actor=actor, actor_kind=actor_kind,
                     target=call.room_id, details=details)
        raise
    details["status"] = answer.status
    if isinstance(answer.body, dict) and isinstance(answer.body.get("roomId"), str):
        details["roomId"] = answer.body["roomId"]
    audit.record("videosdk.called", outcome="success" if answer.status < 400 else "refused",
                 actor=actor, actor_kind=actor_kind, target=details["roomId"], details=details)
    return answer


def refuse(call_route: str, room_id: str | None, reason: str, *, via: str,
           actor: str | None = None, actor_kind: str | None = None) -> None:
    """Audit a call refused before it left (bad room id, a token VideoSDK would refuse)."""
    audit.record("videosdk.called", outcome="refused", actor=actor, actor_kind=actor_kind,
                 target=room_id[:64] if room_id else None,
                 details={"via": via, "route": call_route, "roomId": room_id, "status": None,
                          "reason": reason[:500]})
