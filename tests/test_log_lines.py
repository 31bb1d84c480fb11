"""Nothing a client sends can forge a log line (SPEC 7): real gunicorn, real sockets.

`%0a` in a path once wrote a second, fake access-log line; `%1b[31m` a terminal escape;
`%00` a NUL. Each record is now one line, such characters escaped.
"""

from __future__ import annotations

import io
import logging
import re
import socket

import pytest

from tests.servers import Gunicorn, sqlite_env

pytestmark = [pytest.mark.slow]

FORGED = '127.0.0.1 "POST /admin/users/1/role HTTP/1.1" 302 0 1ms'
PATHS = {
    "line feed": "/x%0a" + FORGED.replace(" ", "%20").replace('"', "%22"),
    "carriage return": "/x%0d%0a" + FORGED.replace(" ", "%20").replace('"', "%22"),
    "terminal escape": "/x%1b[31mred%1b[0m",
    "NUL": "/x%00y",
    "bidi override": "/x%e2%80%aeevil",
    "line separator": "/x%e2%80%a8y",
}
# gunicorn refuses these request lines (400) and says so in its error log.
REFUSED = ["/x\xe2\x80\xa8y", "/x\x1b[31m", "/x\ty"]
ACCESS_LINE = re.compile(r'127\.0\.0\.1 "(GET|POST) /.* HTTP/1\.[01]" \d{3} \d+ \d+ms')
ERROR_LINE = re.compile(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[[A-Z]+\] ")


def send(port: int, path: str) -> bytes:
    """One raw request, as a client that writes whatever bytes it likes would send it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET " + path.encode("latin-1") + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Connection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_paths_cannot_forge_or_colour_a_line_of_the_access_or_error_log(tmp_path):
    env = sqlite_env(tmp_path, "logs", LOG_LEVEL="DEBUG")
    with Gunicorn(env, tmp_path, workers=1, name="logs") as server:
        for path in PATHS.values():
            assert send(server.port, path).startswith(b"HTTP/1.1 404"), path
        for path in REFUSED:
            assert send(server.port, path).startswith(b"HTTP/1.1 400"), path
    access = server.access_log.read_bytes()
    errors = server.error_log.read_bytes()
    for text in (access, errors):
        for raw in (b"\x1b", b"\x00", b"\r", "\u202e".encode(), "\u2028".encode()):
            assert raw not in text
    lines = access.decode().splitlines()
    assert all(ACCESS_LINE.fullmatch(line) for line in lines), lines
    # One line per request: the forged one is inside the first, never a line of its own.
    ours = [line for line in lines if '"GET /x' in line]
    assert len(ours) == len(PATHS)
    assert not any(line.startswith(FORGED) for line in lines)
    assert any("/x\\x0a127.0.0.1" in line for line in ours)
    assert any("/x\\x1b[31mred\\x1b[0m" in line for line in ours)
    assert any("/x\\x00y" in line for line in ours)
    for line in errors.decode().splitlines():
        assert ERROR_LINE.match(line), line


def test_the_apps_own_log_records_are_one_line_escaped(app):
    stream = io.StringIO()
    with app.test_request_context(environ_overrides={"wsgi.errors": stream}):
        app.logger.error("refused %s from %s", "/x\n127.0.0.1 fake", "a\x1b[31m\x00\u202e")
        try:
            raise ValueError("line one\nline two")
        except ValueError:
            logging.getLogger("webapp.web.errors").exception("failed on %s", "/y\r\nz")
    written = stream.getvalue()
    assert written.count("\n") == 2, written
    assert "refused /x\\x0a127.0.0.1 fake from a\\x1b[31m\\x00\\u202e" in written
    assert "failed on /y\\x0d\\x0az" in written and "line one\\x0aline two" in written
