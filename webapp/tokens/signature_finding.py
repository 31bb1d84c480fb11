"""Finding the secret that signed a token among the stored keys (SPEC 3 step 3).

The secret is found by the token's `apikey` claim (an untrusted value: a plain look-up); a
one-off secret stands in for it. When it does not verify, or the apikey is missing or unknown,
every stored secret is tried and the key that matches is named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from webapp.tokens.reading import show
from webapp.tokens.reasons import Findings
from webapp.tokens.signing import signature_matches


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


@dataclass
class SignatureResult:
    """What the signature check found: `status` verified / mismatch / unchecked, the key named
    on the signature line, and the stored key whose secret made the signature, if one did."""

    status: str = "unchecked"
    key_label: str | None = None
    signer: KnownKey | None = None


class SignatureFinder:
    """The signature check of one three-part token against the stored keys."""

    def __init__(self, text: str, keys: Sequence[KnownKey], secret: str | None,
                 found: Findings) -> None:
        self.text = text
        self.keys = keys
        self.secret = secret
        self.found = found
        self.result = SignatureResult()

    def find(self, checkable: bool, apikey: object, named: list[KnownKey]) -> SignatureResult:
        """Check the signature (when `checkable`) and add the signature reasons."""
        unknown = isinstance(apikey, str) and bool(apikey) and not named
        if not checkable:
            if unknown and self.secret is None:
                self._unknown_apikey(apikey, checked=False)
            return self.result
        primary: list[tuple[KnownKey | None, str]]
        if self.secret is not None:
            primary = [(None, self.secret)]
        else:
            primary = [(key, key.secret) for key in named]
        for key, secret in primary:
            if signature_matches(self.text, secret):
                self._verified(key)
                return self.result
        tried = {id(key) for key, _ in primary if key is not None}
        other = next(
            (k for k in self.keys if id(k) not in tried and signature_matches(self.text, k.secret)),
            None,
        )
        if other is not None:
            self._other_key(other, apikey, named, bool(primary) or unknown)
        elif primary:
            self.result.status = "mismatch"
            self.result.key_label = named[0].label if self.secret is None and named else None
            self._bad_signature(apikey, named)
        elif unknown:
            self._unknown_apikey(apikey, checked=True)
        return self.result

    def _verified(self, key: KnownKey | None) -> None:
        self.result.status = "verified"
        self.result.key_label = key.label if key is not None else None
        self.result.signer = key

    def _other_key(self, other: KnownKey, apikey: object, named: list[KnownKey],
                   held_against: bool) -> None:
        self.result.signer = other
        if self.secret is not None and any(other is k for k in named):
            # The one-off secret failed, but the key the apikey names verifies: the token is
            # its own key's, so this is no "other key": the secret given is the wrong one.
            self.result.status = "mismatch"
            self.result.signer = None
            self._bad_signature(apikey, named, stored_match=other)
            return
        self.result.key_label = other.label
        if held_against:
            self.result.status = "mismatch"
            self._signed_with_other_key(apikey, named, other)
        else:
            # No apikey to hold it against: name the key that signed (missing_apikey says so).
            self.result.status = "verified"

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


def check_key_flags(found: Findings, signer: KnownKey | None, named: list[KnownKey]) -> None:
    """`sandbox_key` and `key_disabled` for the key that signed or that the apikey names."""
    concerned = ([signer] if signer is not None else []) + [k for k in named if k is not signer]
    sandbox = next((k for k in concerned if k.sandbox), None)
    if sandbox is not None:
        how = "signed with" if sandbox is signer else "names the apikey of"
        found.add(
            "sandbox_key",
            f"The token {how} this service's sandbox key '{sandbox.label}'. That key exists "
            "only here for trying things out: VideoSDK does not know it and refuses the "
            "token (invalid API key).",
            "Mint with a real VideoSDK key: ask an admin to add the key pair from the "
            "VideoSDK dashboard.",
        )
    disabled = next((k for k in concerned if k.disabled), None)
    if disabled is not None:
        found.add(
            "key_disabled",
            f"Key '{disabled.label}' is disabled in this service. VideoSDK may still "
            "accept tokens signed with it until the key is deleted or regenerated there.",
            "Mint new tokens with an active key; if the key leaked, also regenerate it on "
            "the VideoSDK dashboard.",
        )
