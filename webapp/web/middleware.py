"""Chunked request bodies, read before the app sees them: a clear 400 or 413, never a 500.

A body sent with ``Transfer-Encoding: chunked`` has no Content-Length, so the server decodes
it while the app reads. Two things then went wrong under gunicorn: a malformed chunk raised
the server's own error inside a view (a 500), and Werkzeug stopped reading at
MAX_CONTENT_LENGTH without saying the body was longer, so an oversized JSON body was cut and
refused as "not JSON" instead of 413 (SPEC 5). This middleware reads such a body first, up
to one byte past the limit, and hands the app a plain body with its Content-Length, or the
HTTP error it deserves. Bodies with a Content-Length pass through untouched.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
BROKEN = ("The request body could not be read: its chunked transfer encoding is broken "
          "or it ended early.")


class _Refused(io.RawIOBase):
    """A body that answers any read with the HTTP error it earned (Flask renders it)."""

    def __init__(self, error: BadRequest) -> None:
        super().__init__()
        self.error = error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise self.error


class BufferedChunkedBodies:
    """WSGI middleware: a chunked body becomes a sized one, or a 400 / 413 raised on reading."""

    def __init__(self, app: WSGIApp, limit: int | None) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() \
                and not environ.get("CONTENT_LENGTH"):
            self._buffer(environ)
        return self.app(environ, start_response)

    def _buffer(self, environ: dict[str, Any]) -> None:
        wanted = -1 if self.limit is None else self.limit + 1
        # From here on the app sees a body with a length, not a chunked one.
        del environ["HTTP_TRANSFER_ENCODING"]
        try:
            body = _read_up_to(environ["wsgi.input"], wanted)
        except (OSError, ValueError):
            # gunicorn's InvalidChunkSize, ChunkMissingTerminator, NoMoreData: all OSErrors.
            environ["wsgi.input"] = _Refused(BadRequest(BROKEN))
            environ["CONTENT_LENGTH"] = "1"  # so that the app reads, and hears why not
            return
        environ["wsgi.input"] = io.BytesIO(body)
        # Over the limit, this length alone makes Werkzeug answer 413 before any read.
        environ["CONTENT_LENGTH"] = str(len(body))


def _read_up_to(stream: Any, count: int) -> bytes:
    """At most ``count`` bytes (all when negative): a read may return less than asked."""
    parts: list[bytes] = []
    remaining = count
    while remaining != 0:
        part = stream.read(remaining if remaining > 0 else 65536)
        if not part:
            break
        parts.append(part)
        if remaining > 0:
            remaining -= len(part)
    return b"".join(parts)


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` limited to what a 64-bit database column holds: a larger id is a 404."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Chunked bodies read before the app (see BufferedChunkedBodies); ids that fit a column.

    Ids past 64 bits cannot name a row and would overflow the database driver.
    """
    app.wsgi_app = BufferedChunkedBodies(  # type: ignore[method-assign]
        app.wsgi_app, app.config.get("MAX_CONTENT_LENGTH"))
    app.url_map.converters["int"] = BoundedIntegerConverter
