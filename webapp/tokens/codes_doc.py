"""The reason codes of a diagnosis, in words: the source of docs/reason-codes.md (SPEC 3).

``python -m webapp.tokens.codes_doc --write`` renders every code of REASON_CODES, with its
severity, the VideoSDK error it stands for and what makes it fire, into docs/reason-codes.md;
tests/tokens/test_codes_doc.py fails while the file differs from what this renders.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from webapp.tokens import REASON_CODES, Severity, Verdict

DOC = Path(__file__).resolve().parents[2] / "docs" / "reason-codes.md"
COMMAND = "python -m webapp.tokens.codes_doc --write"

# What VideoSDK answers with each error code a reason names (SPEC 2).
VIDEOSDK_ERRORS: Mapping[int, str] = MappingProxyType({
    4001: "INVALID_API_KEY: the apikey claim is missing or not a key VideoSDK knows",
    4002: "INVALID_TOKEN: \"Token is invalid or expired\" (signature, times, version)",
    4004: "INVALID_PARTICIPANT_ID: participantId is not a usable id",
    4008: "INVALID_PERMISSIONS: permissions missing, unknown or contradictory",
    4022: "UNAUTHORIZED_ROOM_ID: the token is for another room",
    4023: "UNAUTHORIZED_PARTICIPANT_ID: the token is for another participant",
    4024: "UNAUTHORIZED_ROLE: the token's roles do not allow this use",
})

# When each code fires (SPEC 3's table). A code in REASON_CODES without a line here fails
# tests/tokens/test_codes_doc.py: every code the engine can give is documented.
MEANINGS: Mapping[str, str] = MappingProxyType({
    "input_cleaned": (
        'Cleaning the paste (SPEC 3 step 1) removed something.'),
    "not_a_jwt": (
        'Not three dot-separated parts (a bare API key or secret, a token of another '
        'vendor).'),
    "malformed": (
        'A part is not base64url, or header/payload is not a JSON object.'),
    "truncated": (
        'The signature part is non-empty and shorter than an HS256 signature (43 '
        'characters); or the paste ended in an ellipsis (`...` or `…`), which cleaning '
        'removes, and what remains is not whole (fewer than three parts, or a signature '
        'shorter than 43 characters): cut by a log, a screen or a length limit. A whole '
        'token followed by an ellipsis is only cleaned. An empty signature under `alg: '
        'none` is `alg_not_hs256` alone (an unsigned token), never `truncated`.'),
    "alg_not_hs256": (
        'Header `alg` is anything but `HS256` (`none`, `HS512`, `RS256`, ...).'),
    "missing_apikey": (
        'No `apikey` claim, or an empty one.'),
    "unknown_apikey": (
        '`apikey` is not among the stored keys and no stored secret matches: signature '
        'not checked.'),
    "sandbox_key": (
        "Signed with this service's sandbox key: VideoSDK does not know it."),
    "key_disabled": (
        'The key is disabled in this service (VideoSDK may still accept it).'),
    "missing_permissions": (
        'No `permissions` claim or an empty list.'),
    "invalid_permissions": (
        'Not a list, or holds a value outside the three.'),
    "conflicting_permissions": (
        '`ask_join` with `allow_join` or `allow_mod`.'),
    "invalid_roles": (
        '`roles` is not a list or holds an unknown role.'),
    "version_required": (
        '`roomId`, `participantId` or `roles` present without the integer `version` 2 '
        '(the string `"2"` included).'),
    "invalid_participant_id": (
        '`participantId` contains whitespace.'),
    "invalid_claim": (
        'Any other known claim of the wrong type or value: `apikey`, `roomId` or '
        '`participantId` not a string, `version` present but not the integer 2.'),
    "invalid_time_claim": (
        '`exp`, `iat` or `nbf` is not a finite number (null, boolean, string, list, '
        'object, overflow).'),
    "timestamps_in_ms": (
        '`exp`, `iat` or `nbf` above 10^11: milliseconds, not seconds.'),
    "bad_signature": (
        "Signature does not match the secret of the token's `apikey`."),
    "signed_with_other_key": (
        "The signature matches another stored key's secret; name that key's label."),
    "expired": (
        '`exp` at or before the moment checked; say how long ago.'),
    "not_yet_valid": (
        '`nbf` after the moment checked.'),
    "issued_in_future": (
        '`iat` more than 60 s after the moment checked: a clock or time-zone bug, named '
        'as a time-zone offset when the gap is within 60 s of a multiple of 15 minutes up'
        ' to 14 h (no clock runs further ahead of UTC), otherwise as a wrong clock.'),
    "born_expired": (
        '`exp` before `iat`.'),
    "very_short_lifetime": (
        'The mark of a unitless `expiresIn` string, which jsonwebtoken reads as '
        'milliseconds and turns into `exp = iat + floor(N / 1000)`: `exp - iat` from 0 to'
        ' 1 s (`"120"`, `"600"`, `"1800"`), or `exp - iat` exactly one of 3, 7, 10, 14, '
        '21, 28, 43, 86, 172, 259, 604 or 2592 s: what the strings for 1, 2, 3, 4, 6, 8, '
        '12 or 24 hours or 2, 3, 7 or 30 days in seconds (`"3600"` … `"2592000"`) become;'
        " the message names the likely string and what it should have been (`'24h'`)."),
    "no_expiry": (
        'No `exp`: valid forever.'),
    "long_lifetime": (
        "Lifetime above the key's policy maximum (a token without `exp` gets `no_expiry` "
        'instead).'),
    "room_mismatch": (
        "A room was given and the token's `roomId` differs."),
    "participant_mismatch": (
        "A participant was given and the token's `participantId` differs."),
    "crawler_cannot_join": (
        'Use `join` and `roles` holds only `crawler`.'),
    "rtc_cannot_call_api": (
        'Use `api` and `roles` holds only `rtc`.'),
    "issued_here": (
        'This token was issued by this service: by whom (person or API client), when.'),
    "secret_variant": (
        "The signature matches a stored key's secret with a common mistake applied: a "
        'trailing newline or surrounding whitespace, base64-decoded, base64-encoded, hex-'
        "decoded, or that key's API key used as the secret; names the key's label and the"
        ' mistake. Replaces `bad_signature` and `unknown_apikey`, like '
        '`signed_with_other_key`.'),
    "secret_exposed": (
        'A header or claim value (at any depth), or a paste that is not a token, is or '
        'contains a stored secret or the one-off secret (an apikey and secret swapped, a '
        'secret pasted into a claim): the token hands that secret to whoever holds it; '
        "names the key's label and the claim, says to rotate the secret in VideoSDK's "
        'dashboard. The value itself is never shown (below).'),
    "replaced_secret": (
        "The signature matches a secret that the token's key had before an admin replaced"
        " it: names the key, when the secret was replaced and by whom; the customer's "
        'backend still signs with the old secret. Replaces `bad_signature`, like '
        '`signed_with_other_key`.'),
    "option_in_payload": (
        "The payload holds a name that belongs in jsonwebtoken's options, not its claims "
        '(`expiresIn`, `notBefore`, `algorithm`, `audience`, `issuer`, `subject`, '
        '`jwtid`, `keyid`, `noTimestamp`, `header`), where it does nothing: says to move '
        "it into `jwt.sign`'s third argument."),
    "several_tokens": (
        'The paste holds more than one token: the first is diagnosed; says how many were '
        'found.'),
})

_SEVERITY_WORDS = {
    Severity.ERROR: "makes the token `invalid`",
    Severity.WARNING: "worth fixing; does not change the verdict",
    Severity.INFO: "for information; does not change the verdict",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """docs/reason-codes.md as the code's vocabulary says it now (Markdown text)."""
    lines = [
        "# Reason codes (SPEC 3)",
        "",
        f"<!-- Generated from webapp/tokens (REASON_CODES, codes_doc.MEANINGS): do not edit. "
        f"Run `{COMMAND}`. -->",
        "",
        "Every diagnosis (console Inspect page, `POST /api/v1/tokens/inspect`, "
        "`flask --app webapp token inspect`) answers a `verdict` and a list of reasons, each "
        "`{code, severity, message, fix}` plus `videosdkCode` where VideoSDK has an error "
        "code for it. The codes below are a public contract: they are never renamed, and new "
        "ones may be added (treat an unknown code by its `severity`).",
        "",
        "## Verdicts",
        "",
        f"- `{Verdict.INVALID}`: at least one reason is an error.",
        f"- `{Verdict.VALID}`: no error, and a secret (a stored key's, or the one-off secret "
        "given) verified the signature.",
        f"- `{Verdict.UNVERIFIED}`: no error, but no secret could check the signature "
        "(the apikey is not stored here).",
        "",
        "## Severities",
        "",
        *(f"- `{severity}`: {words}." for severity, words in _SEVERITY_WORDS.items()),
        "",
        "Reasons are listed errors first, then warnings, then infos, each group in the order "
        "of the table below.",
        "",
        "## What cleaning a paste removes (SPEC 3 step 1, SPEC 3.1)",
        "",
        "A paste is rarely a clean token. Before reading it, the diagnosis strips surrounding "
        "whitespace and quotes, invisible characters (zero-width spaces and joiners, the byte-"
        "order mark, soft hyphens, no-break spaces), inner whitespace and newlines, `%20`, a "
        "scheme word (`Bearer`, `JWT`, `Token`), `Authorization:` and a `name=` prefix; takes "
        "the token out of a URL's query or fragment, out of JSON (a value at any depth, or a "
        "string literal) and out of a Python bytes literal `b'...'`; drops a trailing ellipsis "
        "(see `truncated`) and the text around a single token; and repeats until nothing more "
        "comes off. Each removal is named in `input_cleaned`; a paste holding several tokens "
        "gives `several_tokens`, and the first is diagnosed.",
        "",
        "## Codes",
        "",
        "| code | severity | VideoSDK code | when it fires |",
        "|---|---|---|---|",
    ]
    for code, (severity, videosdk_code) in REASON_CODES.items():
        number = str(videosdk_code) if videosdk_code is not None else ""
        lines.append(f"| `{code}` | {severity} | {number} | {_cell(MEANINGS[code])} |")
    used = sorted({number for _, number in REASON_CODES.values() if number is not None})
    lines += ["", "## VideoSDK error codes", "",
              "What VideoSDK answers when it refuses such a token (SPEC 2):", ""]
    lines += [f"- `{number}` {VIDEOSDK_ERRORS[number]}" for number in used]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the document, or with --write store it in docs/, or with --check say if stale."""
    parser = argparse.ArgumentParser(prog="python -m webapp.tokens.codes_doc",
                                     description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help=f"write {DOC.name} in docs/")
    group.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        DOC.write_text(text, encoding="utf-8")
        return 0
    if args.check:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        if current != text:
            print(f"{DOC} is not current: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
