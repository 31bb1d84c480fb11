"""Error answers: plain pages for people, problem+json under the API.

Neither reveals anything about the request beyond its status.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask.globals import request_ctx
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp.extensions import db

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
API_PREFIXES = ("/api/", "/get-token", "/create-meeting", "/validate-meeting/")


def wants_problem_json() -> bool:
    """Whether this request is one of the API's, which answers in problem+json."""
    path = request.path
    return path.startswith(API_PREFIXES) or path == "/api"


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


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DataError, _unstorable)
    app.register_error_handler(InternalServerError, _unexpected)
    app.register_error_handler(Exception, _unexpected)
