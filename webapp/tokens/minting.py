"""Minting: turn a request into a signed VideoSDK token with exactly the claims asked for."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from webapp.characters import CONTROL, FORMAT, describe, first_refused, is_whitespace
from webapp.tokens.field_errors import (
    FieldError,
    FieldErrorCode,
    FieldErrors,
    add_error,
    as_field_errors,
    messages,
)
from webapp.tokens.lifetimes import (
    LONGEST_LIFETIME,
    SHORTEST_LIFETIME,
    LifetimeError,
    format_lifetime,
    parse_lifetime,
)
from webapp.tokens.moments import as_utc, iso_utc
from webapp.tokens.signing import fingerprint, sign
from webapp.tokens.vocabulary import (
    CONFLICTS_WITH_ASK_JOIN,
    PERMISSION_VALUES,
    ROLE_VALUES,
    Permission,
)

DEFAULT_LIFETIME = "1h"
# The longest roomId or participantId this service signs and records (its history's columns).
MAX_ID_LENGTH = 255
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Policy:
    """What one key or one API client allows; when several apply, all must allow."""

    max_lifetime: float
    permissions: frozenset[str]
    roles: frozenset[str]


@dataclass(frozen=True)
class MintRequest:
    """The token someone asks for, in the words of the API's fields."""

    permissions: tuple[str, ...]
    roles: tuple[str, ...] | None = None
    room_id: str | None = None
    participant_id: str | None = None
    expires_in: int | float | str | None = None
    agent: bool = False


class MintError(ValueError):
    """The request breaks a VideoSDK rule (SPEC 2).

    `field_errors` maps API field names to coded FieldErrors; `errors` to their messages alone.
    """

    def __init__(self, errors: Mapping[str, Sequence[FieldError | str]]) -> None:
        self.field_errors: FieldErrors = as_field_errors(errors)
        self.errors: dict[str, list[str]] = messages(self.field_errors)
        super().__init__(" ".join(m for msgs in self.errors.values() for m in msgs))


class PolicyViolation(MintError):
    """VideoSDK would allow the request, but a key's or client's policy does not."""


@dataclass(frozen=True)
class MintedToken:
    """A signed token and exactly what went into it."""

    token: str
    apikey: str
    claims: dict[str, object]
    issued_at: datetime
    expires_at: datetime
    expires_in: int
    fingerprint: str

    def as_dict(self) -> dict[str, object]:
        """The API's 201 answer: {token, apikey, claims, issuedAt, expiresAt, expiresIn}."""
        return {
            "token": self.token,
            "apikey": self.apikey,
            "claims": dict(self.claims),
            "issuedAt": iso_utc(self.issued_at),
            "expiresAt": iso_utc(self.expires_at),
            "expiresIn": self.expires_in,
        }


def _refuse_repeats(values: list[str], field: str, errors: FieldErrors) -> None:
    """A value given twice is refused, not dropped: the token carries exactly what was asked."""
    repeated = [value for value, count in Counter(values).items() if count > 1]
    if repeated:
        add_error(
            errors, field, FieldErrorCode.DUPLICATE,
            f"{field} lists {', '.join(repr(v) for v in repeated)} more than once: "
            "give each value once."
        )


def _text_list(values: object, field: str, errors: FieldErrors) -> list[str] | None:
    """The values as a list of strings, or None after recording why they are not one."""
    if isinstance(values, str) or not isinstance(values, Sequence):
        add_error(errors, field, FieldErrorCode.TYPE, f"{field} must be a list of text values.")
        return None
    if not all(isinstance(v, str) for v in values):
        add_error(errors, field, FieldErrorCode.TYPE, f"{field} must hold only text values.")
        return None
    return list(values)


@dataclass(frozen=True)
class _ListClaim:
    """A claim holding a list of words from a fixed set, and what a refusal of it says."""

    field: str  # "permissions"
    word: str  # one value's name in a message: "permission"
    allowed: frozenset[str]
    when_empty: str
    use_instead: str  # after "Unknown permission 'x': "


_PERMISSIONS = _ListClaim(
    "permissions", "permission", PERMISSION_VALUES,
    "Give at least one permission: allow_join, ask_join or allow_mod.",
    "use allow_join, ask_join or allow_mod (VideoSDK error 4008).")
