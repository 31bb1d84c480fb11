"""The public vocabulary of the diagnosis (SPEC 3): verdicts, severities, reason codes, reasons.

`REASON_CODES` is the SPEC 3 table in its order; `Findings` collects reasons, each code at
most once, and lists them errors first, then warnings, then infos, each in the table's order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from webapp.tokens.reading import Overflow


class Severity(StrEnum):
    """How much a reason weighs: only errors make a token invalid."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Verdict(StrEnum):
    """The one-word answer of a diagnosis."""

    VALID = "valid"
    INVALID = "invalid"
    UNVERIFIED = "unverified"


class Use(StrEnum):
    """What the customer tried to do with the token."""

    JOIN = "join"
    API = "api"


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

REASON_CODES: Mapping[str, tuple[Severity, int | None]] = MappingProxyType(
    {
        "input_cleaned": (_I, None),
        "not_a_jwt": (_E, None),
        "malformed": (_E, None),
        "truncated": (_E, None),
        "alg_not_hs256": (_E, None),
        "missing_apikey": (_E, 4001),
        "unknown_apikey": (_W, None),
        "sandbox_key": (_E, 4001),
        "key_disabled": (_W, None),
        "missing_permissions": (_E, None),
        "invalid_permissions": (_E, 4008),
        "conflicting_permissions": (_E, 4008),
        "invalid_roles": (_E, 4024),
        "version_required": (_E, None),
        "invalid_participant_id": (_E, 4004),
        "invalid_claim": (_E, None),
        "invalid_time_claim": (_E, None),
        "timestamps_in_ms": (_E, None),
        "bad_signature": (_E, 4002),
        "signed_with_other_key": (_E, 4002),
        "expired": (_E, 4002),
        "not_yet_valid": (_E, 4002),
        "issued_in_future": (_E, 4002),
        "born_expired": (_E, 4002),
        "very_short_lifetime": (_W, None),
        "no_expiry": (_W, None),
        "long_lifetime": (_W, None),
        "room_mismatch": (_E, 4022),
        "participant_mismatch": (_E, 4023),
        "crawler_cannot_join": (_E, 4024),
        "rtc_cannot_call_api": (_E, 4024),
        "issued_here": (_I, None),
        "secret_variant": (_E, 4002),
        "secret_exposed": (_E, None),
        "replaced_secret": (_E, 4002),
        "option_in_payload": (_W, None),
        "several_tokens": (_W, None),
    }
)
_TABLE_INDEX = {code: index for index, code in enumerate(REASON_CODES)}
_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True)
class Reason:
    """One reason from the public table of SPEC 3, in words for support staff."""

    code: str
    severity: Severity
    message: str
    fix: str
    videosdk_code: int | None

    def as_dict(self) -> dict[str, object]:
        """{code, severity, message, fix} plus videosdkCode when VideoSDK has one."""
        out: dict[str, object] = {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "fix": self.fix,
        }
        if self.videosdk_code is not None:
            out["videosdkCode"] = self.videosdk_code
        return out


def reason_order(reason: Reason) -> tuple[int, int]:
    """The sort key of SPEC 3 "Order and summary": severity group, then the table's order."""
    return _SEVERITY_RANK[reason.severity], _TABLE_INDEX[reason.code]


class Findings:
    """The reasons found so far, each code at most once (SPEC 3)."""

    def __init__(self) -> None:
        self.by_code: dict[str, Reason] = {}

    def add(self, code: str, message: str, fix: str) -> None:
        """Record `code` with its words, unless it was already found."""
        if code in self.by_code:
            return
        severity, videosdk_code = REASON_CODES[code]
        self.by_code[code] = Reason(code, severity, message, fix, videosdk_code)

    def drop(self, code: str) -> None:
        """Forget `code` (a code replaced by a more precise one)."""
        self.by_code.pop(code, None)

    def __contains__(self, code: str) -> bool:
        return code in self.by_code

    def ordered(self) -> tuple[Reason, ...]:
        """Errors, then warnings, then infos, each in the table's order."""
        return tuple(sorted(self.by_code.values(), key=reason_order))


def names(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def kind(value: object) -> str:
    """The JSON type of a value in words, for "should be X, but is Y"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Overflow):
        return "a number too large to hold"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


def normalise_use(use: Use | str | None) -> Use | None:
    """`use` as a Use; blank is None; anything but join/api raises ValueError."""
    if use is None or isinstance(use, Use):
        return use
    text = use.strip().lower()
    if not text:
        return None
    try:
        return Use(text)
    except ValueError:
        raise ValueError(f"use must be 'join' or 'api', not {use!r}") from None
