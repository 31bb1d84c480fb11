"""The diagnosis of a pasted token (SPEC 3): every reason VideoSDK would refuse it, and the fix.

This module runs the steps in order; the rules live along their seams: `reasons` (codes and
order), `claim_rules`, `time_rules`, `signature_finding` and `report` (what is shown).
PyJWT (through `signing`) only checks signatures. The claim and time rules are ours and follow
node jsonwebtoken 9, which is what VideoSDK's own examples sign with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

from webapp.tokens.claim_rules import (
    check_apikey,
    check_attempt,
    check_claim_types,
    check_permissions,
    check_roles,
    check_version,
)
from webapp.tokens.moments import as_utc
from webapp.tokens.reading import (
    alphabet_problem,
    clean_paste,
    decode_segment,
    json_safe_object,
    parse_object,
    show,
)
from webapp.tokens.reasons import (
    REASON_CODES,
    Findings,
    Reason,
    Severity,
    Use,
    Verdict,
    names,
    normalise_use,
)
from webapp.tokens.report import Diagnosis, Issuance, Lookup, issuance_words
from webapp.tokens.signature_finding import (
    KnownKey,
    ReplacedSecret,
    SignatureFinder,
    SignatureResult,
    check_key_flags,
)
from webapp.tokens.signing import SIGNATURE_LENGTH, fingerprint
from webapp.tokens.time_rules import (
    check_iat,
    check_lifetime,
    check_window,
    moment,
    usable_times,
)

__all__ = [
    "REASON_CODES",
    "Diagnosis",
    "Issuance",
    "KnownKey",
    "Lookup",
    "Reason",
    "ReplacedSecret",
    "Severity",
    "Use",
    "Verdict",
    "diagnose",
]


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
    use_ = normalise_use(use)
    cleaned = clean_paste(raw if isinstance(raw, str) else "")
    text = cleaned.text
    found = Findings()
    if cleaned.removed:
        found.add(
            "input_cleaned",
            "Before reading, the paste was cleaned: removed " + names(list(cleaned.removed)) + ".",
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
            f"This token was issued here {issuance_words(issuance, checked_at)}.",
            "Nothing to fix for this; ask the issuer if the token should not exist.",
        )
    reasons = found.ordered()
    if any(r.severity is Severity.ERROR for r in reasons):
        verdict = Verdict.INVALID
    elif engine.signature.status == "verified":
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
        signature_status=engine.signature.status,
        key_label=engine.signature.key_label,
        checked_at=checked_at,
        issued_at=moment(usable["iat"]) if "iat" in usable else None,
        expires_at=moment(usable["exp"]) if "exp" in usable else None,
        not_before=moment(usable["nbf"]) if "nbf" in usable else None,
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
        found: Findings,
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
        self.signature = SignatureResult()
        self.usable: dict[str, float] = {}

    def run(self, *, room_id: str | None, participant_id: str | None, use: Use | None) -> None:
        header, claims = self._read()
        signature_seg = self.parts[2]
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
        finder = SignatureFinder(self.text, self.keys, self.secret, self.found)
        self.signature = finder.find(checkable, apikey, named)
        signer = self.signature.signer
        check_key_flags(self.found, signer, named)
        if claims is None:
            return
        verified_by = (
            (signer.label, signer.apikey)
            if signer is not None and self.signature.status == "verified"
            else None
        )
        check_apikey(self.found, claims, signer=verified_by)
        check_permissions(self.found, claims)
        check_roles(self.found, claims)
        check_version(self.found, claims)
        check_claim_types(self.found, claims)
        self._times(claims, signer or (named[0] if named else None))
        check_attempt(self.found, claims, room_id=room_id, participant_id=participant_id,
                      use=use)

    def _read(self) -> tuple[dict[str, object] | None, dict[str, object] | None]:
        """Decode header and payload without trusting them; `malformed` names every problem."""
        header_seg, payload_seg, signature_seg = self.parts
        problems: list[str] = []
        objects: list[dict[str, object] | None] = []
        for name, segment in (("header", header_seg), ("payload", payload_seg)):
            decoded = decode_segment(segment)
            parsed = decoded if isinstance(decoded, str) else parse_object(decoded)
            if isinstance(parsed, str):
                problems.append(f"the {name} {parsed}")
                objects.append(None)
            else:
                objects.append(parsed)
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
        header, claims = objects
        self.header_echo = json_safe_object(header) if header is not None else None
        self.claims_echo = json_safe_object(claims) if claims is not None else None
        return header, claims

    def _alg(self, header: dict[str, object]) -> None:
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

    def _times(self, claims: dict[str, object], key: KnownKey | None) -> None:
        self.usable = usable_times(self.found, claims)
        check_window(self.found, claims, self.usable, self.now)
        iat = self.usable.get("iat")
        if iat is not None:
            check_iat(self.found, iat, self.usable.get("exp"), self.now)
        if key is not None and key.max_lifetime is not None:
            check_lifetime(self.found, self.usable, self.now, label=key.label,
                           max_lifetime=key.max_lifetime)
