"""The mint endpoint with parts of its work switched off, to see what each part costs (SPEC 8).

Never served by the product: only ``BENCH_ABLATE=1 make bench`` loads these, beside the real
endpoint and the bare baseline, under the same gunicorn settings. Each answer is still the
real view's 201 with the same token; only what is named below is skipped.

- ``without_writes``: the token's and the audit line's INSERTs (and so their commit) are
  skipped; the client is still read and everything else runs.
- ``without_database``: as above, and the client is read once per worker and then reused
  (no connection is checked out at all), as if revocation needed no read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from webapp import create_app, rawsql
from webapp.api import authentication
from webapp.services import api_clients, audit, issuance


def _replace(module: Any, name: str, value: Any) -> None:
    """Swap one of the product's functions or tables; a rename there fails here, loudly."""
    if not hasattr(module, name):
        raise AttributeError(f"{module.__name__}.{name} is gone: bench/ablate.py needs updating")
    setattr(module, name, value)


class _Skipped:
    """Stands in for a compiled statement: runs nothing."""

    def execute(self, cursor: Any, dialect: Any, values: Mapping[str, Any]) -> None:
        return None


class _NoConnection:
    """Stands in for a DBAPI connection with nothing to commit or roll back."""

    def commit(self) -> None:
        return None

    def rollback(self) -> None:
        return None


def _skip_writes() -> None:
    _replace(issuance, "_RAW_RECORD_ONCE",
             {name: _Skipped() for name in issuance._RAW_RECORD_ONCE})
    _replace(audit, "append_raw", lambda cursor, dialect, values: None)


def _skip_reads() -> None:
    read = api_clients.authenticate
    known: dict[str, Any] = {}

    real_cursor, real_held = rawsql.cursor, rawsql.held

    def authenticate_once(presented: str) -> Any:
        if presented not in known:  # the first read is a real one
            rawsql.cursor, rawsql.held = real_cursor, real_held  # type: ignore[misc]
            try:
                known[presented] = read(presented)
            finally:
                rawsql.cursor, rawsql.held = no_cursor, no_connection  # type: ignore[misc]
        return known[presented]

    @contextmanager
    def no_connection() -> Iterator[None]:
        yield

    @contextmanager
    def no_cursor() -> Iterator[tuple[Any, Any, Any]]:
        yield _NoConnection(), None, rawsql.engine().dialect

    _replace(authentication, "authenticate", authenticate_once)
    _replace(rawsql, "held", no_connection)
    _replace(rawsql, "cursor", no_cursor)


def _without_writes() -> Any:
    app = create_app()
    _skip_writes()
    return app


def _without_database() -> Any:
    app = create_app()
    _skip_writes()
    _skip_reads()
    return app


def __getattr__(name: str) -> Any:
    # Built only when gunicorn asks for one, so importing this module changes nothing.
    if name == "without_writes":
        return _without_writes()
    if name == "without_database":
        return _without_database()
    raise AttributeError(name)
