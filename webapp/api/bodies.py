"""Reading and checking request bodies: plain functions that either return values or raise.

Every refusal names the field and says what to send instead; nothing here echoes a token
or a secret back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, request

from webapp.api.problems import not_json, validation_failed
from webapp.tokens import MintRequest, Use, read_moment
from webapp.tokens.field_errors import FieldError, FieldErrorCode, FieldErrors, add_error

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

MINT_FIELDS = ("apikey", "permissions", "roles", "roomId", "participantId", "expiresIn")
INSPECT_FIELDS = ("token", "roomId", "participantId", "use", "at", "secret")



def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _json_int(text: str) -> int | float:
    # Python refuses integers past 4,300 digits; JSON does not, and JavaScript reads
    # them as (infinite) floats, so do the same and let the field checks refuse them.
    return int(text) if len(text) <= 4000 else float(text)


def parse_json(data: bytes) -> Any:
    """The JSON value of a body; raises the 400 problem when it is not strict JSON."""
    if not data.strip():
        raise not_json("The body is empty: send a JSON object.")
    try:
        return json.loads(data, parse_constant=_refuse_constant, parse_int=_json_int)
    except (ValueError, RecursionError) as error:
        # ValueError covers bad syntax, bad UTF-8, NaN and Infinity; RecursionError deep nesting.
        raise not_json("The body is not JSON: send a JSON object.") from error


def json_object() -> dict[str, Any]:
    """The request body as a JSON object (400 when not JSON, 422 when JSON but not an object)."""
    value = parse_json(request.get_data(cache=True))
    if not isinstance(value, dict):
        raise validation_failed({"body": [
            FieldError(FieldErrorCode.TYPE, "The body must be a JSON object.")]})
    return value


def form_or_json() -> dict[str, Any]:
    """The body's fields from a form or a JSON object; an empty body has no fields."""
    if request.mimetype in FORM_TYPES:
        return {name: request.form.get(name) for name in request.form}
    data = request.get_data(cache=True)
    if not data.strip():
        return {}
    value = parse_json(data)
    if not isinstance(value, dict):
        raise validation_failed({"body": [
            FieldError(FieldErrorCode.TYPE, "The body must be a JSON object or a form.")]})
    return value


def folded(name: str) -> str:
    """A field name without letter case, `_` or `-`: how a near-miss name is matched."""
    return name.replace("_", "").replace("-", "").casefold()


def near_misses(names: Iterable[str], meant: Mapping[str, str],
                fold: Callable[[str], str] = folded) -> FieldErrors:
    """Refusals of the names that are not a field but near one, keyed as the caller spelt them.

    ``meant`` maps a name as ``fold`` folds it to the field it means (`roomid` -> `roomId`);
    a name spelt exactly as its field is no near miss. A near miss ignored would silently
    drop what the caller asked for (issue 16: `?roomid=` gave a token for any room).
    """
    errors: FieldErrors = {}
    for name in names:
        field = meant.get(fold(name))
        if field is not None and name != field and name not in errors:
            add_error(errors, name, FieldErrorCode.UNKNOWN,
                      f"Unknown field: did you mean {field}? Names are read exactly as written.")
    return errors


def _unknown(body: Mapping[str, Any], allowed: tuple[str, ...], errors: FieldErrors) -> None:
    refused = near_misses(body, {folded(field): field for field in allowed})
    for name in body:
        if name in refused:
            errors.setdefault(name, []).extend(refused[name])
        elif name not in allowed:
            hint = (" version 2 is added when needed: leave it out." if name == "version"
                    else f" Use only {', '.join(allowed)}.")
            add_error(errors, str(name), FieldErrorCode.UNKNOWN, f"Unknown field.{hint}")


def _optional_text(body: Mapping[str, Any], name: str, errors: FieldErrors) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        add_error(errors, name, FieldErrorCode.TYPE, f"{name} must be text.")
        return None
    return value


def _text_list(body: Mapping[str, Any], name: str, errors: FieldErrors) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        add_error(errors, name, FieldErrorCode.TYPE, f"{name} must be a list of text values.")
        return None
    return value


def token_too_long(token: str) -> str | None:
    """Why the token is refused for its size, or None when it is within MAX_TOKEN_LENGTH."""
    limit = int(current_app.config["MAX_TOKEN_LENGTH"])
    # surrogatepass: a lone surrogate in the JSON still counts, and still gets a diagnosis.
    if len(token.encode("utf-8", "surrogatepass")) > limit:
        return f"The token is longer than {limit} bytes: no VideoSDK token is that long."
    return None


