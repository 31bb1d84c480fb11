"""Refusals the API raises from anywhere in a request, answered as problem+json (RFC 9457)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask import Response

from webapp.tokens.field_errors import FieldError, as_field_errors, messages
from webapp.web.errors import problem

FieldErrorsIn = Mapping[str, Sequence[FieldError | str]]


class ApiProblem(Exception):
    """An answer other than success, with the SPEC 5 machine code and any extra headers."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        errors: FieldErrorsIn | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        # Each field error has a machine code; a bare message is coded "invalid".
        self.field_errors = as_field_errors(errors or {})
        self.errors = messages(self.field_errors)
        self.headers = dict(headers or {})

    def response(self) -> Response:
        """The problem+json answer; with field errors, `errors` ({field: [message]}) and
        `fieldErrors` ({field: [{code, message}]}) side by side (SPEC 5)."""
        extra: dict[str, object] = {}
        if self.field_errors:
            extra["errors"] = self.errors
            extra["fieldErrors"] = {field: [error.as_dict() for error in items]
                                    for field, items in self.field_errors.items()}
        answer = problem(self.status, self.code, self.title, self.detail, **extra)
        answer.headers.update(self.headers)
        return answer


def validation_failed(errors: FieldErrorsIn, detail: str | None = None) -> ApiProblem:
    """422: a field is missing, of the wrong type, unknown, or breaks a VideoSDK rule."""
    return ApiProblem(
        422, "validation_failed", "Validation failed",
        detail or "The request has invalid fields: see errors.", errors=errors,
    )


def not_json(detail: str) -> ApiProblem:
    """400: the body cannot be read at all."""
    return ApiProblem(400, "validation_failed", "Bad request", detail)


def forbidden(detail: str, headers: Mapping[str, str] | None = None) -> ApiProblem:
    """403: the client lacks the scope or the key it asked for."""
    return ApiProblem(403, "forbidden", "Forbidden", detail, headers=headers)


def policy_violation(errors: FieldErrorsIn) -> ApiProblem:
    """403: VideoSDK would allow it, but a key's or the client's policy does not."""
    return ApiProblem(
        403, "policy_violation", "Policy violation",
        "The request goes beyond the policy of the key or of this client: see errors.",
        errors=errors,
    )


def unavailable(detail: str) -> ApiProblem:
    """503: a stored key cannot be used right now (its secret does not decrypt)."""
    return ApiProblem(503, "service_unavailable", "Service unavailable", detail)


def upstream_unavailable(detail: str) -> ApiProblem:
    """502: VideoSDK's REST API cannot be reached, or answered no usable JSON (SPEC 5)."""
    return ApiProblem(502, "upstream_unavailable", "VideoSDK unavailable", detail)


def upstream_timeout(detail: str) -> ApiProblem:
    """504: VideoSDK's REST API did not answer within VIDEOSDK_API_TIMEOUT seconds (SPEC 5)."""
    return ApiProblem(504, "upstream_timeout", "VideoSDK timed out", detail)


def not_offered(detail: str) -> ApiProblem:
    """404: this deployment turned the route's feature off (an empty setting says so)."""
    return ApiProblem(404, "not_found", "Not found", detail)
