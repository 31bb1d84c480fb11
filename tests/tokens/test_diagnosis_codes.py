"""Every reason code of SPEC 3: the exact set of codes, severity, VideoSDK code and key words."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.tokens.factory import (
    DROP,
    KEY_A,
    KEY_B,
    KEY_OLD,
    KEY_SANDBOX,
    KEYS,
    NOW,
    SECRET_A,
    SECRET_B,
    SECRET_OLD,
    SECRET_SANDBOX,
    SECRET_STRANGER,
    T,
    at,
    claims,
    raw_token,
    token,
)
from webapp.tokens import (
    REASON_CODES,
    Issuance,
    ReplacedSecret,
    Severity,
    Verdict,
    diagnose,
    fingerprint,
)

# The public table of SPEC 3, copied by hand so that a slip in REASON_CODES shows up here.
SPEC_TABLE: dict[str, tuple[str, int | None]] = {
    "input_cleaned": ("info", None),
    "not_a_jwt": ("error", None),
    "malformed": ("error", None),
    "truncated": ("error", None),
    "alg_not_hs256": ("error", None),
    "missing_apikey": ("error", 4001),
    "unknown_apikey": ("warning", None),
    "sandbox_key": ("error", 4001),
    "key_disabled": ("warning", None),
    "missing_permissions": ("error", None),
    "invalid_permissions": ("error", 4008),
    "conflicting_permissions": ("error", 4008),
    "invalid_roles": ("error", 4024),
    "version_required": ("error", None),
    "invalid_participant_id": ("error", 4004),
    "invalid_claim": ("error", None),
    "invalid_time_claim": ("error", None),
    "timestamps_in_ms": ("error", None),
    "bad_signature": ("error", 4002),
    "signed_with_other_key": ("error", 4002),
    "expired": ("error", 4002),
    "not_yet_valid": ("error", 4002),
    "issued_in_future": ("error", 4002),
    "born_expired": ("error", 4002),
    "very_short_lifetime": ("warning", None),
    "no_expiry": ("warning", None),
    "long_lifetime": ("warning", None),
    "room_mismatch": ("error", 4022),
    "participant_mismatch": ("error", 4023),
    "crawler_cannot_join": ("error", 4024),
    "rtc_cannot_call_api": ("error", 4024),
    "issued_here": ("info", None),
    "secret_variant": ("error", 4002),
    "secret_exposed": ("error", None),
    "replaced_secret": ("error", 4002),
    "option_in_payload": ("warning", None),
    "several_tokens": ("warning", None),
}


def test_reason_table_is_the_spec_table() -> None:
    assert list(REASON_CODES) == list(SPEC_TABLE)
    for code, (severity, videosdk_code) in SPEC_TABLE.items():
        assert REASON_CODES[code] == (Severity(severity), videosdk_code)


def _issuance_lookup(raw: str) -> Callable[[str], Issuance | None]:
    issuance = Issuance(
        issuer="alice@example.com",
        issuer_kind="person",
        issued_at=at(minutes=-1),
        key_label="default",
        client_id=None,
    )
    wanted = fingerprint(raw)
    return lambda fp: issuance if fp == wanted else None


@dataclass
class Case:
    raw: str
    codes: set[str]
    words: dict[str, list[str]] = field(default_factory=dict)
    verdict: Verdict = Verdict.INVALID
    kwargs: dict[str, Any] = field(default_factory=dict)


V2 = {"version": 2}
VALID = token()
SECRET_OLD_A = "the-secret-default-had-before-2026-11-20-xxxxxxxxxxxx"
ROTATED_A = replace(KEY_A, replaced_secrets=(
    ReplacedSecret(SECRET_OLD_A, datetime(2026, 11, 20, 9, 30, tzinfo=UTC), "bob@example.com"),
))

CASES: dict[str, Case] = {
    "valid": Case(VALID, set(), verdict=Verdict.VALID),
    "input_cleaned": Case(
        f'Bearer "{VALID}"\n',
        {"input_cleaned"},
        {"input_cleaned": ["Bearer", "quotes"]},
        verdict=Verdict.VALID,
    ),
    "not_a_jwt/api key": Case("apikey-a", {"not_a_jwt"}, {"not_a_jwt": ["three parts"]}),
    "not_a_jwt/secret": Case(
        SECRET_STRANGER, {"not_a_jwt"}, {"not_a_jwt": ["API key or a secret"]}
    ),
    "not_a_jwt/two parts": Case(VALID.rsplit(".", 1)[0], {"not_a_jwt"}, {"not_a_jwt": ["2 parts"]}),
    "not_a_jwt/empty": Case("", {"not_a_jwt"}, {"not_a_jwt": ["empty"]}),
    # SPEC 3 (changed): padding added after signing changes the text the MAC covers.
    "malformed/padding": Case(
        VALID.split(".")[0] + "." + VALID.split(".")[1] + "==." + VALID.split(".")[2],
        {"malformed", "bad_signature"},
        {"malformed": ["payload", "'='"]},
    ),
    "malformed/standard base64": Case(
        "eyJ+" + VALID[4:], {"malformed"}, {"malformed": ["header", "'+'"]}
    ),
    "malformed/payload not JSON": Case(
        raw_token(b"not json at all"), {"malformed"}, {"malformed": ["payload", "not JSON"]}
    ),
    "malformed/payload a list": Case(
        raw_token([1, 2]), {"malformed"}, {"malformed": ["payload", "a list", "not an object"]}
    ),
    "malformed/NaN literal": Case(
        raw_token('{"apikey":"apikey-a","permissions":["allow_join"],"exp":NaN}'),
        {"malformed"},
        {"malformed": ["payload", "not JSON"]},
    ),
    "truncated": Case(VALID[:-5], {"truncated"}, {"truncated": ["38 characters", "43"]}),
    "alg_not_hs256/HS512": Case(
        raw_token(claims(), header={"alg": "HS512", "typ": "JWT"}, digest="sha512"),
        {"alg_not_hs256"},
        {"alg_not_hs256": ['"HS512"', "HS256"]},
    ),
    "alg_not_hs256/none": Case(
        raw_token(claims(), header={"alg": "none"}, secret=None),
        {"alg_not_hs256"},  # SPEC 3 (changed): an unsigned token is never `truncated`
        {"alg_not_hs256": ["'none'", "unsigned"]},
    ),
    "alg_not_hs256/no alg": Case(
        token(header={"typ": "JWT"}), {"alg_not_hs256"}, {"alg_not_hs256": ["no alg"]}
    ),
    "alg_not_hs256/lower case": Case(
        token(header={"alg": "hs256", "typ": "JWT"}),
        {"alg_not_hs256"},
        {"alg_not_hs256": ['"hs256"']},
    ),
    # SPEC 3 (changed): the key whose secret verifies is named by signed_with_other_key.
    "missing_apikey/absent": Case(
        token(apikey=DROP),
        {"missing_apikey", "signed_with_other_key"},
        {"missing_apikey": ["no apikey", "'default'"]},
    ),
    "missing_apikey/empty": Case(
        token(apikey=""), {"missing_apikey", "signed_with_other_key"},
        {"missing_apikey": ["empty apikey"]}
    ),
    "unknown_apikey": Case(
        token(secret=SECRET_STRANGER, apikey="apikey-zzz"),
        {"unknown_apikey"},
        {"unknown_apikey": ['"apikey-zzz"', "not checked"]},
        verdict=Verdict.UNVERIFIED,
    ),
    "sandbox_key": Case(
        token(secret=SECRET_SANDBOX, apikey=KEY_SANDBOX.apikey),
        {"sandbox_key"},
        {"sandbox_key": ["sandbox key 'sandbox'", "does not know"]},
    ),
    "key_disabled": Case(
        token(secret=SECRET_OLD, apikey=KEY_OLD.apikey),
        {"key_disabled"},
        {"key_disabled": ["'old'", "disabled"]},
        verdict=Verdict.VALID,
    ),
    "missing_permissions/absent": Case(
        token(permissions=DROP),
        {"missing_permissions"},
        {"missing_permissions": ["no permissions"]},
    ),
    "missing_permissions/empty": Case(
        token(permissions=[]), {"missing_permissions"}, {"missing_permissions": ["empty"]}
    ),
    "invalid_permissions/not a list": Case(
        token(permissions="allow_join"),
        {"invalid_permissions"},
        {"invalid_permissions": ["must be a list", "text"]},
    ),
    "invalid_permissions/case": Case(
        token(permissions=["ALLOW_JOIN"]),
        {"invalid_permissions"},
        {"invalid_permissions": ['"ALLOW_JOIN"', "case-sensitive"]},
    ),
    "conflicting_permissions": Case(
        token(permissions=["ask_join", "allow_mod"]),
        {"conflicting_permissions"},
        {"conflicting_permissions": ["ask_join", "allow_mod"]},
    ),
    "invalid_roles/unknown": Case(
        token(roles=["admin"], **V2), {"invalid_roles"}, {"invalid_roles": ['"admin"']}
    ),
    "invalid_roles/not a list": Case(
        token(roles="rtc", **V2), {"invalid_roles"}, {"invalid_roles": ["must be a list"]}
    ),
    "version_required/absent": Case(
        token(roomId="r1", roles=["rtc"]),
        {"version_required"},
        {"version_required": ["roomId and roles", "version: 2", "absent"]},
    ),
    "version_required/string": Case(
        token(participantId="p1", version="2"),
        {"version_required", "invalid_claim"},
        {"version_required": ["participantId", '"2"'], "invalid_claim": ["version"]},
    ),
    "invalid_participant_id": Case(
        token(participantId="jane doe", **V2),
        {"invalid_participant_id"},
        {"invalid_participant_id": ['"jane doe"', "whitespace"]},
    ),
    "invalid_claim/types": Case(
        token(roomId=5, participantId=["p"], **V2),
        {"invalid_claim"},
        {"invalid_claim": ["roomId", "participantId", "text"]},
    ),
    "invalid_claim/apikey number": Case(
        token(apikey=5), {"invalid_claim", "signed_with_other_key"},  # SPEC 3 (changed)
        {"invalid_claim": ["apikey", "a number"]}
    ),
    "invalid_claim/version 3": Case(
        token(version=3), {"invalid_claim"}, {"invalid_claim": ["version", "3"]}
    ),
    "invalid_time_claim/null and list": Case(
        token(exp=None, iat=[1]),
        {"invalid_time_claim"},
        {"invalid_time_claim": ["exp is null", "iat is a list"]},
    ),
    "invalid_time_claim/string and boolean": Case(
        token(exp=str(T + 3600), nbf=True),
        {"invalid_time_claim"},
        {"invalid_time_claim": ["exp is text", "nbf is true/false"]},
    ),
    "invalid_time_claim/overflow": Case(
        raw_token(f'{{"apikey":"apikey-a","permissions":["allow_join"],"iat":{T},"exp":1e400}}'),
        {"invalid_time_claim"},
        {"invalid_time_claim": ["exp", "too large"]},
    ),
    "timestamps_in_ms": Case(
        token(iat=(T - 60) * 1000, exp=(T + 3600) * 1000),
        {"timestamps_in_ms"},
        {"timestamps_in_ms": ["iat and exp", "as milliseconds is 2026-11-27T22:00:00Z"]},
    ),
    "bad_signature": Case(
        token(secret=SECRET_STRANGER),
        {"bad_signature"},
        {"bad_signature": ["'default'", '"apikey-a"']},
    ),
    "signed_with_other_key": Case(
        token(secret=SECRET_B),
        {"signed_with_other_key"},
        {"signed_with_other_key": ["'other'", "apikey-b", '"apikey-a"']},
    ),
    "signed_with_other_key/unknown apikey": Case(
        token(secret=SECRET_B, apikey="apikey-zzz"),
        {"signed_with_other_key"},
        {"signed_with_other_key": ["'other'", '"apikey-zzz"', "not stored"]},
    ),
    "expired": Case(
        token(iat=T - 4 * 3600, exp=T - (3 * 3600 + 12 * 60)),
        {"expired"},
        {"expired": ["expired 3 h 12 min ago", "Token is invalid or expired"]},
    ),
    "expired/at the second": Case(token(exp=T), {"expired"}, {"expired": ["expired just now"]}),
    "not_yet_valid": Case(
        token(nbf=T + 600), {"not_yet_valid"}, {"not_yet_valid": ["nbf", "10 min"]}
    ),
    "issued_in_future/time zone": Case(
        token(iat=T + 19800, exp=T + 19800 + 3600),
        {"issued_in_future"},
        {"issued_in_future": ["iat", "5 h 30 min", "looks like a UTC+5:30 clock"]},
    ),
    "issued_in_future/whole hour": Case(
        token(iat=T + 7200 + 40, exp=T + 7200 + 3600),
        {"issued_in_future"},
        {"issued_in_future": ["UTC+2 clock"]},
    ),
    "issued_in_future/plain skew": Case(
        token(iat=T + 420),
        {"issued_in_future"},
        {"issued_in_future": ["7 min", "clock is wrong"]},
    ),
    "born_expired": Case(
        token(iat=T + 30, exp=T - 30),
        {"born_expired", "expired"},
        {"born_expired": ["exp", "1 min before iat"]},
    ),
    "very_short_lifetime/expired": Case(
        token(iat=T, exp=T),
        {"very_short_lifetime", "expired"},
        {"very_short_lifetime": ["'120'", "milliseconds"]},
    ),
    "very_short_lifetime/alone": Case(
        token(iat=T, exp=T + 1),
        {"very_short_lifetime"},
        {"very_short_lifetime": ["1 s after iat"]},
        verdict=Verdict.VALID,
    ),
    "no_expiry": Case(
        token(exp=DROP), {"no_expiry"}, {"no_expiry": ["no exp", "forever"]}, Verdict.VALID
    ),
    "long_lifetime": Case(
        token(exp=T - 60 + 2 * 86400),
        {"long_lifetime"},
        {"long_lifetime": ["2 d", "'default'", "1d", "from iat to exp"]},
        verdict=Verdict.VALID,
    ),
    "room_mismatch": Case(
        token(roomId="abc-defg-hij", **V2),
        {"room_mismatch"},
        {"room_mismatch": ['"abc-defg-hij"', '"ABC-DEFG-HIJ"', "case matters"]},
        kwargs={"room_id": "ABC-DEFG-HIJ"},
    ),
    "participant_mismatch": Case(
        token(participantId="alice", **V2),
        {"participant_mismatch"},
        {"participant_mismatch": ['"alice"', '"bob"']},
        kwargs={"participant_id": "bob"},
    ),
    "crawler_cannot_join": Case(
        token(roles=["crawler"], **V2),
        {"crawler_cannot_join"},
        {"crawler_cannot_join": ["crawler", "cannot join"]},
        kwargs={"use": "join"},
    ),
    "rtc_cannot_call_api": Case(
        token(roles=["rtc"], **V2),
        {"rtc_cannot_call_api"},
        {"rtc_cannot_call_api": ["rtc", "server-side APIs"]},
        kwargs={"use": "api"},
    ),
    "issued_here": Case(
        VALID,
        {"issued_here"},
        {"issued_here": ["alice@example.com", "1 min ago", "'default'"]},
        verdict=Verdict.VALID,
        kwargs={"lookup": _issuance_lookup(VALID)},
    ),
    "secret_variant": Case(
        token(secret=SECRET_A + "\n"),
        {"secret_variant"},
        {"secret_variant": ["'default'", "newline"]},
    ),
    "secret_exposed": Case(
        token(apikey=SECRET_A, secret=KEY_A.apikey),  # apikey and secret swapped
        {"secret_exposed", "secret_variant"},
        {"secret_exposed": ["apikey claim", "'default'"]},
        kwargs={"keys": KEYS},
    ),
    "replaced_secret": Case(
        token(secret=SECRET_OLD_A),
        {"replaced_secret"},
        {"replaced_secret": ["'default'", "2026-11-20", "bob@example.com"]},
        kwargs={"keys": (ROTATED_A, KEY_B)},
    ),
    "option_in_payload": Case(
        token(exp=DROP, expiresIn="2h"),
        {"option_in_payload", "no_expiry"},
        {"option_in_payload": ["expiresIn", "jsonwebtoken"]},
        verdict=Verdict.VALID,
    ),
    "several_tokens": Case(
        f"{VALID} {token(secret=SECRET_B, apikey='apikey-b')}",
        {"several_tokens", "input_cleaned"},
        {"several_tokens": ["2 tokens"]},
        verdict=Verdict.VALID,
    ),
}


def test_every_code_has_a_case() -> None:
    covered = set().union(*(case.codes for case in CASES.values()))
    assert covered == set(SPEC_TABLE)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_reason(case: Case) -> None:
    kwargs = {"keys": KEYS, "at": NOW, **case.kwargs}
    diagnosis = diagnose(case.raw, **kwargs)

    assert set(diagnosis.codes) == case.codes
    assert diagnosis.verdict is case.verdict
    for reason in diagnosis.reasons:
        severity, videosdk_code = SPEC_TABLE[reason.code]
        assert (reason.severity.value, reason.videosdk_code) == (severity, videosdk_code)
        assert reason.message and reason.fix
        shown = reason.as_dict()
        assert ("videosdkCode" in shown) == (videosdk_code is not None)
        assert shown.get("videosdkCode") == videosdk_code
    by_code = {r.code: r for r in diagnosis.reasons}
    for code, words in case.words.items():
        for word in words:
            assert word in by_code[code].message, (word, by_code[code].message)
    json.dumps(diagnosis.as_dict(), allow_nan=False)


def test_fixes_say_what_to_change() -> None:
    short = diagnose(token(iat=T, exp=T), keys=KEYS, at=NOW)
    fix = {r.code: r.fix for r in short.reasons}["very_short_lifetime"]
    assert "Sign with expiresIn: '120m' rather than '120'" in fix

    other = diagnose(token(secret=SECRET_B), keys=KEYS, at=NOW)
    assert "put apikey 'apikey-b' in the token" in other.reasons[0].fix

    missing = diagnose(token(apikey=DROP), keys=KEYS, at=NOW)
    assert "Add apikey: 'apikey-a'" in missing.reasons[0].fix

    long = diagnose(token(exp=T + 3 * 86400), keys=KEYS, at=NOW)
    assert "expiresIn: '1d'" in long.reasons[0].fix


def test_issued_in_future_allows_a_minute_of_skew() -> None:
    codes = lambda iat: diagnose(token(iat=iat), keys=KEYS, at=NOW).codes  # noqa: E731
    assert codes(T + 60) == ()
    assert codes(T + 61) == ("issued_in_future",)


@pytest.mark.parametrize(
    ("gap", "zone"),
    [
        (3600, "UTC+1 clock"),
        (3600 + 59, "UTC+1 clock"),
        (3600 - 59, "UTC+1 clock"),
        (20700, "UTC+5:45 clock"),
        (45 * 60, "UTC+0:45 clock"),
        (14 * 3600, "UTC+14 clock"),
    ],
)
def test_issued_in_future_names_the_time_zone(gap: int, zone: str) -> None:
    diagnosis = diagnose(token(iat=T + gap, exp=T + gap + 3600), keys=KEYS, at=NOW)
    assert diagnosis.codes == ("issued_in_future",)
    assert f"looks like a {zone}" in diagnosis.reasons[0].message


@pytest.mark.parametrize("gap", [3600 + 61, 3600 + 400, 3 * 86400])
def test_issued_in_future_without_a_zone(gap: int) -> None:
    diagnosis = diagnose(token(iat=T + gap, exp=T + gap + 3600), keys=KEYS, at=NOW)
    assert diagnosis.codes == ("issued_in_future",)
    assert "UTC+" not in diagnosis.reasons[0].message


def test_sandbox_key_named_by_apikey_alone() -> None:
    """A token naming the sandbox apikey is refused by VideoSDK whatever signed it."""
    diagnosis = diagnose(
        token(secret=SECRET_STRANGER, apikey=KEY_SANDBOX.apikey), keys=KEYS, at=NOW
    )
    assert set(diagnosis.codes) == {"sandbox_key", "bad_signature"}
    assert "names the apikey of this service's sandbox key" in diagnosis.reasons[0].message


def test_issued_here_by_an_api_client() -> None:
    raw = token()
    issuance = Issuance("mobile-app", "client", NOW, "default", "client-7")
    diagnosis = diagnose(raw, keys=KEYS, at=NOW, lookup=lambda fp: issuance)
    assert diagnosis.issuance == issuance
    assert "by API client mobile-app" in diagnosis.reasons[0].message


def test_lookup_is_asked_by_the_sha256_of_the_cleaned_token() -> None:
    asked: list[str] = []
    raw = token()
    diagnose(f"Bearer {raw}\n", keys=KEYS, at=NOW, lookup=lambda fp: asked.append(fp))  # type: ignore[func-returns-value]
    assert asked == [fingerprint(raw)]


def test_key_a_is_still_tried_when_the_signature_is_unknown() -> None:
    """bad_signature names the key of the token's apikey and reports a mismatch."""
    diagnosis = diagnose(token(secret=SECRET_STRANGER), keys=[KEY_A, KEY_B], at=NOW)
    assert diagnosis.signature_status == "mismatch"
    assert diagnosis.key_label == "default"
    assert diagnosis.as_dict()["signature"] == {"status": "mismatch", "keyLabel": "default"}


def test_time_claims_at_default_now_use_the_real_clock() -> None:
    """Without `at` the moment checked is computed at call time (this token expired in 2026)."""
    diagnosis = diagnose(token(iat=T - 60, exp=T - 30), keys=KEYS)
    assert diagnosis.checked_at > NOW
    assert "expired" in diagnosis.codes


def test_at_without_offset_means_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    diagnosis = diagnose(token(exp=T), keys=KEYS, at=naive)
    assert diagnosis.checked_at == NOW
    assert diagnosis.codes == ("expired",)