_ROLES = _ListClaim(
    "roles", "role", ROLE_VALUES, "roles is empty: leave it out, or give crawler and/or rtc.",
    "use crawler or rtc (VideoSDK error 4024).")


def _check_list(values: object, claim: _ListClaim, errors: FieldErrors) -> list[str] | None:
    """The claim's values as given (None when not a list of text), each refusal recorded:
    not a list of text, a value twice, none at all, a value outside ``claim.allowed``."""
    checked = _text_list(values, claim.field, errors)
    if checked is None:
        return None
    _refuse_repeats(checked, claim.field, errors)
    if not checked:
        add_error(errors, claim.field, FieldErrorCode.EMPTY, claim.when_empty)
    unknown = list(dict.fromkeys(v for v in checked if v not in claim.allowed))
    if unknown:
        add_error(
            errors, claim.field, FieldErrorCode.ENUM,
            f"Unknown {claim.word} {', '.join(repr(v) for v in unknown)}: {claim.use_instead}"
        )
    return checked


def _check_permissions(request: MintRequest, errors: FieldErrors) -> list[str]:
    permissions = _check_list(request.permissions, _PERMISSIONS, errors)
    if permissions is None:
        return []
    clashing = list(dict.fromkeys(p for p in permissions if p in CONFLICTS_WITH_ASK_JOIN))
    if Permission.ASK_JOIN in permissions and clashing:
        add_error(
            errors, "permissions", FieldErrorCode.CONFLICT,
            f"ask_join cannot be combined with {' or '.join(clashing)}: choose ask_join alone "
            "or drop it (VideoSDK error 4008)."
        )
    return permissions


def _check_roles(request: MintRequest, errors: FieldErrors) -> list[str] | None:
    return None if request.roles is None else _check_list(request.roles, _ROLES, errors)


def _is_unicode_text(value: str) -> bool:
    # JSON can carry lone surrogates ("\ud800") that no UTF-8 token or database can hold.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_id(value: object, field: str, errors: FieldErrors) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        add_error(errors, field, FieldErrorCode.TYPE, f"{field} must be text.")
        return None
    if value == "":
        add_error(errors, field, FieldErrorCode.EMPTY,
                  f"{field} is empty: leave it out or give a value.")
    elif not _is_unicode_text(value):
        add_error(errors, field, FieldErrorCode.PATTERN,
                  f"{field} must be valid Unicode text: it holds an unpaired surrogate.")
    elif len(value) > MAX_ID_LENGTH:
        add_error(
            errors, field, FieldErrorCode.TOO_LONG,
            f"{field} is {len(value)} characters long; this service keeps ids of at most "
            f"{MAX_ID_LENGTH}.",
        )
    elif field == "participantId" and any(is_whitespace(ch) for ch in value):
        add_error(errors, field, FieldErrorCode.PATTERN,
                  "participantId must not contain spaces or other whitespace "
                  "(VideoSDK error 4004).")
    elif control := first_refused(value, frozenset({CONTROL})):
        add_error(errors, field, FieldErrorCode.PATTERN,
                  f"{field} holds the control character U+{ord(control):04X}: "
                  "no VideoSDK id does.")
    elif invisible := first_refused(value, frozenset({FORMAT})):
        # U+202E shows a room id reversed, U+200B hides a difference: the id would not read
        # as what it is, in the history and in anyone's logs.
        add_error(errors, field, FieldErrorCode.PATTERN,
                  f"{field} holds the invisible format character {describe(invisible)}, "
                  "which makes it display as something it is not: remove it.")
    return value


def _check_lifetime(request: MintRequest, errors: FieldErrors) -> float:
    asked = DEFAULT_LIFETIME if request.expires_in is None else request.expires_in
    try:
        lifetime = parse_lifetime(asked)
    except LifetimeError as err:
        add_error(errors, "expiresIn", err.code, str(err))
        return 0.0
    if lifetime > LONGEST_LIFETIME:
        add_error(
            errors, "expiresIn", FieldErrorCode.RANGE,
            f"A lifetime of {format_lifetime(lifetime)} is longer than any token needs: "
            "ask for days, such as '30d'."
        )
    elif lifetime < SHORTEST_LIFETIME:
        add_error(
            errors, "expiresIn", FieldErrorCode.RANGE,
            f"A lifetime of {format_lifetime(lifetime)} is under a second: the token would be "
            "expired before it arrives. Ask for at least '1s', more likely '10m' or '1h'."
        )
    return lifetime


