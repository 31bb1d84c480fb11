"""The words of a VideoSDK token: its permissions, its roles and what each claim means (SPEC 2)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from webapp.tokens.moments import iso_utc
from webapp.tokens.reading import js_number


class Permission(StrEnum):
    """A value of the `permissions` claim."""

    ALLOW_JOIN = "allow_join"
    ASK_JOIN = "ask_join"
    ALLOW_MOD = "allow_mod"


class Role(StrEnum):
    """A value of the `roles` claim."""

    CRAWLER = "crawler"
    RTC = "rtc"


PERMISSION_EXPLANATIONS: Mapping[str, str] = MappingProxyType(
    {
        Permission.ALLOW_JOIN: "may join the meeting directly",
        Permission.ASK_JOIN: "must ask to join; someone holding allow_join lets them in",
        Permission.ALLOW_MOD: "may turn other participants' camera and microphone on and off",
    }
)

ROLE_EXPLANATIONS: Mapping[str, str] = MappingProxyType(
    {
        Role.CRAWLER: "server-side use of the VideoSDK v2 APIs only; cannot take part in a meeting",
        Role.RTC: "meetings only; cannot call the server-side APIs",
    }
)

PERMISSION_VALUES: frozenset[str] = frozenset(p.value for p in Permission)
ROLE_VALUES: frozenset[str] = frozenset(r.value for r in Role)

# `ask_join` means "wait to be let in": holding a permission that lets you in, or lets you
# moderate, contradicts it, and VideoSDK refuses the pair with 4008.
CONFLICTS_WITH_ASK_JOIN: frozenset[str] = frozenset({Permission.ALLOW_JOIN, Permission.ALLOW_MOD})

KNOWN_CLAIMS: tuple[str, ...] = (
    "apikey",
    "permissions",
    "version",
    "roomId",
    "participantId",
    "roles",
    "iat",
    "exp",
    "nbf",
)

CLAIM_PURPOSES: Mapping[str, str] = MappingProxyType(
    {
        "apikey": "the public VideoSDK API key; its secret signed the token",
        "permissions": "what the holder may do in a meeting",
        "version": "the token format; 2 is required when roomId, participantId or roles is used",
        "roomId": "the only meeting room this token opens",
        "participantId": "the only participant id this token may join as",
        "roles": "where the token may be used",
        "iat": "when the token was signed",
        "exp": "when the token stops working",
        "nbf": "the token does not work before this moment",
    }
)


def _short(value: object) -> str:
    """Render a claim value compactly for a sentence; never raises."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _moment(seconds: float) -> str | None:
    """Seconds since 1970 as a UTC sentence fragment, or None when no calendar can show it."""
    try:
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    except OverflowError:
        return None
    return iso_utc(moment)


def _explain_list(value: object, explanations: Mapping[str, str], what: str) -> str:
    if not isinstance(value, list):
        return f"should be a list of {what}, but is {_short(value)}"
    if not value:
        return f"an empty list: no {what}"
    parts = []
    for item in value:
        if isinstance(item, str) and item in explanations:
            parts.append(f"{item} ({explanations[item]})")
        else:
            parts.append(f"{_short(item)} (not a known value)")
    return "; ".join(parts)


def explain_claim(name: str, value: object) -> str:
    """Say in plain words what claim `name` with `value` means to VideoSDK; never raises."""
    purpose = CLAIM_PURPOSES.get(name)
    if name == "permissions":
        detail = _explain_list(value, PERMISSION_EXPLANATIONS, "permissions")
    elif name == "roles":
        detail = _explain_list(value, ROLE_EXPLANATIONS, "roles")
    elif name == "version":
        is_two = not isinstance(value, bool) and isinstance(value, int | float) and value == 2
        detail = "version 2" if is_two else f"{_short(value)}: should be the number 2"
    elif name in ("iat", "exp", "nbf"):
        seconds = js_number(value)
        moment = None if seconds is None else _moment(seconds)
        if seconds is None:
            detail = f"{_short(value)}: not a time in seconds since 1970"
        elif seconds > 1e11:
            detail = f"{_short(value)}: looks like milliseconds, not seconds"
        else:
            detail = moment or f"{_short(value)} seconds since 1970"
    elif name in ("apikey", "roomId", "participantId"):
        detail = _short(value) if isinstance(value, str) else f"{_short(value)}: should be text"
    else:
        return f"{name}: {_short(value)} (not used by VideoSDK; ignored)"
    return f"{name}: {purpose}. Here: {detail}."
