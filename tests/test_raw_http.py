"""Requests a browser or an HTTP library would never send, sent raw to real gunicorn workers.

A header line without its colon, a request line with a control character, a chunked body
that breaks its encoding or runs past 64 KiB: each gets a 4xx, and neither the answer nor
gunicorn's logs repeat the client key or token the request carried.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from tests.servers import Gunicorn, app_for, run_cli, sqlite_env
from webapp.extensions import db
from webapp.services import api_clients
from webapp.web.middleware import BROKEN

pytestmark = pytest.mark.slow

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJhcGlrZXkiOiJrIn0.c2lnbmF0dXJlLW5vdC1yZWFs"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[Gunicorn, str]]:  # type: ignore[no-untyped-def]
    tmp_path = tmp_path_factory.mktemp("raw")
    env = sqlite_env(tmp_path, "raw", VIDEOSDK_API_KEY="raw-apikey", VIDEOSDK_SECRET_KEY="9a" * 32)
    assert run_cli(env, "setup").returncode == 0
    app = app_for(env)
    with app.app_context():
        _, key = api_clients.create_client("raw", ["tokens:mint", "tokens:inspect"])
        db.session.commit()
        db.engine.dispose()
    with Gunicorn(env, tmp_path, workers=1, name="raw") as running:
        yield running, key


def exchange(server: Gunicorn, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in
               (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def chunked(path: str, key: str, body: bytes, content_type: str = "application/json") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n"
            "Connection: close\r\n\r\n").encode() + body


def framed(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload)


def test_malformed_requests_are_refused_without_repeating_what_they_carried(server):
    gunicorn, key = server
    header_without_colon = (f"POST /api/v1/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            f"Authorization Bearer {key}\r\n\r\n").encode()
    control_in_line = f"GET /inspect?token={TOKEN}\x01 HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    for raw in (header_without_colon, control_in_line):
        status, _, body = exchange(gunicorn, raw)
        assert status == 400
        assert key.encode() not in body and TOKEN.encode() not in body
    logs = gunicorn.logs()
    assert "Invalid request from ip=127.0.0.1: Invalid HTTP Header (the rest, which quotes " \
           "the request, is not logged)" in logs
    assert key not in logs and key[4:] not in logs and TOKEN not in logs
    assert "Bearer" not in logs


GUNICORN_400 = (b"<html>\n  <head>\n    <title>Bad Request</title>\n  </head>\n  <body>\n"
                b"    <h1><p>Bad Request</p></h1>\n    \n  </body>\n</html>\n")


@pytest.mark.parametrize("body", [b"zz\r\n", b"2\r\nabXX0\r\n\r\n"])
def test_gunicorn_refuses_a_malformed_chunk_without_quoting_it(server, body):
    gunicorn, key = server
    status, _, answer = exchange(gunicorn, chunked("/api/v1/tokens", key, body))
    assert (status, answer) == (400, GUNICORN_400)


@pytest.mark.parametrize(("path", "content_type", "body"), [
    # Announces 256 bytes, sends a few, then ends: the app finds out while reading.
    ("/api/v1/tokens", "application/json", b'100\r\n{"permissions"'),
    ("/api/v1/tokens/introspect", "application/x-www-form-urlencoded", b"100\r\ntoken="),
    ("/api/v1/tokens", "application/json", b"ffffffffffffffffffffffff\r\nab\r\n0\r\n\r\n"),
])
def test_a_chunked_body_that_breaks_off_is_a_400_problem(server, path, content_type, body):
    gunicorn, key = server
    status, headers, answer = exchange(gunicorn, chunked(path, key, body, content_type))
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(answer)
    assert (problem["code"], problem["detail"]) == ("validation_failed", BROKEN)


def test_a_chunked_sign_in_that_breaks_off_is_a_400_page(server):
    gunicorn, _ = server
    status, headers, _ = exchange(gunicorn, (
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n"
        b"100\r\nemail="))
    assert status == 400
    assert headers["content-type"] == "text/html; charset=utf-8"


def test_chunked_bodies_are_measured_like_any_other(server):
    gunicorn, key = server
    fits = json.dumps({"permissions": ["allow_join"], "roomId": "chunked-room"}).encode()
    status, _, answer = exchange(gunicorn, chunked("/api/v1/tokens", key, framed(fits)))
    assert status == 201
    assert json.loads(answer)["claims"]["roomId"] == "chunked-room"
    # Past 64 KiB: 413, as with a Content-Length (it was cut at 64 KiB and called "not JSON").
    too_big = json.dumps({"permissions": ["allow_join"], "roomId": "a" * 70_000}).encode()
    status, headers, answer = exchange(gunicorn, chunked("/api/v1/tokens", key,
                                                         framed(too_big)))
    assert status == 413
    assert json.loads(answer)["code"] == "payload_too_large"
