"""Finding the secret that signed a token among the stored keys (SPEC 3 step 3, SPEC 3.1).

The secret is found by the token's `apikey` claim (an untrusted value: a plain look-up); a
one-off secret stands in for it. When it does not verify, the other stored secrets are tried,
then the secrets the keys had before an admin replaced them, then, for every key, the mistakes
people make with a secret (`secret_variant`): a handful of HMACs per key, only when nothing
matched as written.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from webapp.tokens.moments import iso_utc
from webapp.tokens.reasons import Findings
from webapp.tokens.signing import HmacPads, hmac_pads, lenient_signature, mac_matches


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
    # False for a pair read from the environment (the CLI without a database): not "stored".
    stored: bool = True


_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_B64_STANDARD = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_B64_URLSAFE = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def _b64_decoded(secret: str, pattern: re.Pattern[str], urlsafe: bool) -> bytes | None:
    if not pattern.fullmatch(secret):
        return None
    bare = secret.rstrip("=")
    if len(bare) % 4 == 1:
        return None
    padded = bare + "=" * (-len(bare) % 4)
    try:
        if urlsafe:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


@lru_cache(maxsize=512)
def secret_variants(secret: str, apikey: str) -> tuple[tuple[bytes, str], ...]:
    """The mistakes people make with a secret, as (key bytes, words) (SPEC 3.1 list, in order)."""
    raw = secret.encode("utf-8", "surrogatepass")
    out: list[tuple[bytes, str]] = [
        (raw + b"\n", "the secret followed by a newline (as echo or a secrets file leaves it)"),
        (raw + b"\r\n", "the secret followed by a Windows line break (\\r\\n)"),
        (raw + b" ", "the secret followed by a space"),
        (b" " + raw + b" ", "the secret with a space on each side"),
    ]
    decoded = [_b64_decoded(secret, _B64_STANDARD, False),
               _b64_decoded(secret, _B64_URLSAFE, True)]
    for value in dict.fromkeys(d for d in decoded if d):
        out.append((value, "the secret base64-decoded (it is text, not base64 to decode)"))
    out.append((base64.b64encode(raw), "the secret base64-encoded"))
    if _HEX.fullmatch(secret):
        out.append((bytes.fromhex(secret),
                    "the secret hex-decoded (it is text, not hex to decode)"))
    out.append((apikey.encode("utf-8", "surrogatepass"), "the API key used in place of the secret"))
    seen: set[bytes] = {raw}
    unique = []
    for value, words in out:
        if value and value not in seen:
            seen.add(value)
            unique.append((value, words))
    return tuple(unique)


@dataclass(frozen=True)
class _Hit:
    kind: str  # primary, other, replaced, variant
    key: KnownKey | None
    words: str = ""
    replaced: ReplacedSecret | None = None


_Try = tuple[HmacPads, _Hit]


def _pads(secret: str) -> HmacPads:
    return hmac_pads(secret.encode("utf-8", "surrogatepass"))


@lru_cache(maxsize=1024)
def _tries(key: KnownKey) -> tuple[_Try, tuple[_Try, ...], tuple[_Try, ...]]:
    """A key's secret, its replaced secrets and its variants as key bytes, made once per key."""
    current = (_pads(key.secret), _Hit("other", key))
    replaced = tuple((_pads(old.secret), _Hit("replaced", key, replaced=old))
                     for old in key.replaced_secrets)
    variants = tuple((hmac_pads(value), _Hit("variant", key, words=words))
                     for value, words in secret_variants(key.secret, key.apikey))
    return current, replaced, variants


def same(key: KnownKey) -> tuple[str, str, bool]:
    """What makes two KnownKey objects the same key, whatever request built them: label,
    apikey and whether it is stored (an environment pair may share a stored label)."""
    return key.label, key.apikey, key.stored


def _own(attempt: _Try, key: KnownKey) -> _Try:
    """A cached try whose hit names `key`, the object of this request (equal in value)."""
    pads, hit = attempt
    return pads, _Hit(hit.kind, key, hit.words, hit.replaced)


# The signature's status in a diagnosis: a secret verified it, none matched, or none was tried.
SIGNATURE_STATUSES: tuple[str, ...] = ("verified", "mismatch", "unchecked")


