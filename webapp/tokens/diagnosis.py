"""The diagnosis of a pasted token (SPEC 3): every reason VideoSDK would refuse it, and the fix.

PyJWT (through `signing`) only checks signatures. The claim and time rules are ours and follow
node jsonwebtoken 9, which is what VideoSDK's own examples sign with.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from webapp.tokens.lifetimes import format_lifetime
from webapp.tokens.moments import as_utc, describe_expiry, duration, iso_utc, relative
from webapp.tokens.reading import (
    Overflow,
    alphabet_problem,
    clean_paste,
    decode_segment,
    json_safe_object,
    parse_object,
    show,
)
from webapp.tokens.signing import SIGNATURE_LENGTH, fingerprint, signature_matches
from webapp.tokens.vocabulary import (
    CONFLICTS_WITH_ASK_JOIN,
    PERMISSION_VALUES,
    ROLE_VALUES,
    Permission,
    Role,
    explain_claim,
)


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
    }
)
_ORDER = {code: index for index, code in enumerate(REASON_CODES)}

MILLISECONDS_THRESHOLD = 1e11  # seconds-since-1970 values stay below this until the year 5138
FUTURE_TOLERANCE = 60  # seconds of clock skew forgiven on iat
ZONE_STEP = 15 * 60  # every time zone in use is a multiple of 15 minutes from UTC
MAX_ZONE = 14 * 3600  # UTC+14 (Kiribati) is the furthest ahead of UTC any clock runs
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIME_CLAIMS = ("iat", "exp", "nbf")


@dataclass(frozen=True)
class ReplacedSecret:
    """A secret a stored key had before an admin replaced it (SPEC 3 `replaced_secret`)."""

    secret: str = field(repr=False)
    replaced_at: datetime
    replaced_by: str


@dataclass(frozen=True)
class KnownKey:
    """A VideoSDK key pair stored in this service, with its policy flags.

    `replaced_secrets` holds the secrets the key had before, newest first, kept 90 days
    (SPEC 4 `/admin/keys`), so that a backend still signing with an old one is named.
    """

    label: str
    apikey: str
    secret: str = field(repr=False)
    disabled: bool = False
    sandbox: bool = False
    max_lifetime: float | None = None
    replaced_secrets: tuple[ReplacedSecret, ...] = ()


@dataclass(frozen=True)
class Issuance:
    """Who issued a token here, found by its fingerprint."""

    issuer: str
    issuer_kind: str
    issued_at: datetime
    key_label: str | None
    client_id: str | None
    # Others who signed the very same token (same claims, key and second) here.
    also_by: tuple[str, ...] = ()


Lookup = Callable[[str], Issuance | None]


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


@dataclass(frozen=True)
class Diagnosis:
    """Everything the engine found about one paste; holds no secret."""

    verdict: Verdict
    reasons: tuple[Reason, ...]
    cleaned: str = field(repr=False)
    removed: tuple[str, ...]
    header: dict[str, object] | None
    claims: dict[str, object] | None
    segments: tuple[str, str, str] | None = field(repr=False)
    signature_status: str
    key_label: str | None
    checked_at: datetime
    issued_at: datetime | None
    expires_at: datetime | None
    not_before: datetime | None
    issuance: Issuance | None
    fingerprint: str

    @property
    def summary(self) -> str:
        """One or two plain sentences support can send the customer as they are (SPEC 3).

        The root cause and what to change; for a valid token, until when VideoSDK accepts it
        and which stored key signed it. Never a secret.
        """
        errors = [r for r in self.reasons if r.severity is Severity.ERROR]
        if errors:
            return f"{errors[0].message} {errors[0].fix}"
        if self.verdict is Verdict.VALID:
            until = f" until {iso_utc(self.expires_at)}" if self.expires_at else ""
            by = f"the key '{self.key_label}'" if self.key_label else "the secret given"
            return f"VideoSDK will accept this token{until}; it was signed with {by}."
        return ("The token reads well, but its signature could not be checked: no stored "
                "secret belongs to its apikey.")

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes, in the order of the public table."""
        return tuple(r.code for r in self.reasons)

    def as_dict(self) -> dict[str, object]:
        """The API answer: {verdict, summary, reasons, header, claims, signature, issuedAt,
        expiresAt}."""
        signature: dict[str, object] = {"status": self.signature_status}
        if self.key_label is not None:
            signature["keyLabel"] = self.key_label
        return {
            "verdict": self.verdict.value,
            "summary": self.summary,
            "reasons": [r.as_dict() for r in self.reasons],
            "header": self.header,
            "claims": self.claims,
            "signature": signature,
            "issuedAt": iso_utc(self.issued_at) if self.issued_at else None,
            "expiresAt": iso_utc(self.expires_at) if self.expires_at else None,
        }

    def report(self) -> str:
        """A plain-text report for support to copy; never the token, its signature or a secret."""
        lines = [f"verdict: {self.verdict.value}", f"checked at: {iso_utc(self.checked_at)}"]
        if self.signature_status == "verified":
            by = f" with key '{self.key_label}'" if self.key_label else " with the secret given"
            lines.append(f"signature: verified{by}")
        elif self.signature_status == "mismatch":
            lines.append(
                "signature: does not match"
                + (f" (matches key '{self.key_label}')" if self.key_label else "")
            )
        else:
            lines.append("signature: not checked")
        lines.append(f"fingerprint (SHA-256): {self.fingerprint}")
        if self.removed:
            lines.append("cleaned from the paste: " + ", ".join(self.removed))
        lines.append("")
        lines.append("reasons:" if self.reasons else "reasons: none")
        for reason in self.reasons:
            code = f", VideoSDK {reason.videosdk_code}" if reason.videosdk_code else ""
            lines.append(f"- {reason.code} ({reason.severity.value}{code}): {reason.message}")
            lines.append(f"  fix: {reason.fix}")
        times = (
            ("issued", self.issued_at),
            ("not before", self.not_before),
            ("expires", self.expires_at),
        )
        if any(moment for _, moment in times):
            lines.append("")
            lines.append("times:")
            for name, moment in times:
                if moment is None:
                    continue
                words = (
                    describe_expiry(moment, self.checked_at)
                    if name == "expires"
                    else relative(moment, self.checked_at)
                )
                lines.append(f"  {name}: {iso_utc(moment)} ({words})")
        if self.header is not None:
            lines.append("")
            lines.append(f"header: {show(self.header)}")
        if self.claims is not None:
            lines.append("")
            lines.append("claims:")
            for name, value in self.claims.items():
                lines.append(f"  {explain_claim(name, value)}")
        if self.issuance is not None:
            lines.append("")
            lines.append(f"issued here: {_issuance_words(self.issuance, self.checked_at)}")
        return "\n".join(lines) + "\n"


