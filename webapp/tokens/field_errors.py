"""Why a field of a request is refused, as a machine code beside the message (SPEC 5).

The codes are a small public vocabulary, the same for the API's `fieldErrors`, the mint
rules of the domain and the OpenAPI document, so that a client can react without parsing
the prose. A new rule picks one of these codes; the list grows only with the contract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class FieldErrorCode(StrEnum):
    """The machine code of one field error."""

    REQUIRED = "required"
    TYPE = "type"
    UNKNOWN = "unknown"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    PATTERN = "pattern"
    ENUM = "enum"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    RANGE = "range"
    POLICY = "policy"
    KEY_CHOICE = "key_choice"
    INVALID = "invalid"


FIELD_ERROR_MEANINGS: Mapping[FieldErrorCode, str] = {
    FieldErrorCode.REQUIRED: "the field is missing (or null) but needed",
    FieldErrorCode.TYPE: "the value has the wrong JSON type",
    FieldErrorCode.UNKNOWN: "the field is not accepted here",
    FieldErrorCode.EMPTY: "the text or list is empty: leave the field out or give a value",
    FieldErrorCode.TOO_LONG: "the value is longer than this service holds",
    FieldErrorCode.PATTERN: "the text has characters or a syntax the field does not allow "
                            "(whitespace, a control character, a lifetime without a unit, "
                            "a moment that is not ISO 8601)",
    FieldErrorCode.ENUM: "a value outside the field's list (permission, role, use)",
    FieldErrorCode.DUPLICATE: "a list names a value more than once",
    FieldErrorCode.CONFLICT: "the value contradicts another field or value (ask_join with "
                             "allow_join or allow_mod; the AI-agent form with a room)",
    FieldErrorCode.RANGE: "a number or lifetime is too small or too large",
    FieldErrorCode.POLICY: "allowed by VideoSDK but beyond the key's or the client's policy, "
                           "or the key is disabled (403 policy_violation)",
    FieldErrorCode.KEY_CHOICE: "no single key to sign with: the client may use none or several",
    FieldErrorCode.INVALID: "any other rule; the message says which",
}


@dataclass(frozen=True)
class FieldError:
    """One refusal of one field: a code from FieldErrorCode and a message for a person."""

    code: FieldErrorCode
    message: str

    def as_dict(self) -> dict[str, str]:
        """The API's form: {"code", "message"}."""
        return {"code": self.code.value, "message": self.message}


FieldErrors = dict[str, list[FieldError]]


def add_error(errors: FieldErrors, field: str, code: FieldErrorCode, message: str) -> None:
    """Record that ``field`` is refused for ``code``, with ``message`` for a person."""
    errors.setdefault(field, []).append(FieldError(code, message))


def as_field_errors(errors: Mapping[str, Sequence[FieldError | str]]) -> FieldErrors:
    """The errors with a code on each; a bare message is coded ``invalid``."""
    return {
        str(field): [item if isinstance(item, FieldError)
                     else FieldError(FieldErrorCode.INVALID, str(item)) for item in items]
        for field, items in errors.items()
    }


def messages(errors: Mapping[str, Sequence[FieldError]]) -> dict[str, list[str]]:
    """Each field's messages alone: the API's `errors`, the console's and the CLI's words."""
    return {field: [error.message for error in items] for field, items in errors.items()}
