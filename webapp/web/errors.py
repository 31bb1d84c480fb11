"""Error answers: plain pages for people, problem+json under the API.

Neither reveals anything about the request beyond its status. Storage that cannot be
reached or written is the server's passing fault, not a bug: 503 with ``Retry-After``
(SPEC 5 ``service_unavailable``, SPEC 7), never 500.
"""

from __future__ import annotations

import enum
import logging
import threading
import time

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask.globals import request_ctx
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp.extensions import db
from webapp.health.lifecycle import InstanceState

log = logging.getLogger(__name__)

PROBLEM_CODES = {
    400: "validation_failed",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    422: "validation_failed",
    429: "rate_limited",
    502: "upstream_unavailable",
    503: "service_unavailable",
    504: "upstream_timeout",
}

# The API's paths, and the drop-in's routes of VideoSDK's example servers at the root.
# The blueprints whose requests carry a bearer key and never a session (see api.authentication).
API_BLUEPRINTS = frozenset({"api", "dropin"})
API_PREFIXES = ("/api/", "/get-token", "/create-meeting", "/validate-meeting/")


def wants_problem_json() -> bool:
    """Whether this request is one of the API's, which answers in problem+json."""
    # The drop-in's blueprint answers in problem+json on each of its routes at the root.
    path = request.path
    return (request.blueprint in API_BLUEPRINTS or path.startswith(API_PREFIXES)
            or path == "/api")


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    **extra: object,
) -> Response:
    """An RFC 9457 problem+json answer with the product's machine ``code``."""
    body: dict[str, object] = {
        "type": f"https://token-console.invalid/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _http_error(error: HTTPException) -> Response | tuple[str, int]:
    if isinstance(error.response, Response):
        # An answer built for this error already (a client's 429 problem from Flask-Limiter).
        return error.response
    status = error.code or 500
    if wants_problem_json():
        code = PROBLEM_CODES.get(status, "server_error" if status >= 500 else "bad_request")
        response = problem(status, code, error.name, error.description or error.name)
        valid_methods = getattr(error, "valid_methods", None)
        if status == 405 and valid_methods:
            response.headers["Allow"] = ", ".join(valid_methods)
        if status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response
    if request_ctx.url_adapter is None:
        # An untrusted Host header: no URL can be built, so no page either.
        return f"{status} {error.name}\n", status
    template = f"errors/{status}.html" if status in (400, 403, 404, 405, 413, 429) else None
    body = render_template(template or "errors/generic.html", status=status, name=error.name)
    return body, status


def _unexpected(error: Exception) -> Response | tuple[str, int]:
    # Log the type and the route only: the exception text may echo input.
    log.error("unhandled %s on %s %s", type(error).__name__, request.method, request.url_rule)
    if wants_problem_json():
        return problem(500, "server_error", "Internal Server Error",
                       "The server could not complete the request.")
    return render_template("errors/500.html"), 500


UNSTORABLE = ("Something in the request cannot be stored or looked up: a NUL character "
              "(U+0000), or a value longer than its field holds. Remove it and try again.")


def _unstorable(error: DataError) -> Response | tuple[str, int]:
    # PostgreSQL refuses values SQLite takes, such as a NUL character or a text longer than
    # its column. The pages and the API check what they can beforehand; whatever still gets
    # through is the request's fault, not the server's: a 400 that says so, never a 500.
    db.session.rollback()
    log.warning("refused %s on %s %s: a value the database cannot hold",
                type(error.orig).__name__, request.method, request.url_rule)
    if wants_problem_json():
        return problem(400, "validation_failed", "Bad request", UNSTORABLE)
    return render_template("errors/400.html", explanation=UNSTORABLE), 400


class StorageFault(enum.Enum):
    """Why storage failed a request: each kind is logged, and answered 503 (SPEC 7)."""

    UNREACHABLE = "database unreachable"
    CONNECTION_LOST = "database connection lost mid-request"
    LOCKED = "database locked past the busy timeout"
    UNWRITABLE = "database cannot be written (disk full, read-only or I/O error)"

    @property
    def retry_after(self) -> int:
        """Seconds a client should wait before trying again (the ``Retry-After`` header)."""
        return 1 if self is StorageFault.LOCKED else 5


# SQLite's result codes (the ``sqlite_errorname`` of sqlite3's exceptions, Python 3.11+),
# by prefix, so that extended codes such as SQLITE_BUSY_TIMEOUT or SQLITE_IOERR_WRITE count.
_SQLITE_FAULTS = (
    ("SQLITE_BUSY", StorageFault.LOCKED),
    ("SQLITE_LOCKED", StorageFault.LOCKED),
    ("SQLITE_FULL", StorageFault.UNWRITABLE),
    ("SQLITE_READONLY", StorageFault.UNWRITABLE),
    ("SQLITE_IOERR", StorageFault.UNWRITABLE),
    ("SQLITE_PERM", StorageFault.UNWRITABLE),
    ("SQLITE_CANTOPEN", StorageFault.UNREACHABLE),
)
# PostgreSQL's SQLSTATEs (Appendix A of its manual), by prefix, first match: 08001 and
# 08004 a connection refused or rejected, the rest of class 08 one broken, 53100 disk_full,
# 53300 too_many_connections, 25006 read_only_sql_transaction, 55P03 lock_not_available,
# 57014 query_canceled (a statement or lock timeout), 40P01 deadlock_detected, 57P01-57P03
# the server shutting down or not yet accepting.
_SQLSTATE_FAULTS = (
    ("08001", StorageFault.UNREACHABLE),
    ("08004", StorageFault.UNREACHABLE),
    ("08", StorageFault.CONNECTION_LOST),
    ("53100", StorageFault.UNWRITABLE),
    ("53300", StorageFault.UNREACHABLE),
    ("25006", StorageFault.UNWRITABLE),
    ("55P03", StorageFault.LOCKED),
    ("57014", StorageFault.LOCKED),
    ("40P01", StorageFault.LOCKED),
    ("57P0", StorageFault.CONNECTION_LOST),
)
# Where each driver's exceptions carry their code, and the table that reads it.
_FAULTS_BY_CODE = (("sqlite_errorname", _SQLITE_FAULTS), ("sqlstate", _SQLSTATE_FAULTS))


def storage_fault(error: BaseException) -> StorageFault | None:
    """The kind of storage fault ``error`` is, or None when it is not one (a bug stays 500).

    Reads SQLAlchemy's wrapped errors and the drivers' own (sqlite3, psycopg), as raised
    through SQLAlchemy or straight from a DBAPI cursor, by their result code or SQLSTATE.
    """
    if isinstance(error, PoolTimeout):
        return StorageFault.UNREACHABLE  # no pooled connection came free in time
    driver_error: BaseException = (error.orig or error) if isinstance(error, DBAPIError) \
        else error
    for attribute, faults in _FAULTS_BY_CODE:
        code = getattr(driver_error, attribute, None)
        if isinstance(code, str):
            return next((kind for prefix, kind in faults if code.startswith(prefix)), None)
    if isinstance(error, OperationalError | InterfaceError):
        # SQLAlchemy names the statement that failed; none when the connection could not
        # even be opened.
        if error.statement is None:
            return StorageFault.UNREACHABLE
        if error.connection_invalidated:
            return StorageFault.CONNECTION_LOST
    # Straight from the driver (a raw pooled connection): psycopg says no more than
    # OperationalError or InterfaceError, and begins the text with "connection failed" when
    # it could not connect at all.
    if type(driver_error).__module__.startswith("psycopg") and type(driver_error).__name__ in (
            "OperationalError", "InterfaceError"):
        if str(driver_error).startswith("connection failed"):
            return StorageFault.UNREACHABLE
        return StorageFault.CONNECTION_LOST
    return None


class FaultLog:
    """Logs each kind of storage fault at error level at most once per ``interval`` seconds.

    A database that is down fails every request: one line per kind every few seconds says
    so, with how many more there were, instead of one line per request.
    """

    def __init__(self, interval: float = 5.0) -> None:
        self.interval = interval
        self._last: dict[StorageFault, float] = {}
        self._unlogged: dict[StorageFault, int] = {}
        self._lock = threading.Lock()

    def report(self, kind: StorageFault, route: str) -> None:
        """Log the fault on ``route`` (a URL rule, never a value) unless logged just now."""
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(kind, -self.interval) < self.interval:
                self._unlogged[kind] = self._unlogged.get(kind, 0) + 1
                return
            self._last[kind] = now
            more = self._unlogged.pop(kind, 0)
        log.error("storage fault: %s on %s; answered 503%s", kind.value, route,
                  f" ({more} more since the last report)" if more else "")


UNAVAILABLE = ("The service cannot reach or write its storage right now. Nothing was done: "
               "try again after Retry-After seconds.")


def _storage_unavailable(kind: StorageFault) -> Response:
    # Whatever the request had staged goes: nothing is recorded as done that was not. The
    # rollback itself may fail on a dead connection; the session is discarded either way.
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.remove()
    if kind is StorageFault.UNWRITABLE:
        instance_state().record_write_failure()
    rule = request.url_rule.rule if request.url_rule is not None else "an unrouted path"
    current_app.extensions["storage_fault_log"].report(kind, f"{request.method} {rule}")
    headers = {"Retry-After": str(kind.retry_after)}
    g.storage_retry_after = headers["Retry-After"]
    if wants_problem_json():
        response = problem(503, "service_unavailable", "Service unavailable", UNAVAILABLE)
        response.headers.update(headers)
        return response
    return Response(_unavailable_page(), status=503, headers=headers,
                    mimetype="text/html" if request_ctx.url_adapter else "text/plain")


def _unavailable_page() -> str:
    if request_ctx.url_adapter is None:
        return "503 Service Unavailable\n"  # no URL can be built, so no page either
    try:
        return render_template("errors/503.html")
    except SQLAlchemyError as again:
        # The page's navigation asks who is signed in, which may need the same storage.
        if storage_fault(again) is None:
            raise
        return ("<!doctype html><title>Try again in a moment</title>"
                "<h1>Try again in a moment</h1><p>" + UNAVAILABLE + "</p>\n")


def instance_state() -> InstanceState:
    """This instance's readiness state (see webapp.health.lifecycle)."""
    state: InstanceState = current_app.extensions["instance_state"]
    return state


def _any_error(error: Exception) -> Response | tuple[str, int]:
    kind = storage_fault(error)
    if kind is not None:
        return _storage_unavailable(kind)
    return _unexpected(error)


def _keep_retry_after(response: Response) -> Response:
    # Rate-limit headers, added on the way out, carry a Retry-After of their own: a 503 for
    # storage keeps the one that says when storage may be back.
    retry_after = g.get("storage_retry_after")
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.extensions["storage_fault_log"] = FaultLog()
    # After-request functions run last-registered first: at the head of the list, this one
    # runs after every other, Flask-Limiter's header injection included.
    app.after_request_funcs.setdefault(None, []).insert(0, _keep_retry_after)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DataError, _unstorable)
    app.register_error_handler(InternalServerError, _unexpected)
    # Storage faults come wrapped by SQLAlchemy or, on the API's raw path, straight from the
    # driver: whatever is not an HTTPException goes through the classifier first.
    app.register_error_handler(Exception, _any_error)