def _issuance_words(issuance: Issuance, at: datetime) -> str:
    who = (
        f"API client {issuance.issuer}"
        if issuance.issuer_kind == "client"
        else f"{issuance.issuer}"
    )
    key = f", with key '{issuance.key_label}'" if issuance.key_label else ""
    when = as_utc(issuance.issued_at)
    others = f"; the same token was also issued by {_names(issuance.also_by)}" \
        if issuance.also_by else ""
    return f"by {who} on {iso_utc(when)} ({relative(when, at)}){key}{others}"


def _number(value: object) -> float | None:
    """A claim as JavaScript reads a JSON number: finite, never a boolean; else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _is_version_two(value: object) -> bool:
    return _number(value) == 2


def _moment(seconds: float) -> datetime | None:
    try:
        return _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return None


def _when(seconds: float) -> str:
    moment = _moment(seconds)
    return iso_utc(moment) if moment is not None and moment.year >= 1 else f"{seconds:g}"


def _kind(value: object) -> str:
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


def _names(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _zone(gap: float) -> str | None:
    """'UTC+5:30' when a clock running `gap` seconds ahead looks like a local time taken as UTC."""
    steps = round(gap / ZONE_STEP)
    if steps < 1 or abs(gap - steps * ZONE_STEP) > FUTURE_TOLERANCE:
        return None
    offset = steps * ZONE_STEP
    if offset > MAX_ZONE:
        return None
    hours, minutes = divmod(offset // 60, 60)
    return f"UTC+{hours}" + (f":{minutes:02d}" if minutes else "")


class _Findings:
    """The reasons found so far, each code at most once."""

    def __init__(self) -> None:
        self.by_code: dict[str, Reason] = {}

    def add(self, code: str, message: str, fix: str) -> None:
        if code in self.by_code:
            return
        severity, videosdk_code = REASON_CODES[code]
        self.by_code[code] = Reason(code, severity, message, fix, videosdk_code)

    def __contains__(self, code: str) -> bool:
        return code in self.by_code

    def ordered(self) -> tuple[Reason, ...]:
        return tuple(sorted(self.by_code.values(), key=lambda r: _ORDER[r.code]))


def _normalise_use(use: Use | str | None) -> Use | None:
    if use is None or isinstance(use, Use):
        return use
    text = use.strip().lower()
    if not text:
        return None
    try:
        return Use(text)
    except ValueError:
        raise ValueError(f"use must be 'join' or 'api', not {use!r}") from None


def _not_a_jwt_message(text: str) -> str:
    if not text:
        return "There is nothing to read: the paste is empty."
    parts = text.count(".") + 1
    if parts == 5:
        kind = "It has five parts, like an encrypted token (JWE); VideoSDK tokens are signed JWTs."
    elif (
        parts == 1
        and len(text) in (32, 36, 64)
        and all(c in "0123456789abcdefABCDEF-" for c in text)
    ):
        kind = "It looks like an API key or a secret, not a token."
    else:
        kind = f"This text has {parts} part{'s' if parts != 1 else ''}."
    return (
        "This is not a token: a VideoSDK token is a JWT, three parts joined by dots "
        f"(header.payload.signature). {kind}"
    )


def diagnose(
    raw: str,
    *,
    keys: Sequence[KnownKey] = (),
    lookup: Lookup | None = None,
    room_id: str | None = None,
    participant_id: str | None = None,
    use: Use | str | None = None,
    at: datetime | None = None,
    secret: str | None = None,
) -> Diagnosis:
    """Every reason VideoSDK would refuse `raw` at `at` (default now), per SPEC 3; never raises.

    `secret` is a one-off secret that stands in for the stored one of the token's apikey; it is
    used for this check only and appears in no output. An empty secret, room, participant or
    use is taken as not given. A `use` other than join/api raises ValueError (a caller's mistake).
    """
    checked_at = as_utc(at) if at is not None else datetime.now(UTC)
    use_ = _normalise_use(use)
    cleaned = clean_paste(raw if isinstance(raw, str) else "")
    text = cleaned.text
    found = _Findings()
    if cleaned.removed:
        found.add(
            "input_cleaned",
            "Before reading, the paste was cleaned: removed " + _names(list(cleaned.removed)) + ".",
            "Nothing to change in the token for this. When sending it, pass the token alone: "
            "no quotes, no 'Bearer ' prefix, no spaces or line breaks.",
        )
    token_fingerprint = fingerprint(text)
    parts = text.split(".")
    if len(parts) != 3:
        found.add(
            "not_a_jwt",
            _not_a_jwt_message(text),
            "Paste the token itself: the long text starting 'eyJ' with two dots in it, as "
            "returned by the server that signs tokens. An API key or secret is not a token.",
        )
        return Diagnosis(
            verdict=Verdict.INVALID,
            reasons=found.ordered(),
            cleaned=text,
            removed=cleaned.removed,
            header=None,
            claims=None,
            segments=None,
            signature_status="unchecked",
            key_label=None,
            checked_at=checked_at,
            issued_at=None,
            expires_at=None,
            not_before=None,
            issuance=None,
            fingerprint=token_fingerprint,
        )
    engine = _Engine(
        text=text,
        parts=(parts[0], parts[1], parts[2]),
        keys=keys,
        found=found,
        checked_at=checked_at,
        secret=secret or None,
    )
    engine.run(room_id=room_id or None, participant_id=participant_id or None, use=use_)
    issuance = lookup(token_fingerprint) if lookup is not None else None
    if issuance is not None:
        found.add(
            "issued_here",
            f"This token was issued here {_issuance_words(issuance, checked_at)}.",
            "Nothing to fix for this; ask the issuer if the token should not exist.",
        )
    reasons = found.ordered()
    if any(r.severity is Severity.ERROR for r in reasons):
        verdict = Verdict.INVALID
    elif engine.status == "verified":
        verdict = Verdict.VALID
    else:
        verdict = Verdict.UNVERIFIED
    usable = engine.usable
    return Diagnosis(
        verdict=verdict,
        reasons=reasons,
        cleaned=text,
        removed=cleaned.removed,
        header=engine.header_echo,
        claims=engine.claims_echo,
        segments=(parts[0], parts[1], parts[2]),
        signature_status=engine.status,
        key_label=engine.key_label,
        checked_at=checked_at,
        issued_at=_moment(usable["iat"]) if "iat" in usable else None,
        expires_at=_moment(usable["exp"]) if "exp" in usable else None,
        not_before=_moment(usable["nbf"]) if "nbf" in usable else None,
        issuance=issuance,
        fingerprint=token_fingerprint,
    )


class _Engine:
    """Steps 2 and 3 of SPEC 3 for a three-part token."""

    def __init__(
        self,
        *,
        text: str,
        parts: tuple[str, str, str],
        keys: Sequence[KnownKey],
        found: _Findings,
        checked_at: datetime,
        secret: str | None,
    ) -> None:
        self.text = text
        self.parts = parts
        self.keys = keys
        self.found = found
        self.secret = secret
        # As jsonwebtoken: clockTimestamp = Math.floor(Date.now() / 1000).
        self.now = math.floor(checked_at.timestamp())
        self.header_echo: dict[str, object] | None = None
        self.claims_echo: dict[str, object] | None = None
        self.status = "unchecked"
        self.key_label: str | None = None
        self.usable: dict[str, float] = {}

    def run(self, *, room_id: str | None, participant_id: str | None, use: Use | None) -> None:
        header_seg, payload_seg, signature_seg = self.parts
        problems: list[str] = []
        header: dict[str, object] | None = None
        claims: dict[str, object] | None = None

        decoded = decode_segment(header_seg)
        parsed = decoded if isinstance(decoded, str) else parse_object(decoded)
        if isinstance(parsed, str):
            problems.append(f"the header {parsed}")
        else:
            header = parsed
        decoded = decode_segment(payload_seg)
        parsed = decoded if isinstance(decoded, str) else parse_object(decoded)
        if isinstance(parsed, str):
            problems.append(f"the payload {parsed}")
        else:
            claims = parsed
        # Only the alphabet counts for the signature: node's jws reads any base64url text as a
        # signature (a wrong length is then a mismatch, or `truncated` when short).
        signature_problem = alphabet_problem(signature_seg)
        if signature_problem is not None:
            problems.append(f"the signature {signature_problem}")
        if problems:
            self.found.add(
                "malformed",
                "The token cannot be read: " + "; ".join(problems) + ".",
                "Copy the whole token again without changing it. A token is three base64url "
                "parts (letters, digits, '-' and '_') joined by dots, each of the first two a "
                "JSON object.",
            )
        self.header_echo = json_safe_object(header) if header is not None else None
        self.claims_echo = json_safe_object(claims) if claims is not None else None

        checkable = header is not None
        if len(signature_seg) < SIGNATURE_LENGTH:
            checkable = False
            self.found.add(
                "truncated",
                f"The signature part is {len(signature_seg)} characters long; an HS256 "
                f"signature is {SIGNATURE_LENGTH}. The token was cut short.",
                "Copy the whole token again: it was probably clipped by a length limit or a "
                "line break while copying.",
            )
        if header is not None and header.get("alg") != "HS256":
            checkable = False
            self._alg(header)

        apikey = claims.get("apikey") if claims is not None else None
        named = [k for k in self.keys if isinstance(apikey, str) and apikey and k.apikey == apikey]
        signer = self._signature(checkable, apikey, named)
        self._key_flags(signer, named)
        if claims is None:
            return
        self._apikey(claims, signer)
        self._permissions(claims)
        self._roles_and_version(claims)
        self._times(claims, signer or (named[0] if named else None))
        self._context(claims, room_id=room_id, participant_id=participant_id, use=use)

    # -- header ---------------------------------------------------------------------------

    def _alg(self, header: Mapping[str, object]) -> None:
        if "alg" not in header:
            message = "The header has no alg: VideoSDK accepts only tokens signed with HS256."
        elif header["alg"] == "none":
            message = (
                "The header says alg 'none': the token is unsigned, and VideoSDK accepts only "
                "HS256."
            )
        else:
            message = (
                f"The header's alg is {show(header['alg'])}; VideoSDK accepts only HS256 "
                "(HMAC with SHA-256, exactly so spelled)."
            )
        self.found.add(
            "alg_not_hs256",
            message + " The signature was not checked.",
            "Sign with HS256, jsonwebtoken's default: pass no 'algorithm' option (or "
            "algorithm: 'HS256') and no header.alg.",
        )

    # -- signature and keys ---------------------------------------------------------------

    def _signature(self, checkable: bool, apikey: object, named: list[KnownKey]) -> KnownKey | None:
        """Check the signature; return the stored key whose secret made it, if one did."""
        unknown = isinstance(apikey, str) and bool(apikey) and not named
        if not checkable:
            if unknown and self.secret is None:
                self._unknown_apikey(apikey, checked=False)
            return None
        primary: list[tuple[KnownKey | None, str]]
        if self.secret is not None:
            primary = [(None, self.secret)]
        else:
            primary = [(key, key.secret) for key in named]
        for key, secret in primary:
            if signature_matches(self.text, secret):
                self.status = "verified"
                self.key_label = key.label if key is not None else None
                return key
        tried = {id(key) for key, _ in primary if key is not None}
        other = next(
            (k for k in self.keys if id(k) not in tried and signature_matches(self.text, k.secret)),
            None,
        )
        if other is not None and self.secret is not None and any(other is k for k in named):
            # The one-off secret failed, but the key the apikey names verifies: the token is
            # its own key's, so this is no "other key" — the secret given is the wrong one.
            self.status = "mismatch"
            self._bad_signature(apikey, named, stored_match=other)
            return None
        if other is not None:
            if primary or unknown:
                self.status = "mismatch"
                self.key_label = other.label
                self._signed_with_other_key(apikey, named, other)
            else:
                # No apikey to hold it against: name the key that signed (missing_apikey says so).
                self.status = "verified"
                self.key_label = other.label
            return other
        if primary:
            self.status = "mismatch"
            self.key_label = named[0].label if self.secret is None and named else None
            self._bad_signature(apikey, named)
        elif unknown:
            self._unknown_apikey(apikey, checked=True)
        return None

    def _unknown_apikey(self, apikey: object, *, checked: bool) -> None:
        tried = " and no stored secret matches the signature" if checked and self.keys else ""
        self.found.add(
            "unknown_apikey",
            f"The apikey {show(apikey)} is not one of the keys stored here{tried}, so the "
            "signature was not checked. VideoSDK will accept the token only if this is a real "
            "VideoSDK API key and the token was signed with its secret.",
            "Check the API key on the VideoSDK dashboard; to check the signature here, ask an "
            "admin to add the key, or give its secret as a one-off secret.",
        )

    def _bad_signature(
        self, apikey: object, named: list[KnownKey], stored_match: KnownKey | None = None
    ) -> None:
        if stored_match is not None:
            self.found.add(
                "bad_signature",
                "The signature does not match the one-off secret given; the stored secret of "
                f"key '{stored_match.label}' (apikey {show(apikey)}) does match it, so the "
                "one-off secret is not this token's secret.",
                f"Check the one-off secret: the token was signed with the secret of key "
                f"'{stored_match.label}', which is stored here; leave the one-off secret empty "
                "to check against it.",
            )
            return
        if self.secret is not None:
            against = "the one-off secret given"
        elif named:
            against = f"the secret of key '{named[0].label}' (apikey {show(apikey)})"
        else:
            against = "the secret given"
        others = " nor any other stored secret" if len(self.keys) > len(named) else ""
        self.found.add(
            "bad_signature",
            f"The signature does not match {against}{others}: the token was changed after "
            "signing, or signed with a secret that is not stored here.",
            f"Sign the token again with the secret that belongs to apikey {show(apikey)} "
            "(VideoSDK dashboard, API keys), and send it unchanged.",
        )

    def _signed_with_other_key(
        self, apikey: object, named: list[KnownKey], other: KnownKey
    ) -> None:
        if isinstance(apikey, str) and apikey:
            claimed = f"the token's apikey is {show(apikey)}"
            if named:
                claimed += f" (key '{named[0].label}')"
            elif self.secret is None:
                claimed += ", which is not stored here"
        else:
            claimed = "the token names no usable apikey"
        given = "It does not match the one-off secret given. " if self.secret is not None else ""
        self.found.add(
            "signed_with_other_key",
            f"{given}The signature matches the secret of stored key '{other.label}' "
            f"(apikey {other.apikey}), but {claimed}. VideoSDK checks the signature with the "
            "secret of the token's apikey, so it refuses the token.",
            f"Make apikey and secret a pair: put apikey '{other.apikey}' in the token, or sign "
            f"with the secret that belongs to apikey {show(apikey)}.",
        )

    def _key_flags(self, signer: KnownKey | None, named: list[KnownKey]) -> None:
        concerned = ([signer] if signer is not None else []) + [k for k in named if k is not signer]
        sandbox = next((k for k in concerned if k.sandbox), None)
        if sandbox is not None:
            how = "signed with" if sandbox is signer else "names the apikey of"
            self.found.add(
                "sandbox_key",
                f"The token {how} this service's sandbox key '{sandbox.label}'. That key exists "
                "only here for trying things out: VideoSDK does not know it and refuses the "
                "token (invalid API key).",
                "Mint with a real VideoSDK key: ask an admin to add the key pair from the "
                "VideoSDK dashboard.",
            )
        disabled = next((k for k in concerned if k.disabled), None)
        if disabled is not None:
            self.found.add(
                "key_disabled",
                f"Key '{disabled.label}' is disabled in this service. VideoSDK may still "
                "accept tokens signed with it until the key is deleted or regenerated there.",
                "Mint new tokens with an active key; if the key leaked, also regenerate it on "
                "the VideoSDK dashboard.",
            )

    # -- claims ---------------------------------------------------------------------------

    def _apikey(self, claims: Mapping[str, object], signer: KnownKey | None) -> None:
        value = claims.get("apikey")
        if "apikey" in claims and value != "":
            return
        what = "has no apikey claim" if "apikey" not in claims else "has an empty apikey"
        if signer is not None and self.status == "verified":
            self.found.add(
                "missing_apikey",
                f"The token {what}; VideoSDK needs it to know which key signed the token. Its "
                f"signature matches the secret of stored key '{signer.label}'.",
                f"Add apikey: '{signer.apikey}' to the payload and sign again.",
            )
            return
        self.found.add(
            "missing_apikey",
            f"The token {what}; VideoSDK needs it to know which key signed the token.",
            "Add the claim apikey with your VideoSDK API key (the public key, not the secret) "
            "and sign again with that key's secret.",
        )

    def _permissions(self, claims: Mapping[str, object]) -> None:
        if "permissions" not in claims or claims["permissions"] == []:
            what = (
                "has no permissions claim"
                if "permissions" not in claims
                else ("has an empty permissions list")
            )
            self.found.add(
                "missing_permissions",
                f"The token {what}: it allows nothing.",
                "Add permissions: ['allow_join'] (join directly) or ['ask_join'] (ask to be let "
                "in), and sign again.",
            )
            return
        value = claims["permissions"]
        if not isinstance(value, list):
            self.found.add(
                "invalid_permissions",
                f"permissions must be a list, but is {_kind(value)} ({show(value)}).",
                "Write permissions as a list, such as permissions: ['allow_join'].",
            )
            return
        unknown = [v for v in value if not (isinstance(v, str) and v in PERMISSION_VALUES)]
        if unknown:
            hint = ""
            if any(isinstance(v, str) and v.lower() in PERMISSION_VALUES for v in unknown):
                hint = " Values are case-sensitive."
            self.found.add(
                "invalid_permissions",
                f"permissions holds {_names([show(v) for v in unknown])}, which "
                f"{'is' if len(unknown) == 1 else 'are'} not a VideoSDK permission; the known "
                f"ones are allow_join, ask_join and allow_mod.{hint}",
                "Use only allow_join, ask_join and allow_mod, spelled exactly so.",
            )
        clashing = [p for p in CONFLICTS_WITH_ASK_JOIN if p in value]
        if Permission.ASK_JOIN in value and clashing:
            others = _names(sorted(clashing))
            self.found.add(
                "conflicting_permissions",
                f"permissions holds ask_join together with {others}: ask_join means waiting to "
                "be let in, which the others contradict.",
                f"Keep ask_join alone (a participant who asks to join), or drop it and keep "
                f"{others}.",
            )

    def _roles_and_version(self, claims: Mapping[str, object]) -> None:
        invalid: list[str] = []
        if "roles" in claims:
            roles = claims["roles"]
            if not isinstance(roles, list):
                self.found.add(
                    "invalid_roles",
                    f"roles must be a list, but is {_kind(roles)} ({show(roles)}).",
                    "Write roles as a list such as roles: ['rtc'], or leave roles out.",
                )
            else:
                unknown = [r for r in roles if not (isinstance(r, str) and r in ROLE_VALUES)]
                if unknown:
                    self.found.add(
                        "invalid_roles",
                        f"roles holds {_names([show(r) for r in unknown])}, which "
                        f"{'is' if len(unknown) == 1 else 'are'} not a VideoSDK role; the known "
                        "ones are crawler and rtc.",
                        "Use only crawler (server-side APIs) and rtc (meetings), or leave roles "
                        "out.",
                    )
        needing = [name for name in ("roomId", "participantId", "roles") if name in claims]
        version = claims.get("version")
        if needing and not _is_version_two(version):
            now = (
                "version is absent"
                if "version" not in claims
                else (f"version is {show(version)} ({_kind(version)})")
            )
            self.found.add(
                "version_required",
                f"{_names(needing)} {'is' if len(needing) == 1 else 'are'} present, which needs "
                f"version: 2 (the number), but {now}.",
                "Add version: 2 to the payload, the number 2 and not the string '2'.",
            )
        if "version" in claims and not _is_version_two(version):
            invalid.append(
                f"version should be the number 2, but is {show(version)} ({_kind(version)})"
            )
        for name in ("apikey", "roomId", "participantId"):
            if name in claims and not isinstance(claims[name], str):
                invalid.append(
                    f"{name} should be text, but is {_kind(claims[name])} ({show(claims[name])})"
                )
        participant = claims.get("participantId")
        if isinstance(participant, str) and any(c.isspace() for c in participant):
            self.found.add(
                "invalid_participant_id",
                f"participantId {show(participant)} contains whitespace, which VideoSDK refuses.",
                "Use a participantId without spaces, tabs or line breaks (for example replace "
                "spaces with '_').",
            )
        if invalid:
            self.found.add(
                "invalid_claim",
                "Claims of the wrong type or value: " + "; ".join(invalid) + ".",
                "Give each claim the type VideoSDK expects: apikey, roomId and participantId as "
                "text, version as the number 2.",
            )

    # -- times ----------------------------------------------------------------------------

    def _times(self, claims: Mapping[str, object], key: KnownKey | None) -> None:
        invalid: list[str] = []
        in_ms: list[str] = []
        for name in _TIME_CLAIMS:
            if name not in claims:
                continue
            number = _number(claims[name])
            if number is None:
                invalid.append(f"{name} is {_kind(claims[name])} ({show(claims[name])})")
            elif number > MILLISECONDS_THRESHOLD:
                in_ms.append(name)
            else:
                self.usable[name] = number
        if invalid:
            self.found.add(
                "invalid_time_claim",
                "Time claims must be finite numbers of seconds since 1970, but "
                f"{'; '.join(invalid)}. jsonwebtoken refuses such a token.",
                f"Set {_names([i.split(' ')[0] for i in invalid])} as a whole number of seconds, "
                "or let jsonwebtoken do it: it sets iat itself, and exp from expiresIn: '1h'.",
            )
        if in_ms:
            shown = "; ".join(
                f"{n} is {show(claims[n])}, which as milliseconds is "
                f"{_when((_number(claims[n]) or 0) / 1000)}"
                for n in in_ms
            )
            self.found.add(
                "timestamps_in_ms",
                f"{_names(in_ms)} {'is' if len(in_ms) == 1 else 'are'} in milliseconds, not "
                f"seconds ({shown}): read as seconds, they lie thousands of years ahead.",
                f"Divide {_names(in_ms)} by 1000: in JavaScript use Math.floor(Date.now() / 1000), "
                "or let jsonwebtoken set iat and exp (expiresIn: '1h').",
            )
        iat = self.usable.get("iat")
        exp = self.usable.get("exp")
        nbf = self.usable.get("nbf")
        now = self.now
        if exp is not None and now >= exp:
            ago = f"expired {duration(now - exp)} ago" if now - exp >= 1 else "expired just now"
            self.found.add(
                "expired",
                f"The token {ago}: exp is {_when(exp)}, checked at {_when(now)}. VideoSDK "
                "answers 'Token is invalid or expired'.",
                "Mint a new token. It is checked only when joining, so its lifetime must cover "
                "the time until the join (for example expiresIn: '1h'), not the whole meeting.",
            )
        if nbf is not None and nbf > now:
            self.found.add(
                "not_yet_valid",
                f"The token is not valid before {_when(nbf)} (nbf), {duration(nbf - now)} after "
                f"the moment checked ({_when(now)}).",
                "Leave nbf out (no notBefore option), or set it at or before the moment of use.",
            )
        if exp is None and "exp" not in claims:
            self.found.add(
                "no_expiry",
                "The token has no exp claim: it never expires, so a leaked copy works forever.",
                "Sign with an expiry, for example jsonwebtoken's expiresIn: '1h'.",
            )
        if iat is not None:
            self._iat(iat, exp)
        if exp is not None and key is not None and key.max_lifetime is not None:
            start = iat if iat is not None else now
            lifetime = exp - start
            if lifetime > key.max_lifetime:
                span = "from iat to exp" if iat is not None else "from the moment checked to exp"
                limit = format_lifetime(key.max_lifetime)
                self.found.add(
                    "long_lifetime",
                    f"The token lives {duration(lifetime)} ({span}), more than key "
                    f"'{key.label}' allows here ({limit}).",
                    f"Sign with a shorter lifetime, such as expiresIn: '{limit}' or less.",
                )

    def _iat(self, iat: float, exp: float | None) -> None:
        gap = iat - self.now
        if gap > FUTURE_TOLERANCE:
            zone = _zone(gap)
            cause = (
                f"That looks like a {zone} clock: the signing server took its local time for UTC."
                if zone
                else "The signing server's clock is wrong."
            )
            self.found.add(
                "issued_in_future",
                f"iat says the token was signed at {_when(iat)}, {duration(gap)} after the moment "
                f"checked ({_when(self.now)}). {cause}",
                "Take iat from a UTC clock (Math.floor(Date.now() / 1000), or let jsonwebtoken "
                "set it) and keep the server's clock in sync (NTP).",
            )
        if exp is None:
            return
        if exp < iat:
            self.found.add(
                "born_expired",
                f"exp ({_when(exp)}) is {duration(iat - exp)} before iat ({_when(iat)}): the "
                "token was expired the moment it was signed.",
                "Set exp after iat; with jsonwebtoken pass expiresIn (for example '1h') instead "
                "of computing exp by hand.",
            )
        elif exp - iat <= 1:
            lifetime = exp - iat
            self.found.add(
                "very_short_lifetime",
                f"exp is only {lifetime:g} s after iat. That is the mark of a unitless expiresIn "
                "string such as '120', which jsonwebtoken reads as 120 milliseconds.",
                "Sign with expiresIn: '120m' rather than '120': always give the unit ('120s', "
                "'120m', '2h'), or pass a number of seconds (7200).",
            )

    # -- the attempt ----------------------------------------------------------------------

    def _context(
        self,
        claims: Mapping[str, object],
        *,
        room_id: str | None,
        participant_id: str | None,
        use: Use | None,
    ) -> None:
        if room_id is not None and "roomId" in claims and claims["roomId"] != room_id:
            self.found.add(
                "room_mismatch",
                f"The token is for roomId {show(claims['roomId'])}, but the room tried is "
                f"{show(room_id)} (case matters).",
                f"Mint a token for room {show(room_id)}, or leave roomId out so the token works "
                "in any room.",
            )
        if (
            participant_id is not None
            and "participantId" in claims
            and claims["participantId"] != participant_id
        ):
            self.found.add(
                "participant_mismatch",
                f"The token is for participantId {show(claims['participantId'])}, but the "
                f"participant tried is {show(participant_id)} (case matters).",
                f"Mint a token for participant {show(participant_id)}, or join as "
                f"{show(claims['participantId'])}.",
            )
        roles = claims.get("roles")
        if not isinstance(roles, list) or not roles:
            return
        if use is Use.JOIN and all(r == Role.CRAWLER for r in roles):
            self.found.add(
                "crawler_cannot_join",
                "roles holds only crawler: such a token is for server-side API calls and cannot "
                "join a meeting.",
                "For joining, mint a token with roles: ['rtc'] (or without roles).",
            )
        if use is Use.API and all(r == Role.RTC for r in roles):
            self.found.add(
                "rtc_cannot_call_api",
                "roles holds only rtc: such a token is for meetings and cannot call the "
                "server-side APIs.",
                "For API calls, mint a token with roles: ['crawler'] (or without roles).",
            )
