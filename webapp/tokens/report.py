"""What a diagnosis holds and how it reads: the API answer, the summary and the copy report.

One `Diagnosis` is shown identically by the API, the console page and the CLI (SPEC 3); none
of its outputs ever holds the token's signature or a secret.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from webapp.tokens.moments import as_utc, describe_expiry, iso_utc, relative
from webapp.tokens.reading import show
from webapp.tokens.reasons import Reason, Severity, Verdict, names
from webapp.tokens.vocabulary import explain_claim


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
    # How it was minted (console, api, get-token, cli), when the records say.
    via: str | None = None


Lookup = Callable[[str], Issuance | None]


def issuance_words(issuance: Issuance, at: datetime) -> str:
    """'by alice on 2026-… (3 h ago), with key 'default''; for `issued_here` and the report."""
    who = (
        f"API client {issuance.issuer}"
        if issuance.issuer_kind == "client"
        else f"{issuance.issuer}"
    )
    key = f", with key '{issuance.key_label}'" if issuance.key_label else ""
    when = as_utc(issuance.issued_at)
    others = f"; the same token was also issued by {names(issuance.also_by)}" \
        if issuance.also_by else ""
    return f"by {who} on {iso_utc(when)} ({relative(when, at)}){key}{others}"


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
    # The SHA-256 of the cleaned paste; None for a paste that is no token and holds a secret.
    fingerprint: str | None
    # The report's signature line ("verified with key 'default'"), set by the engine.
    signature_line: str = ""
    # False when the key that verified was read from the environment, not stored here.
    key_stored: bool = True
    # What the customer tried, in words ("room \"abc\"", "joining a meeting").
    tried: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        """One or two plain sentences support can send the customer as they are (SPEC 3).

        The root cause and what to change (a unitless expiresIn before the expiry it caused);
        for a valid token, until when VideoSDK accepts it and which stored key signed it, so
        that a token of the wrong environment shows. Never a secret.
        """
        cause = root_cause(self.reasons)
        if cause is not None:
            text = f"{cause.message} {cause.fix}"
            if cause.code != "secret_exposed" and "secret_exposed" in self.codes:
                what = "token also exposes" if self.segments is not None else "paste also holds"
                text += f" The {what} a secret: rotate it in VideoSDK's dashboard."
            return text
        if self.verdict is Verdict.VALID:
            until = (f" until {iso_utc(self.expires_at)} "
                     f"({describe_expiry(self.expires_at, self.checked_at)})"
                     if self.expires_at else " with no expiry")
            if not self.key_stored:
                by = "the key of the environment (VIDEOSDK_API_KEY, VIDEOSDK_SECRET_KEY)"
            elif self.key_label:
                by = f"stored key '{self.key_label}'"
            else:
                by = "the one-off secret given"
            return (f"VideoSDK will accept this token{until}; it was signed with {by}. Check "
                    "that this is the key of the environment the app runs in.")
        return ("The token reads well, but its signature could not be checked: no stored "
                "secret belongs to its apikey. Check the apikey on the VideoSDK dashboard, or "
                "give its secret as a one-off secret.")

    @property
    def codes(self) -> tuple[str, ...]:
        """The reason codes, in the order of SPEC 3 (errors, warnings, infos)."""
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
        lines = [
            f"verdict: {self.verdict.value}",
            f"checked at: {iso_utc(self.checked_at)}",
            f"summary: {self.summary}",
            f"signature: {self.signature_line or 'not checked'}",
        ]
        if self.tried:
            lines.append("the customer tried: " + ", ".join(self.tried))
        if self.fingerprint is not None:
            lines.append(f"fingerprint (SHA-256): {self.fingerprint}")
        if self.removed:
            lines.append("cleaned from the paste: " + ", ".join(self.removed))
        lines.append("")
        lines.append("reasons:" if self.reasons else "reasons: none")
        for reason in self.reasons:
            code = f", VideoSDK {reason.videosdk_code}" if reason.videosdk_code else ""
            lines.append(f"- {reason.code} ({reason.severity.value}{code}): {reason.message}")
            lines.append(f"  fix: {reason.fix}")
        lines.extend(self._time_lines())
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
            lines.append(f"issued here: {issuance_words(self.issuance, self.checked_at)}")
        return "\n".join(lines) + "\n"

    def _time_lines(self) -> list[str]:
        times = (
            ("issued", self.issued_at),
            ("not before", self.not_before),
            ("expires", self.expires_at),
        )
        if not any(moment for _, moment in times):
            return []
        lines = ["", "times:"]
        for name, moment in times:
            if moment is None:
                continue
            words = (
                describe_expiry(moment, self.checked_at)
                if name == "expires"
                else relative(moment, self.checked_at)
            )
            lines.append(f"  {name}: {iso_utc(moment)} ({words})")
        return lines


# The signature and secret causes: a token made with the wrong secret fails again when fetched
# anew, so they lead the summary before any time code (SPEC 3 "Order and summary").
_SECRET_CAUSES = ("secret_variant", "replaced_secret", "signed_with_other_key", "bad_signature")
_TIME_EFFECTS = ("expired", "not_yet_valid", "issued_in_future", "born_expired")

# An effect whose cause, when also found, is the root cause to name first (SPEC 3 "Order and
# summary": for an expired token whose lifetime shows a unitless expiresIn, the missing unit;
# a token born expired expires again however often it is fetched).
_CAUSES: dict[str, tuple[str, ...]] = {
    **{effect: _SECRET_CAUSES for effect in _TIME_EFFECTS},
    "expired": (*_SECRET_CAUSES, "born_expired", "very_short_lifetime"),
    "no_expiry": ("option_in_payload",),
}


def root_cause(reasons: tuple[Reason, ...]) -> Reason | None:
    """The reason the summary leads with: the first error, or the cause found behind it."""
    errors = [r for r in reasons if r.severity is Severity.ERROR]
    if not errors:
        return None
    first = errors[0]
    by_code = {r.code: r for r in reasons}
    for cause in _CAUSES.get(first.code, ()):
        if cause in by_code:
            return by_code[cause]
    return first