def read_token(body: Mapping[str, Any], errors: FieldErrors) -> str:
    """The required `token` field, within MAX_TOKEN_LENGTH."""
    value = body.get("token")
    if value is None:
        add_error(errors, "token", FieldErrorCode.REQUIRED, "token is required.")
        return ""
    if not isinstance(value, str):
        add_error(errors, "token", FieldErrorCode.TYPE, "token must be text.")
        return ""
    if not value.strip():
        add_error(errors, "token", FieldErrorCode.EMPTY,
                  "token is empty: paste the token to check.")
        return ""
    too_long = token_too_long(value)
    if too_long:
        add_error(errors, "token", FieldErrorCode.TOO_LONG, too_long)
    return value


@dataclass(frozen=True)
class MintFields:
    """A mint request as the API received it: the key asked for (if any) and the token asked."""

    apikey: str | None
    request: MintRequest


def mint_fields(body: Mapping[str, Any]) -> MintFields:
    """Check the shape of a POST /api/v1/tokens body; the domain checks the values."""
    errors: FieldErrors = {}
    _unknown(body, MINT_FIELDS, errors)
    apikey = _optional_text(body, "apikey", errors)
    if apikey == "":
        add_error(errors, "apikey", FieldErrorCode.EMPTY,
                  "apikey is empty: leave it out to sign with the client's only key, or name one.")
    permissions = _text_list(body, "permissions", errors)
    if "permissions" not in errors and permissions is None:
        add_error(errors, "permissions", FieldErrorCode.REQUIRED,
                  "permissions is required: a list such as [\"allow_join\"] or [\"ask_join\"].")
    roles = _text_list(body, "roles", errors)
    room_id = _optional_text(body, "roomId", errors)
    participant_id = _optional_text(body, "participantId", errors)
    expires_in = body.get("expiresIn")
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float | str | None):
        add_error(errors, "expiresIn", FieldErrorCode.TYPE,
                  "expiresIn must be a number of seconds or text such as '1h'.")
    if errors:
        raise validation_failed(errors)
    return MintFields(
        apikey=apikey,
        request=MintRequest(
            permissions=tuple(permissions or ()),
            roles=tuple(roles) if roles is not None else None,
            room_id=room_id,
            participant_id=participant_id,
            expires_in=expires_in,
        ),
    )


def parse_moment(value: object) -> datetime:
    """An ISO 8601 moment as aware UTC (naive means UTC); raises ValueError with the reason."""
    if not isinstance(value, str):
        raise ValueError("at must be an ISO 8601 date and time, such as 2025-01-31T09:30:00Z.")
    try:
        return read_moment(value)
    except OverflowError as error:
        raise ValueError("at is outside the calendar once moved to UTC.") from error
    except ValueError as error:
        raise ValueError(
            "at is not an ISO 8601 date and time: write it as 2025-01-31T09:30:00Z."
        ) from error


@dataclass(frozen=True)
class InspectFields:
    """A POST /api/v1/tokens/inspect body, checked."""

    token: str
    room_id: str | None
    participant_id: str | None
    use: str | None
    at: datetime | None
    secret: str | None = None

    def __repr__(self) -> str:  # the token and the secret stay out of any log or traceback
        return f"InspectFields(use={self.use!r}, at={self.at!r})"


def inspect_fields(body: Mapping[str, Any]) -> InspectFields:
    """Check a POST /api/v1/tokens/inspect body."""
    errors: FieldErrors = {}
    _unknown(body, INSPECT_FIELDS, errors)
    token = read_token(body, errors)
    room_id = _optional_text(body, "roomId", errors)
    participant_id = _optional_text(body, "participantId", errors)
    use = _optional_text(body, "use", errors)
    if use is not None and use not in {u.value for u in Use}:
        add_error(errors, "use", FieldErrorCode.ENUM, "use must be join or api.")
    at: datetime | None = None
    if body.get("at") is not None:
        try:
            at = parse_moment(body["at"])
        except ValueError as error:
            code = FieldErrorCode.PATTERN if isinstance(body["at"], str) else FieldErrorCode.TYPE
            add_error(errors, "at", code, str(error))
    secret = _optional_text(body, "secret", errors)
    if errors:
        raise validation_failed(errors)
    return InspectFields(
        token=token,
        room_id=room_id or None,
        participant_id=participant_id or None,
        use=use,
        at=at,
        secret=secret or None,
    )
