"""The diagnosis of a pasted token (SPEC 3): every reason VideoSDK would refuse it, and the fix.

This module runs the steps in order; the rules live along their seams: `cleaning` (step 1 and
SPEC 3.1), `reasons` (codes and order), `claim_rules`, `time_rules`, `signature_finding`,
`exposure` (secrets never shown) and `report` (what is shown).
PyJWT (through `signing`) only checks signatures. The claim and time rules are ours and follow
node jsonwebtoken 9, which is what VideoSDK's own examples sign with.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from webapp.tokens.claim_rules import (
    apikey_damaged,
    check_apikey,
    check_attempt,
    check_claim_types,
    check_options_in_payload,
    check_permissions,
    check_roles,
    check_version,
)
from webapp.tokens.cleaning import Cleaned, clean_paste
from webapp.tokens.exposure import SecretGuard
from webapp.tokens.moments import as_utc
from webapp.tokens.not_a_token import not_a_token
from webapp.tokens.reading import (
    alphabet_problem,
    decode_lenient,
    decode_segment,
    encoding_only,
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
    TokenKey,
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


@dataclass(frozen=True)
class _Attempt:
    """What the customer tried: room, participant, use (SPEC 3 input)."""

    room_id: str | None
    participant_id: str | None
    use: Use | None


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
    attempt = _Attempt(room_id or None, participant_id or None, normalise_use(use))
    pasted = raw if isinstance(raw, str) else ""
    guard = SecretGuard(keys, secret or None)
    cleaned = clean_paste(pasted)
    text = cleaned.text
    found = Findings()
    if cleaned.removed:
        found.add(
            "input_cleaned",
            "Before reading, the paste was cleaned: removed " + names(list(cleaned.removed)) + ".",
            "Nothing to change in the token for this. When sending it, pass the token alone: "
            "no quotes, no 'Bearer ' prefix, no spaces or line breaks.",
        )
    _pasted_secret(found, guard, pasted, text)
    token_fingerprint = fingerprint(text)
    parts = text.split(".")
    if len(parts) != 3:
        not_a_token(found, text, cleaned, keys, guard, pasted)
        # The SHA-256 of a secret would let anyone holding a guess confirm it: a paste that is
        # no token and holds a secret gets no fingerprint (report, audit, SPEC 3 "never shows").
        held = guard.holder(pasted) is not None or guard.holder(text) is not None
        return _unread(found, text, cleaned, checked_at, None if held else token_fingerprint,
                       guard)
    if cleaned.tokens > 1:
        found.add(
            "several_tokens",
            f"The paste holds {cleaned.tokens} tokens; only the first was diagnosed.",
            "Paste one token at a time; to check the others, paste each on its own.",
        )
    issuance = lookup(token_fingerprint) if lookup is not None else None
    engine = _Engine(
        text=text,
        parts=(parts[0], parts[1], parts[2]),
        keys=keys,
        found=found,
        checked_at=checked_at,
        secret=secret or None,
        guard=guard,
    )
    engine.run(attempt, cut=cleaned.cut, via=issuance.via if issuance is not None else None)
    if issuance is not None:
        found.add(
            "issued_here",
            f"This token was issued here {issuance_words(issuance, checked_at)}.",
            "Nothing to fix for this; ask the issuer if the token should not exist.",
        )
    reasons = _masked(found.ordered(), guard)
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
        removed=tuple(guard.text(note) for note in cleaned.removed),
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
        signature_line=guard.text(engine.signature.line),
        key_stored=engine.signature.signer is None or engine.signature.signer.stored,
        tried=_tried_words(attempt, guard),
    )


def _tried_words(attempt: _Attempt, guard: SecretGuard) -> tuple[str, ...]:
    tried = []
    if attempt.room_id is not None:
        tried.append(f"room {show(guard.text(attempt.room_id))}")
    if attempt.participant_id is not None:
        tried.append(f"participant {show(guard.text(attempt.participant_id))}")
    if attempt.use is not None:
        tried.append("joining a meeting" if attempt.use is Use.JOIN else "calling the API")
    return tuple(tried)


def _pasted_secret(found: Findings, guard: SecretGuard, pasted: str, text: str) -> None:
    """`secret_exposed` for a paste that is, or holds around its token, a secret."""
    held = guard.holder(pasted)
    if held is None or not held.current:
        return
    where = "The paste is" if guard.holder(text) is held else "The text pasted holds"
    whose = f"the secret of key '{held.label}'" if held.label else "the one-off secret given"
    found.add(
        "secret_exposed",
        f"{where} {whose}: whoever holds it can sign tokens for that key. It is not shown "
        "here.",
        "Rotate the secret in VideoSDK's dashboard (API keys), update it here and on the "
        "backend, and never send a secret in place of a token.",
    )


def _masked(reasons: tuple[Reason, ...], guard: SecretGuard) -> tuple[Reason, ...]:
    """`reasons` with every secret in their words replaced by its placeholder (SPEC 3 "Nothing
    in any output ever shows a stored secret, the one-off secret, or a value that holds one"):
    the one place every message and fix passes, whichever rule wrote it."""
    return tuple(replace(r, message=guard.text(r.message), fix=guard.text(r.fix))
                 for r in reasons)


def _unread(found: Findings, text: str, cleaned: Cleaned, checked_at: datetime,
            token_fingerprint: str | None, guard: SecretGuard) -> Diagnosis:
    return Diagnosis(
        verdict=Verdict.INVALID,
        reasons=_masked(found.ordered(), guard),
        cleaned=text,
        removed=tuple(guard.text(note) for note in cleaned.removed),
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


@dataclass
class _Read:
    """The parts of a three-part token as read strictly, and leniently for the signature."""

    header: dict[str, object] | None = None
    claims: dict[str, object] | None = None
    lenient_header: dict[str, object] | None = None
    lenient_claims: dict[str, object] | None = None
    problems: tuple[str, ...] = ()
    encoding_only: bool = False


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
        guard: SecretGuard,
    ) -> None:
        self.text = text
        self.parts = parts
        self.keys = keys
        self.found = found
        self.secret = secret
        self.guard = guard
        # As jsonwebtoken: clockTimestamp = Math.floor(Date.now() / 1000).
        self.now = math.floor(checked_at.timestamp())
        self.header_echo: dict[str, object] | None = None
        self.claims_echo: dict[str, object] | None = None
        self.signature = SignatureResult()
        self.usable: dict[str, float] = {}

    def run(self, attempt: _Attempt, *, cut: bool, via: str | None) -> None:
        """Read, check the signature, then the claims and times; add every reason found."""
        read = self._read()
        # A part malformed only by its encoding is read leniently for the signature check,
        # never for a claim, time or alg code (SPEC 3).
        header = read.header if read.header is not None else read.lenient_header
        claims = read.claims
        for_signature = claims if claims is not None else read.lenient_claims
        self._exposed(read)
        truncated = self._truncated(header, cut)
        checkable = header is not None and not truncated and header.get("alg") == "HS256"
        if read.header is not None and read.header.get("alg") != "HS256":
            self._alg(read.header)
        token_key = self._token_key(for_signature)
        finder = SignatureFinder(self.text, self.keys, self.secret, self.found)
        self.signature = finder.find(checkable, token_key, misencoded=read.encoding_only)
        self._malformed(read)
        check_key_flags(self.found, self.signature.signer, token_key.named)
        if claims is None:
            return
        self._claims(self._hidden(claims), token_key, attempt, via)

    def _hidden(self, value: dict[str, object]) -> dict[str, object]:
        hidden = self.guard.hide(value)
        return hidden if isinstance(hidden, dict) else value

    def _token_key(self, claims: Mapping[str, object] | None) -> TokenKey:
        apikey = claims.get("apikey") if claims is not None else None
        damaged = apikey_damaged(apikey)
        named = tuple(
            k for k in self.keys
            if isinstance(apikey, str) and apikey and not damaged and k.apikey == apikey
        )
        return TokenKey(apikey=apikey, shown=show(self.guard.hide(apikey)), named=named,
                        damaged=damaged, readable=claims is not None)

    def _claims(self, claims: dict[str, object], token_key: TokenKey, attempt: _Attempt,
                via: str | None) -> None:
        signer = self.signature.signer
        check_apikey(self.found, claims,
                     signer=(signer.label, signer.apikey) if signer is not None else None)
        check_permissions(self.found, claims)
        check_roles(self.found, claims)
        check_version(self.found, claims)
        check_claim_types(self.found, claims, damaged_apikey=token_key.damaged)
        check_options_in_payload(self.found, claims)
        key = signer or (token_key.named[0] if token_key.named else None)
        self.usable = usable_times(self.found, claims)
        check_window(self.found, claims, self.usable, self.now, via=via)
        iat = self.usable.get("iat")
        if iat is not None:
            check_iat(self.found, iat, self.usable.get("exp"), self.now)
        if key is not None and key.max_lifetime is not None:
            check_lifetime(self.found, self.usable, self.now, label=key.label,
                           max_lifetime=key.max_lifetime)
        check_attempt(
            self.found,
            claims,
            room_id=self.guard.text(attempt.room_id) if attempt.room_id else None,
            participant_id=(self.guard.text(attempt.participant_id)
                            if attempt.participant_id else None),
            use=attempt.use,
        )

    def _read(self) -> _Read:
        """Decode header and payload without trusting them (SPEC 3 step 2)."""
        header_seg, payload_seg, signature_seg = self.parts
        read = _Read()
        problems: list[str] = []
        lenient = True
        objects: list[tuple[dict[str, object] | None, dict[str, object] | None]] = []
        for name, segment in (("header", header_seg), ("payload", payload_seg)):
            strict, loose, problem = _read_part(segment)
            if problem is not None:
                problems.append(f"the {name} {problem}")
                lenient = lenient and loose is not None
            objects.append((strict, loose))
        # Only the alphabet counts for the signature: node's jws reads any base64url text as a
        # signature (a wrong length is then a mismatch, or `truncated` when short).
        signature_problem = alphabet_problem(signature_seg)
        if signature_problem is not None and len(signature_seg) >= SIGNATURE_LENGTH:
            problems.append(f"the signature {signature_problem}")
            lenient = lenient and encoding_only(signature_problem)
        (read.header, read.lenient_header), (read.claims, read.lenient_claims) = objects
        read.problems = tuple(problems)
        read.encoding_only = bool(problems) and lenient
        header_echo = self.guard.hide(read.header) if read.header is not None else None
        claims_echo = self.guard.hide(read.claims) if read.claims is not None else None
        self.header_echo = json_safe_object(header_echo) if isinstance(header_echo, dict) else None
        self.claims_echo = json_safe_object(claims_echo) if isinstance(claims_echo, dict) else None
        return read

    def _malformed(self, read: _Read) -> None:
        if not read.problems:
            return
        if self.signature.misencoded:
            message = (
                "The signature is right (it was made with "
                f"{_whose(self.signature.key_label)}), but the token is written in a way "
                "VideoSDK refuses: " + "; ".join(read.problems) + "."
            )
            fix = ("Send the token exactly as jsonwebtoken made it: unpadded base64url (no '=', "
                   "'-' and '_' rather than '+' and '/'); do not re-encode it.")
        else:
            message = "The token cannot be read: " + "; ".join(read.problems) + "."
            fix = ("Copy the whole token again without changing it. A token is three base64url "
                   "parts (letters, digits, '-' and '_') joined by dots, each of the first two "
                   "a JSON object.")
        self.found.add("malformed", message, fix)

    def _truncated(self, header: Mapping[str, object] | None, cut: bool) -> bool:
        signature = self.parts[2]
        if len(signature) >= SIGNATURE_LENGTH:
            return False
        if not signature and not cut:
            # An empty signature is whole: unsigned under alg none, else a plain mismatch.
            return header is None or header.get("alg") != "HS256"
        how = " (the paste ended in an ellipsis)" if cut else ""
        self.found.add(
            "truncated",
            f"The signature part is {len(signature)} characters long; an HS256 "
            f"signature is {SIGNATURE_LENGTH}. The token was cut short{how}.",
            "Copy the whole token again: it was probably clipped by a length limit, a log "
            "line or a line break while copying.",
        )
        return True

    def _exposed(self, read: _Read) -> None:
        exposures = []
        for part, value in (("header", read.header or read.lenient_header),
                            ("payload", read.claims or read.lenient_claims)):
            if value is not None:
                exposures.extend(self.guard.exposures(part, value))
        if not exposures:
            return
        whose = sorted({_whose(e.label) for e in exposures})
        where = names(list(dict.fromkeys(e.where for e in exposures)))
        self.found.add(
            "secret_exposed",
            f"{where[0].upper()}{where[1:]} of the token holds {names(whose)}: the token hands "
            "that secret to whoever holds it (an apikey and secret swapped in the code, or a "
            "secret put in a claim). The value is not shown here.",
            "Rotate the secret in VideoSDK's dashboard (API keys) and update it here and on the "
            "backend; put only the API key in apikey, and no secret in any claim.",
        )

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
                f"The header's alg is {show(self.guard.hide(header['alg']))}; VideoSDK accepts "
                "only HS256 (HMAC with SHA-256, exactly so spelled)."
            )
        self.found.add(
            "alg_not_hs256",
            message + " The signature was not checked.",
            "Sign with HS256, jsonwebtoken's default: pass no 'algorithm' option (or "
            "algorithm: 'HS256') and no header.alg.",
        )


def _whose(label: str | None) -> str:
    return f"the secret of key '{label}'" if label is not None else "the secret given"


def _read_part(segment: str) -> tuple[dict[str, object] | None, dict[str, object] | None,
                                      str | None]:
    """(strict object, lenient object, problem) for a header or payload segment."""
    decoded = decode_segment(segment)
    parsed = decoded if isinstance(decoded, str) else parse_object(decoded)
    if not isinstance(parsed, str):
        return parsed, parsed, None
    if not encoding_only(decoded if isinstance(decoded, str) else None):
        return None, None, parsed
    loose = decode_lenient(segment)
    lenient = parse_object(loose) if loose is not None else None
    return None, lenient if isinstance(lenient, dict) else None, parsed