def _check_policies(
    policies: Sequence[Policy], lifetime: float, permissions: list[str], roles: list[str] | None
) -> FieldErrors:
    refusals: FieldErrors = {}
    if not policies:
        return refusals
    limit = min(p.max_lifetime for p in policies)
    if lifetime > limit:
        add_error(
            refusals, "expiresIn", FieldErrorCode.POLICY,
            f"A lifetime of {format_lifetime(lifetime)} is beyond the maximum allowed here, "
            f"{format_lifetime(limit)}: ask for {format_lifetime(limit)} or less.",
        )
    denied = [p for p in permissions if any(p not in pol.permissions for pol in policies)]
    if denied:
        add_error(
            refusals, "permissions", FieldErrorCode.POLICY,
            f"The permission {', '.join(denied)} is not allowed here: leave it out or ask an "
            "admin to allow it for this key.",
        )
    denied_roles = [r for r in roles or () if any(r not in pol.roles for pol in policies)]
    if denied_roles:
        add_error(
            refusals, "roles", FieldErrorCode.POLICY,
            f"The role {', '.join(denied_roles)} is not allowed here: leave it out or ask an "
            "admin to allow it for this key.",
        )
    return refusals


def mint(
    request: MintRequest,
    *,
    apikey: str,
    secret: str,
    policies: Sequence[Policy] = (),
    now: datetime | None = None,
) -> MintedToken:
    """Sign a token with exactly the claims asked for plus iat, exp and, when needed, version 2.

    Raises MintError (all VideoSDK rule breaks at once) or, after those pass, PolicyViolation.
    A request is refused whole, never trimmed to fit.
    """
    errors: FieldErrors = {}
    if not isinstance(apikey, str) or not apikey:
        add_error(errors, "apikey", FieldErrorCode.REQUIRED,
                  "An API key is required (VideoSDK error 4001).")
    if not secret:
        raise ValueError("a secret is required to sign a token")
    permissions = _check_permissions(request, errors)
    roles = _check_roles(request, errors)
    room_id = _check_id(request.room_id, "roomId", errors)
    participant_id = _check_id(request.participant_id, "participantId", errors)
    lifetime = _check_lifetime(request, errors)
    if request.agent:
        for field, value in (
            ("roomId", request.room_id),
            ("participantId", request.participant_id),
            ("roles", request.roles),
        ):
            if value is not None:
                add_error(
                    errors, field, FieldErrorCode.CONFLICT,
                    f"The AI-agent form carries only apikey and permissions: leave {field} out."
                )
    if errors:
        raise MintError(errors)
    refusals = _check_policies(policies, lifetime, permissions, roles)
    if refusals:
        raise PolicyViolation(refusals)

    moment = as_utc(now) if now is not None else datetime.now(UTC)
    # As jsonwebtoken: iat = Math.floor(Date.now() / 1000), exp = Math.floor(iat + ms / 1000).
    iat = math.floor(moment.timestamp())
    exp = math.floor(iat + lifetime)
    claims: dict[str, object] = {"apikey": apikey, "permissions": permissions}
    if room_id is not None or participant_id is not None or roles is not None:
        claims["version"] = 2
    if room_id is not None:
        claims["roomId"] = room_id
    if participant_id is not None:
        claims["participantId"] = participant_id
    if roles is not None:
        claims["roles"] = roles
    claims["iat"] = iat
    claims["exp"] = exp
    token = sign(claims, secret)
    return MintedToken(
        token=token,
        apikey=apikey,
        claims=claims,
        issued_at=_EPOCH + timedelta(seconds=iat),
        expires_at=_EPOCH + timedelta(seconds=exp),
        expires_in=exp - iat,
        fingerprint=fingerprint(token),
    )