@dataclass
class SignatureResult:
    """What the signature check found.

    `status` is verified / mismatch / unchecked; `key_label` the key named on the signature
    line; `signer` the stored key whose secret (as written) made the signature; `line` the
    words of the report's signature line; `misencoded` True when the MAC is right but the
    text of a part is not canonical base64url (SPEC 3: `malformed`, no signature code).
    """

    status: str = "unchecked"
    key_label: str | None = None
    signer: KnownKey | None = None
    line: str = "not checked"
    misencoded: bool = False


@dataclass(frozen=True)
class TokenKey:
    """What the token says about its key: the apikey claim (untrusted) and how it reads."""

    apikey: object
    shown: str  # the apikey as messages may show it (a secret it holds is never shown)
    named: tuple[KnownKey, ...]  # stored keys whose apikey it is
    damaged: bool  # holds characters no real key has (changed in transit)
    readable: bool  # the payload was read, so a missing apikey is known to be missing

    @property
    def unknown(self) -> bool:
        """A usable apikey that is not stored here."""
        return (isinstance(self.apikey, str) and bool(self.apikey) and not self.named
                and not self.damaged)


class SignatureFinder:
    """The signature check of one three-part token against the stored keys."""

    def __init__(self, text: str, keys: Sequence[KnownKey], secret: str | None,
                 found: Findings) -> None:
        self.text = text
        self.keys = keys
        self.secret = secret
        self.found = found
        self.result = SignatureResult()

    def find(self, checkable: bool, token_key: TokenKey, *, misencoded: bool) -> SignatureResult:
        """Check the signature (when `checkable`) and add the signature reasons (SPEC 3)."""
        if not checkable:
            if token_key.unknown and self.secret is None:
                self._unknown_apikey(token_key, checked=False)
            return self.result
        read = lenient_signature(self.text)
        hit = self._search(read, token_key) if read is not None else None
        if hit is None:
            self._nothing_matched(token_key)
        elif hit.kind == "primary":
            self._primary(hit.key, misencoded)
        elif hit.kind == "other":
            self._other_key(hit, token_key)
        else:
            self._named_mistake(hit, token_key)
        return self.result

    # -- the search ------------------------------------------------------------------------

    def _candidates(self, token_key: TokenKey) -> Iterator[_Try]:
        """The secrets to try, in the order of SPEC 3 and 3.1: the token's own (or the one-off
        secret), the other stored ones, the replaced ones, then the common mistakes."""
        if self.secret is not None:
            yield _pads(self.secret), _Hit("primary", None)
        else:
            for key in token_key.named:
                yield _tries(key)[0][0], _Hit("primary", key)
        # Keys are compared by value (`same`), never by identity: `_tries` is cached across
        # requests, and each request builds its own KnownKey objects. Each hit carries this
        # request's key.
        primary = set() if self.secret is not None else {same(k) for k in token_key.named}
        for key in self.keys:
            if same(key) not in primary:
                yield _own(_tries(key)[0], key)
        named = {same(k) for k in token_key.named}
        ordered = [*token_key.named, *(k for k in self.keys if same(k) not in named)]
        for key in ordered:
            yield from (_own(t, key) for t in _tries(key)[1])
        for key in ordered:
            yield from (_own(t, key) for t in _tries(key)[2])

    def _search(self, read: tuple[bytes, bytes], token_key: TokenKey) -> _Hit | None:
        signing_input, signature = read
        for secret, hit in self._candidates(token_key):
            if mac_matches(signing_input, signature, secret):
                return hit
        return None

    # -- the outcomes ----------------------------------------------------------------------

    def _primary(self, key: KnownKey | None, misencoded: bool) -> None:
        self.result.key_label = key.label if key is not None else None
        self.result.signer = key
        by = f"key '{key.label}'" if key is not None else "the secret given"
        if misencoded:
            self.result.status = "mismatch"
            self.result.misencoded = True
            self.result.line = (f"right for {by}, but written in a way VideoSDK refuses "
                                "(not plain base64url)")
            return
        self.result.status = "verified"
        self.result.line = f"verified with {by}"

    def _other_key(self, hit: _Hit, token_key: TokenKey) -> None:
        other = hit.key
        assert other is not None  # noqa: S101 - "other" hits always carry their key
        self.result.signer = other
        if self.secret is not None and any(same(other) == same(k) for k in token_key.named):
            # The one-off secret failed, but the key the apikey names verifies: the token is
            # its own key's, so this is no "other key": the secret given is the wrong one.
            self.result.status = "mismatch"
            self.result.signer = None
            self.result.line = ("does not match the secret given (it matches the stored "
                                f"secret of key '{other.label}')")
            self._bad_signature(token_key, stored_match=other)
            return
        self.result.key_label = other.label
        if self.secret is None and not token_key.named and not token_key.unknown \
                and not token_key.damaged and not token_key.readable:
            # No apikey to hold it against (the payload is unreadable): name the signer.
            self.result.status = "verified"
            self.result.line = f"verified with key '{other.label}'"
            return
        self.result.status = "mismatch"
        self.result.line = (f"made with the secret of key '{other.label}', which is not the "
                            "token's apikey")
        self._signed_with_other_key(token_key, other)

    def _named_mistake(self, hit: _Hit, token_key: TokenKey) -> None:
        key = hit.key
        assert key is not None  # noqa: S101 - replaced and variant hits carry their key
        self.result.status = "mismatch"
        self.result.key_label = key.label
        if hit.replaced is not None:
            when = iso_utc(hit.replaced.replaced_at)
            self.result.line = f"made with the secret key '{key.label}' had until {when}"
            if same(key) not in {same(k) for k in token_key.named}:
                # SPEC 3 `replaced_secret` is "a secret that the token's key had": an old
                # secret under another key's (or an unknown, or no) apikey is a wrong pair.
                self.result.line += ", which is not the token's apikey"
                self._signed_with_other_key(
                    token_key, key,
                    made_with=(f"the secret key '{key.label}' had until {when} (replaced by "
                               f"{hit.replaced.replaced_by}), which VideoSDK no longer "
                               "accepts for any apikey"))
                return
            self.found.add(
                "replaced_secret",
                f"The token was signed with the secret key '{key.label}' had until {when} "
                f"(replaced by {hit.replaced.replaced_by}): the backend that signs tokens "
                "still uses the old secret, which VideoSDK no longer accepts.",
                f"Give the backend the current secret of key '{key.label}' (VideoSDK "
                "dashboard, API keys) and restart it so that it reads the new value.",
            )
            return
        self.result.line = f"made with {hit.words} of key '{key.label}'"
        self.found.add(
            "secret_variant",
            f"The signature was made with {hit.words} of key '{key.label}' (apikey "
            f"{key.apikey}), not with the secret as VideoSDK holds it, so VideoSDK refuses "
            "it.",
            _variant_fix(hit.words, key),
        )

    def _nothing_matched(self, token_key: TokenKey) -> None:
        if self.secret is not None or token_key.named or token_key.damaged:
            self.result.status = "mismatch"
            if self.secret is None and token_key.named:
                self.result.key_label = token_key.named[0].label
                self.result.line = (f"does not match the secret of key "
                                    f"'{token_key.named[0].label}'")
            else:
                self.result.line = "does not match" + (
                    " the secret given" if self.secret is not None else " any stored secret")
            self._bad_signature(token_key)
        elif token_key.unknown:
            self._unknown_apikey(token_key, checked=True)

    # -- the words -------------------------------------------------------------------------

    def _unknown_apikey(self, token_key: TokenKey, *, checked: bool) -> None:
        tried = " and no stored secret matches the signature" if checked and self.keys else ""
        self.found.add(
            "unknown_apikey",
            f"The apikey {token_key.shown} is not one of the keys stored here{tried}, so the "
            "signature was not checked. VideoSDK will accept the token only if this is a real "
            "VideoSDK API key and the token was signed with its secret.",
            "Check the API key on the VideoSDK dashboard; to check the signature here, ask an "
            "admin to add the key, or give its secret as a one-off secret.",
        )

    def _bad_signature(self, token_key: TokenKey, stored_match: KnownKey | None = None) -> None:
        shown = token_key.shown
        if stored_match is not None:
            self.found.add(
                "bad_signature",
                "The signature does not match the one-off secret given; the stored secret of "
                f"key '{stored_match.label}' (apikey {shown}) does match it, so the "
                "one-off secret is not this token's secret.",
                f"Check the one-off secret: the token was signed with the secret of key "
                f"'{stored_match.label}', which is stored here; leave the one-off secret empty "
                "to check against it.",
            )
            return
        if self.secret is not None:
            against = "the one-off secret given"
        elif token_key.named:
            against = f"the secret of key '{token_key.named[0].label}' (apikey {shown})"
        else:
            against = "any stored secret"
        others = (" nor any other stored secret, old secret or common mistake with one"
                  if len(self.keys) > len(token_key.named) and self.secret is None
                  and token_key.named else "")
        if token_key.damaged:
            self.found.add(
                "bad_signature",
                f"The signature does not match {against}, and the apikey {shown} holds "
                "characters no VideoSDK key has: the token was changed in transit (copied "
                "through something that altered its letters).",
                "Send the token unchanged, as the signing server returned it: copy it as "
                "plain text, without any editor or chat tool rewriting it.",
            )
            return
        self.found.add(
            "bad_signature",
            f"The signature does not match {against}{others}: the token was changed after "
            "signing, or signed with a secret that is not stored here.",
            f"Sign the token again with the secret that belongs to apikey {shown} "
            "(VideoSDK dashboard, API keys), and send it unchanged.",
        )

    def _signed_with_other_key(self, token_key: TokenKey, other: KnownKey,
                               made_with: str | None = None) -> None:
        if isinstance(token_key.apikey, str) and token_key.apikey and not token_key.damaged:
            claimed = f"the token's apikey is {token_key.shown}"
            if token_key.named:
                claimed += f" (key '{token_key.named[0].label}')"
            elif self.secret is None:
                claimed += ", which is not stored here"
        else:
            claimed = "the token names no usable apikey"
        given = "It does not match the one-off secret given. " if self.secret is not None else ""
        whose = made_with or f"the secret of stored key '{other.label}'"
        # A missing or unusable apikey has no secret of its own to name (never "apikey null").
        theirs = (f", or sign with the secret that belongs to apikey {token_key.shown}"
                  if isinstance(token_key.apikey, str) and token_key.apikey
                  and not token_key.damaged else "")
        pair = (f"sign with the current secret of key '{other.label}' and put apikey "
                f"'{other.apikey}' in the token" if made_with is not None
                else f"put apikey '{other.apikey}' in the token")
        self.found.add(
            "signed_with_other_key",
            f"{given}The signature matches {whose} (apikey {other.apikey}), but {claimed}. "
            "VideoSDK checks the signature with the secret of the token's apikey, so it "
            "refuses the token.",
            f"Make apikey and secret a pair: {pair}{theirs}.",
        )


def _variant_fix(words: str, key: KnownKey) -> str:
    if "API key" in words:
        return (f"Sign with the secret of key '{key.label}', not its API key: the apikey claim "
                "takes the API key, jwt.sign's second argument the secret. Check the two are "
                "not swapped.")
    if "decoded" in words or "encoded" in words:
        return ("Pass the secret to jwt.sign as the text shown on the VideoSDK dashboard, "
                "without decoding or encoding it (no Buffer.from(secret, ...)).")
    return ("Trim the secret where it is read (process.env.VIDEOSDK_SECRET_KEY.trim()), or "
            "write it without a trailing newline or spaces (printf instead of echo).")


def check_key_flags(found: Findings, signer: KnownKey | None,
                    named: Sequence[KnownKey]) -> None:
    """`sandbox_key` and `key_disabled` for the key that signed or that the apikey names."""
    signer_is = same(signer) if signer is not None else None
    concerned = ([signer] if signer is not None else []) + [
        k for k in named if same(k) != signer_is]
    sandbox = next((k for k in concerned if k.sandbox), None)
    if sandbox is not None:
        how = "signed with" if same(sandbox) == signer_is else "names the apikey of"
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
