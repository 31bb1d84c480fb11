"""What people really paste (SPEC 3.1, issues 12 and 16): each kind with cases beyond the
issue's example, by the project's own factory (node-made ones live in tests/interop)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.tokens.factory import (
    DROP,
    KEY_A,
    KEY_B,
    KEYS,
    NOW,
    SECRET_A,
    SECRET_B,
    SECRET_STRANGER,
    T,
    at,
    claims,
    hs,
    raw_token,
    token,
)
from webapp.tokens import Issuance, KnownKey, ReplacedSecret, Verdict, diagnose, fingerprint

V = token()
OTHER = token(secret=SECRET_B, apikey=KEY_B.apikey)
HEAD, PAYLOAD, SIG = V.split(".")


def codes(raw: str, **kwargs: object) -> set[str]:
    return set(diagnose(raw, keys=KEYS, at=NOW, **kwargs).codes)  # type: ignore[arg-type]


# -- wrappings: the token comes out, each wrapping is named --------------------------------------

WRAPPINGS = {
    "URL query": (f"https://app.example/join?room=x&token={V}", "web address"),
    "URL fragment of a single-page app": (f"https://app.example/#/join?jwt={V}", "'jwt' parameter"),
    "URL, percent-encoded": (f"https://a.example/?t={V.replace('.', '%2E')}", "web address"),
    "query string alone": (f"?room=abc&token={V}", "query string"),
    "token=": (f"token={V}", "'token=' prefix"),
    "access_token=": (f"access_token={V}", "'access_token=' prefix"),
    "JSON of /get-token": (json.dumps({"token": V}), "JSON"),
    "JSON nested": (json.dumps({"ok": True, "data": [{"auth": {"jwt": V}}]}), "JSON"),
    "JSON string literal with escapes": ('"' + V.replace(".", "\\u002e") + '"', "JSON string"),
    "JSON string holding a URL": (json.dumps(f"https://x.example/?token={V}"), "web address"),
    "bytes literal": (f"b'{V}'", "bytes literal"),
    "bytes literal, double quotes": (f'b"{V}"', "bytes literal"),
    "bytes literal, closing quote lost": (f"b'{V}", "bytes literal"),
    "Bearer b'...'": (f"Bearer b'{V}'", "bytes literal"),
    "JWT scheme": (f"JWT {V}", "'JWT' prefix"),
    "Token scheme, lower case": (f"token {V}", "'Token' prefix"),
    "Authorization: JWT": (f"Authorization: JWT {V}", "'JWT' prefix"),
    "zero-width space inside": (V[:30] + "\u200b" + V[30:], "invisible"),
    "BOM before": ("\ufeff" + V, "invisible"),
    "word joiner and soft hyphen": (V[:10] + "\u2060" + V[10:50] + "\u00ad" + V[50:], "invisible"),
    "no-break space after Bearer": ("Bearer\u00a0" + V, "invisible"),
    "log line": (f"2026-11-27 21:00:01 WARN join refused jwt={V} code=4002", "text around"),
    "e-mail": (f"Hello,\n\nthe token is:\n{V}\n\nRegards", "text around"),
    "whole token then an ellipsis": (V + "\u2026", "ellipsis"),
    "whole token then three dots in quotes": (f'"{V}..."', "ellipsis"),
    # The end of a sentence: the full stop is not a fourth part.
    "whole token then a full stop": (f"{V}.", "full stop"),
    "sentence ending in the token": (f"My token is {V}.", "text around"),
    "sentence, the token mid-way": (f"It fails with {V}. Any idea?", "text around"),
    "Bearer token then a full stop": (f"Bearer {V}.", "full stop"),
    "quoted in a sentence": (f'The app sent "{V}".', "text around"),
}


@pytest.mark.parametrize("name", WRAPPINGS)
def test_the_token_is_taken_out_of_its_wrapping(name: str) -> None:
    pasted, words = WRAPPINGS[name]
    diagnosis = diagnose(pasted, keys=KEYS, at=NOW)
    assert diagnosis.cleaned == V
    assert diagnosis.codes == ("input_cleaned",)
    assert diagnosis.verdict is Verdict.VALID
    assert words in " ".join(diagnosis.removed)
    assert words in diagnosis.reasons[0].message


# -- several tokens ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("pasted", "count"),
    [
        (V + OTHER, 2),  # glued, no separator
        (V + "\n" + OTHER, 2),
        (V + ", " + OTHER, 2),
        (V + "." + OTHER, 2),  # joined by a dot
        (V + OTHER + V, 3),
        (V + OTHER[:30], 2),  # the rest of a glued paste counts even if cut
        (json.dumps({"access": V, "refresh": OTHER}), 2),
        (f"https://x.example/?token={V}&refresh={OTHER}", 2),
    ],
)
def test_several_tokens_diagnose_the_first(pasted: str, count: int) -> None:
    diagnosis = diagnose(pasted, keys=KEYS, at=NOW)
    assert diagnosis.cleaned == V
    assert set(diagnosis.codes) == {"several_tokens", "input_cleaned"}
    assert diagnosis.verdict is Verdict.VALID
    assert f"{count} tokens" in diagnosis.reasons[0].message


# -- cut short -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "pasted",
    [V[:40] + "\u2026", V[:20] + "...", V[:-10] + "\u2026", f"{HEAD}.{PAYLOAD}.\u2026",
     f"token={V[:70]}... (cut)", f'{{"token": "{V[:50]}\u2026"}}'],
)
def test_a_paste_cut_with_an_ellipsis_is_truncated(pasted: str) -> None:
    diagnosis = diagnose(pasted, keys=KEYS, at=NOW)
    assert set(diagnosis.codes) == {"truncated", "input_cleaned"}
    assert "ellipsis" in " ".join(diagnosis.removed)


def test_an_unsigned_token_keeps_its_last_dot_and_a_full_stop_after_it_goes() -> None:
    unsigned = raw_token(claims(), header={"alg": "none"}, secret=None)
    assert unsigned.endswith(".") and unsigned.count(".") == 2
    assert codes(unsigned) == {"alg_not_hs256"}
    diagnosis = diagnose(unsigned + ".", keys=KEYS, at=NOW)
    assert diagnosis.cleaned == unsigned
    assert "the full stop after the token" in diagnosis.removed
    # Two dots after a whole token are no sentence's end: the paste is read as it is.
    assert "not_a_jwt" in codes(V + "..x")


def test_without_an_ellipsis_fewer_parts_are_not_a_jwt() -> None:
    assert codes(V[:40]) == {"not_a_jwt"}


@pytest.mark.parametrize("alg_header", [{"alg": "none"}, {"alg": "none", "typ": "JWT"}])
def test_an_unsigned_token_is_alg_not_hs256_alone(alg_header: dict[str, str]) -> None:
    unsigned = raw_token(claims(), header=alg_header, secret=None)
    assert codes(unsigned) == {"alg_not_hs256"}
    assert codes(unsigned + "\u2026") == {"alg_not_hs256", "truncated", "input_cleaned"}


def test_an_empty_signature_under_hs256_is_a_mismatch_not_truncated() -> None:
    assert codes(f"{HEAD}.{PAYLOAD}.") == {"bad_signature"}


# -- a right signature wrongly encoded -----------------------------------------------------------

def _standard_alphabet(segment: str) -> str:
    return segment.replace("-", "+").replace("_", "/")


def _token_with_both_alphabets() -> str:
    for n in range(200):
        candidate = token(roomId=f"room-{n}", **{"version": 2})
        if "-" in candidate.split(".")[2] or "_" in candidate.split(".")[2]:
            return candidate
    raise AssertionError("no signature with - or _")


@pytest.mark.parametrize("how", ["padding", "standard alphabet", "both", "ellipsis glued"])
def test_a_right_signature_wrongly_encoded_is_malformed_only(how: str) -> None:
    good = _token_with_both_alphabets()
    head, payload, sig = good.split(".")
    padded = sig + "=" * (-len(sig) % 4 or 1)
    variants = {
        "padding": f"{head}.{payload}.{padded}",
        "standard alphabet": f"{head}.{payload}.{_standard_alphabet(sig)}",
        "both": f"{head}.{payload}.{_standard_alphabet(padded)}",
        "ellipsis glued": f"{head}.{payload}.{padded}\u2026",
    }
    diagnosis = diagnose(variants[how], keys=KEYS, at=NOW)
    assert set(diagnosis.codes) - {"input_cleaned"} == {"malformed"}
    message = diagnosis.reasons[0].message
    assert "right" in message and "'default'" in message
    assert "signature: right for key 'default'" in diagnosis.report()


def test_a_wrongly_encoded_signature_with_other_bytes_is_also_bad_signature() -> None:
    wrong = token(secret=SECRET_STRANGER)
    head, payload, sig = wrong.split(".")
    assert codes(f"{head}.{payload}.{sig}=") == {"malformed", "bad_signature"}


def test_a_padded_payload_signed_as_sent_is_right() -> None:
    payload = base64.urlsafe_b64encode(json.dumps(claims()).encode()).decode()
    assert payload.endswith("=")
    padded = raw_token(claims()).split(".")[0] + "." + payload
    diagnosis = diagnose(f"{padded}.{hs(padded, SECRET_A)}", keys=KEYS, at=NOW)
    assert diagnosis.codes == ("malformed",)
    assert diagnosis.claims is None  # read leniently for the check only


# -- the report never contradicts itself ---------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "line"),
    [
        (token(secret=SECRET_STRANGER), "signature: does not match the secret of key 'default'"),
        (token(secret=SECRET_B), "signature: made with the secret of key 'other'"),
        (V, "signature: verified with key 'default'"),
        (token(secret=SECRET_A + "\n"), "signature: made with the secret followed by a newline"),
    ],
)
def test_the_signature_line_says_what_matched(raw: str, line: str) -> None:
    report = diagnose(raw, keys=KEYS, at=NOW).report()
    assert line in report
    assert "(matches key" not in report


# -- secret variants -----------------------------------------------------------------------------

HEX_SECRET = "00ff10ee20dd30cc40bb50aa60997088"
B64_SECRET = base64.b64encode(b"\x00\x01binary secret\xff\xfe of 30 b").decode()
URLSAFE_SECRET = base64.urlsafe_b64encode(b"\xfb\xff binary url-safe secret!").decode().rstrip("=")
VARIANT_KEYS = (
    *KEYS,
    KnownKey("hex", "apikey-hex", HEX_SECRET),
    KnownKey("b64", "apikey-b64", B64_SECRET),
    KnownKey("url", "apikey-url", URLSAFE_SECRET),
)


def _signed_with(key_bytes: bytes, apikey: str) -> str:
    head = raw_token(claims(apikey=apikey)).rsplit(".", 1)[0]
    mac = hmac.new(key_bytes, head.encode(), hashlib.sha256).digest()
    return head + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("key_bytes", "apikey", "label", "words"),
    [
        (SECRET_A.encode() + b"\n", "apikey-a", "default", "newline"),
        (SECRET_A.encode() + b"\r\n", "apikey-a", "default", "Windows line break"),
        (SECRET_B.encode() + b" ", "apikey-b", "other", "followed by a space"),
        (b" " + SECRET_B.encode() + b" ", "apikey-b", "other", "space on each side"),
        (bytes.fromhex(HEX_SECRET), "apikey-hex", "hex", "hex-decoded"),
        (base64.b64decode(B64_SECRET), "apikey-b64", "b64", "base64-decoded"),
        (base64.urlsafe_b64decode(URLSAFE_SECRET + "=" * (-len(URLSAFE_SECRET) % 4)),
         "apikey-url", "url", "base64-decoded"),
        (base64.b64encode(SECRET_A.encode()), "apikey-a", "default", "base64-encoded"),
        (b"apikey-a", "apikey-a", "default", "API key used in place of the secret"),
        (SECRET_A.encode() + b"\n", "apikey-unknown", "default", "newline"),  # replaces unknown
    ],
)
def test_secret_variants_are_named(key_bytes: bytes, apikey: str, label: str, words: str) -> None:
    diagnosis = diagnose(_signed_with(key_bytes, apikey), keys=VARIANT_KEYS, at=NOW)
    assert diagnosis.codes == ("secret_variant",)
    message = diagnosis.reasons[0].message
    assert f"'{label}'" in message and words in message
    assert diagnosis.reasons[0].videosdk_code == 4002


def test_a_one_off_secret_that_fails_is_bad_signature_after_the_variants() -> None:
    raw = token(secret=SECRET_STRANGER)
    assert codes(raw, secret="not-it-not-it-not-it") == {"bad_signature"}
    assert codes(raw, secret=SECRET_STRANGER) == set()
    unknown = token(secret=SECRET_STRANGER, apikey="apikey-zzz")
    assert codes(unknown, secret=SECRET_STRANGER) == set()  # never unknown_apikey
    assert diagnose(unknown, keys=KEYS, at=NOW, secret=SECRET_STRANGER).verdict is Verdict.VALID


# -- replaced secrets ----------------------------------------------------------------------------

OLD_A = "default-secret-before-the-leak-0000000000000000"
OLDER_A = "default-secret-two-replacements-ago-11111111111"
ROTATED = (
    replace(KEY_A, replaced_secrets=(
        ReplacedSecret(OLD_A, datetime(2026, 11, 20, 10, 0, tzinfo=UTC), "admin@example.com"),
        ReplacedSecret(OLDER_A, datetime(2026, 10, 1, tzinfo=UTC), "cli"),
    )),
    KEY_B,
)


@pytest.mark.parametrize(
    ("secret", "when", "who"),
    [(OLD_A, "2026-11-20T10:00:00Z", "admin@example.com"), (OLDER_A, "2026-10-01", "cli")],
)
def test_a_replaced_secret_is_named(secret: str, when: str, who: str) -> None:
    diagnosis = diagnose(token(secret=secret), keys=ROTATED, at=NOW)
    assert diagnosis.codes == ("replaced_secret",)
    message = diagnosis.reasons[0].message
    assert "'default'" in message and when in message and who in message
    assert secret not in json.dumps(diagnosis.as_dict()) + diagnosis.report()


def test_a_current_secret_wins_over_a_replaced_one() -> None:
    assert set(diagnose(token(), keys=ROTATED, at=NOW).codes) == set()
    assert set(diagnose(token(secret=SECRET_B), keys=ROTATED, at=NOW).codes) == {
        "signed_with_other_key"}


# -- exposed secrets -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (token(apikey=SECRET_A, secret=KEY_A.apikey), "apikey claim"),
        (token(note=f"secret={SECRET_B}"), "note claim"),
        (token(meta={"keys": [SECRET_A]}), "meta.keys[0] claim"),
        (token(header={"alg": "HS256", "kid": SECRET_B}), "header's kid"),
    ],
)
def test_a_token_holding_a_secret_exposes_it_and_never_shows_it(raw: str, where: str) -> None:
    diagnosis = diagnose(raw, keys=KEYS, at=NOW)
    assert "secret_exposed" in diagnosis.codes
    exposed = {r.code: r for r in diagnosis.reasons}["secret_exposed"]
    assert where in exposed.message and "Rotate" in exposed.fix
    shown = json.dumps(diagnosis.as_dict()) + diagnosis.report() + diagnosis.summary
    assert SECRET_A not in shown and SECRET_B not in shown
    assert "[secret of key '" in shown


def test_a_one_off_secret_in_a_claim_is_shown_as_the_secret_given() -> None:
    one_off = "one-off-secret-one-off-secret-1234"
    raw = token(apikey="apikey-zzz", secret=one_off, roomId=one_off, **{"version": 2})
    diagnosis = diagnose(raw, keys=KEYS, at=NOW, secret=one_off, room_id=one_off + "x")
    assert "secret_exposed" in diagnosis.codes
    shown = json.dumps(diagnosis.as_dict()) + diagnosis.report()
    assert one_off not in shown and "[the secret given]" in shown


@pytest.mark.parametrize(
    ("pasted", "words"),
    [("apikey-a", "API key of stored key 'default'"),
     (f"  {KEY_B.apikey}\n", "API key of stored key 'other'"),
     (SECRET_B, "secret of stored key 'other'")],
)
def test_a_bare_key_or_secret_says_whose_without_repeating_it(pasted: str, words: str) -> None:
    diagnosis = diagnose(pasted, keys=KEYS, at=NOW)
    not_a_jwt = {r.code: r for r in diagnosis.reasons}["not_a_jwt"]
    assert words in not_a_jwt.message
    assert pasted.strip() not in json.dumps(diagnosis.as_dict()) + diagnosis.report()
    assert ("secret_exposed" in diagnosis.codes) == (pasted == SECRET_B)


# -- damaged apikey, JWE, shapes -----------------------------------------------------------------

@pytest.mark.parametrize("apikey", ["apikey-\u00e0", "apikey a", "apikey-a\u0000", "\u2013apikey"])
def test_a_damaged_apikey_is_invalid_claim_and_never_unknown(apikey: str) -> None:
    assert codes(token(apikey=apikey, secret=SECRET_STRANGER)) == {"invalid_claim", "bad_signature"}
    assert codes(token(apikey=apikey)) == {"invalid_claim", "signed_with_other_key"}


def test_five_parts_are_jwe_only_with_enc() -> None:
    def seg(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    jwe = ".".join([seg({"alg": "dir", "enc": "A256GCM"}), "", "aXY", "Y2lwaGVy", "dGFn"])
    not_jwe = ".".join([seg({"alg": "HS256"}), "a", "b", "c", "d"])
    jwe_words = diagnose(jwe, keys=KEYS, at=NOW).reasons[0].message
    other_words = diagnose(not_jwe, keys=KEYS, at=NOW).reasons[0].message
    assert "JWE" in jwe_words
    assert "JWE" not in other_words and "five parts" in other_words


def test_a_url_without_a_token_says_so() -> None:
    message = diagnose("https://app.example/join?room=abc", keys=KEYS, at=NOW).reasons[0].message
    assert "web address" in message


# -- time: the zone cap, long_lifetime never without exp -----------------------------------------

@pytest.mark.parametrize("hours", [15, 24, 48])
def test_a_clock_more_than_14_hours_ahead_is_a_wrong_clock(hours: int) -> None:
    diagnosis = diagnose(token(iat=T + hours * 3600, exp=T + hours * 3600 + 600), keys=KEYS, at=NOW)
    message = {r.code: r for r in diagnosis.reasons}["issued_in_future"].message
    assert "UTC+" not in message and "clock is wrong" in message


def test_long_lifetime_never_fires_without_exp() -> None:
    assert codes(token(exp=DROP)) == {"no_expiry"}
    assert codes(token(exp=DROP, iat=DROP)) == {"no_expiry"}


@pytest.mark.parametrize(
    ("lifetime", "string", "meant"),
    [(3, "3600", "1h"), (7, "7200", "2h"), (10, "10800", "3h"), (14, "14400", "4h"),
     (21, "21600", "6h"), (28, "28800", "8h"), (43, "43200", "12h"), (86, "86400", "24h"),
     (172, "172800", "2d"), (259, "259200", "3d"), (604, "604800", "7d"),
     (2592, "2592000", "30d")],
)
def test_very_short_lifetime_names_the_unitless_string(lifetime: int, string: str,
                                                       meant: str) -> None:
    diagnosis = diagnose(token(iat=T - 1, exp=T - 1 + lifetime), keys=KEYS, at=NOW)
    reason = {r.code: r for r in diagnosis.reasons}["very_short_lifetime"]
    assert f"'{string}'" in reason.message and f"'{meant}'" in reason.message


@pytest.mark.parametrize("lifetime", [2, 4, 60, 3600, 87])
def test_other_lifetimes_are_not_very_short(lifetime: int) -> None:
    assert "very_short_lifetime" not in codes(token(iat=T - 1, exp=T - 1 + lifetime))


# -- order and summary ---------------------------------------------------------------------------

def test_reasons_are_errors_then_warnings_then_infos() -> None:
    raw = f'"{token(iat=T - 100, exp=T - 100 + 1, expiresIn="2h")}"'
    diagnosis = diagnose(raw, keys=KEYS, at=NOW)
    assert diagnosis.codes == ("expired", "very_short_lifetime", "option_in_payload",
                               "input_cleaned")


def test_the_summary_names_the_missing_unit_not_the_expiry() -> None:
    diagnosis = diagnose(token(iat=T - 100, exp=T - 100 + 86), keys=KEYS, at=NOW)
    assert diagnosis.summary.startswith("exp is only 86 s after iat")
    assert "'24h'" in diagnosis.summary


def test_the_summary_of_a_valid_token_names_the_key_and_the_end() -> None:
    summary = diagnose(OTHER, keys=KEYS, at=NOW).summary
    assert "stored key 'other'" in summary
    assert "2026-11-27T22:00:00Z" in summary
    assert diagnose(OTHER, keys=KEYS, at=NOW).report().splitlines()[2].startswith(
        "summary: VideoSDK will accept this token")


def test_the_report_says_what_the_customer_tried() -> None:
    report = diagnose(V, keys=KEYS, at=NOW, room_id="abc", participant_id="p1",
                      use="join").report()
    assert 'the customer tried: room "abc", participant "p1", joining a meeting' in report


# -- advice that fits the case (issue 16.6) ------------------------------------------------------

def test_a_short_lived_token_used_hours_later_is_fetched_at_join() -> None:
    raw = token(iat=T - 5 * 3600, exp=T - 5 * 3600 + 600)
    fix = diagnose(raw, keys=KEYS, at=NOW).reasons[0].fix
    assert "when the user joins rather than storing" in fix


def test_a_get_token_token_is_not_told_to_change_its_lifetime() -> None:
    raw = token(iat=T - 3600, exp=T - 3000)
    issuance = Issuance("backend", "client", at(hours=-1), "default", "backend", via="get-token")
    diagnosis = diagnose(raw, keys=KEYS, at=NOW,
                         lookup=lambda fp: issuance if fp == fingerprint(raw) else None)
    fix = {r.code: r for r in diagnosis.reasons}["expired"].fix
    assert "/get-token again" in fix and "expiresIn" not in fix
    assert "/get-token again" in diagnosis.summary


def test_an_expired_token_otherwise_gets_the_general_fix() -> None:
    fix = diagnose(token(iat=T - 3700, exp=T - 100), keys=KEYS, at=NOW).reasons[0].fix
    assert "Mint a new token" in fix


# -- option_in_payload ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "options",
    [{"expiresIn": "2h"}, {"notBefore": "1m"}, {"audience": "x", "issuer": "y"},
     {"subject": "s", "jwtid": "j", "keyid": "k"}, {"noTimestamp": True},
     {"header": {"typ": "JWT"}}, {"algorithm": "HS256"}],
)
def test_option_in_payload_names_each_option(options: dict[str, object]) -> None:
    diagnosis = diagnose(raw_token(claims(**options)), keys=KEYS, at=NOW)
    reason = {r.code: r for r in diagnosis.reasons}["option_in_payload"]
    for name in options:
        assert name in reason.message and name in reason.fix
    assert "third argument" in reason.fix


def test_expires_in_in_the_payload_changes_the_no_expiry_fix() -> None:
    diagnosis = diagnose(token(exp=DROP, expiresIn="2h"), keys=KEYS, at=NOW)
    no_expiry = {r.code: r for r in diagnosis.reasons}["no_expiry"]
    assert "Move expiresIn out of the payload" in no_expiry.fix


@pytest.mark.parametrize("name", ["\udcdc\x00tok", "t\u00e9ken", "a" * 80, ""])
def test_a_parameter_name_from_the_paste_is_shown_only_when_it_reads_as_one(name: str) -> None:
    diagnosis = diagnose(f"?{name}={V}&x=1", keys=KEYS, at=NOW)
    assert diagnosis.cleaned == V
    diagnosis.report().encode("utf-8")
    json.dumps(diagnosis.as_dict()).encode("utf-8")
    assert "(a parameter)" in " ".join(diagnosis.removed)


def test_a_cut_token_joined_to_the_next_by_a_dot_is_diagnosed_first() -> None:
    diagnosis = diagnose(V[:-20] + "." + OTHER, keys=KEYS, at=NOW)
    assert set(diagnosis.codes) == {"truncated", "several_tokens", "input_cleaned"}
    assert diagnosis.cleaned == V[:-20]


def test_pieces_of_tokens_run_together_are_named_so() -> None:
    message = diagnose(f"{HEAD}.{PAYLOAD[:30]}eyJhbGci.{PAYLOAD}.{SIG}", keys=KEYS,
                       at=NOW).reasons[0].message
    assert "two tokens run together" in message


@pytest.mark.parametrize(
    ("pasted", "verdict"),
    [("https://[", Verdict.INVALID), ("http://a]b/", Verdict.INVALID),
     (f"https://[::1/?token={V}", Verdict.VALID)],  # the token is found in the text
)
def test_a_url_urllib_refuses_is_still_diagnosed(pasted: str, verdict: Verdict) -> None:
    diagnosis = diagnose(pasted, keys=KEYS, at=NOW)
    assert diagnosis.verdict is verdict
    json.dumps(diagnosis.as_dict()).encode("utf-8")


@pytest.mark.parametrize(("lifetime", "meant"), [(0, "120m"), (1, "120m"), (7, "2h"), (604, "7d")])
def test_the_expired_fix_names_the_missing_unit_not_minting_again(lifetime: int,
                                                                  meant: str) -> None:
    diagnosis = diagnose(token(iat=T - 1000, exp=T - 1000 + lifetime), keys=KEYS, at=NOW)
    fix = {r.code: r for r in diagnosis.reasons}["expired"].fix
    assert f"expiresIn: '{meant}'" in fix and not fix.startswith("Mint a new token")
