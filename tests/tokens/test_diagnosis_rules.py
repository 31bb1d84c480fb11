"""SPEC 3's co-occurrence rules, reading rules, verdict rules and the shape of the output."""

from __future__ import annotations

import json

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
    b64,
    claims,
    hs,
    raw_token,
    token,
)
from webapp.tokens import KnownKey, Use, Verdict, diagnose

V2 = {"version": 2}


def codes(raw: str, **kwargs: object) -> set[str]:
    options: dict[str, object] = {"keys": KEYS, "at": NOW, **kwargs}
    return set(diagnose(raw, **options).codes)  # type: ignore[arg-type]


# -- co-occurrence ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        '  "apikey-a"\n',
        "Bearer " + SECRET_A,
        "a.b.c.d",
        "Authorization: Bearer x.y",
    ],
)
def test_not_a_jwt_is_accompanied_only_by_input_cleaned(raw: str) -> None:
    diagnosis = diagnose(raw, keys=KEYS, at=NOW, room_id="r", participant_id="p", use="join")
    # SPEC 3 (changed): a pasted secret also fires secret_exposed.
    exposed = {"secret_exposed"} if SECRET_A in raw else set()
    assert set(diagnosis.codes) - exposed <= {"input_cleaned", "not_a_jwt"}
    assert exposed <= set(diagnosis.codes)
    assert "not_a_jwt" in diagnosis.codes
    assert diagnosis.header is None and diagnosis.claims is None and diagnosis.segments is None
    assert diagnosis.verdict is Verdict.INVALID


def test_malformed_header_means_no_signature_check() -> None:
    good = token(secret=SECRET_STRANGER)  # would be bad_signature with a readable header
    raw = "eyJ!" + good[4:]
    diagnosis = diagnose(raw, keys=KEYS, at=NOW)
    assert set(diagnosis.codes) == {"malformed"}
    assert diagnosis.signature_status == "unchecked"
    assert diagnosis.header is None
    assert diagnosis.claims == claims()


def test_alg_not_hs256_means_no_signature_check() -> None:
    raw = raw_token(claims(), header={"alg": "HS384"}, secret=SECRET_B, digest="sha384")
    assert codes(raw) == {"alg_not_hs256"}


@pytest.mark.parametrize("cut", [1, 2, 3, 4, 5, 42])
def test_truncated_means_no_signature_check(cut: int) -> None:
    """A cut signature is `truncated` alone, even at a length base64 cannot have (41, 37)."""
    raw = token(secret=SECRET_B)[:-cut]
    assert codes(raw) == {"truncated"}


def test_signed_with_other_key_replaces_bad_signature_and_unknown_apikey() -> None:
    assert codes(token(secret=SECRET_B)) == {"signed_with_other_key"}
    assert codes(token(secret=SECRET_B, apikey="apikey-zzz")) == {"signed_with_other_key"}
    diagnosis = diagnose(token(secret=SECRET_B, apikey="apikey-zzz"), keys=KEYS, at=NOW)
    assert (diagnosis.signature_status, diagnosis.key_label) == ("mismatch", "other")


def test_timestamps_in_ms_replaces_that_claims_other_time_codes() -> None:
    # iat in ms is "in the future", "after exp" and would make a negative lifetime.
    assert codes(token(iat=T * 1000)) == {"timestamps_in_ms"}
    # exp in ms would be a lifetime far beyond key A's 24 h, and is not "no expiry".
    assert codes(token(exp=(T + 3600) * 1000)) == {"timestamps_in_ms"}
    # ...but the other claims keep theirs: exp in ms, nbf in seconds still in the future.
    assert codes(token(exp=T * 1000, nbf=T + 600)) == {"timestamps_in_ms", "not_yet_valid"}


@pytest.mark.parametrize(
    ("iat", "own_code"),
    [
        (DROP, set()),
        ("yesterday", {"invalid_time_claim"}),
        (None, {"invalid_time_claim"}),
        ((T + 3600) * 1000, {"timestamps_in_ms"}),
    ],
    ids=["absent", "string", "null", "milliseconds"],
)
def test_without_a_usable_iat_no_iat_codes(iat: object, own_code: set[str]) -> None:
    # exp is "now": with any iat after it, it would be born expired and issued in the future,
    # with iat equal to it very short; without a usable iat only `expired` may fire.
    assert codes(token(iat=iat, exp=T)) == own_code | {"expired"}


def test_without_a_usable_iat_long_lifetime_measures_from_the_moment_checked() -> None:
    diagnosis = diagnose(token(iat=DROP, exp=T + 2 * 86400), keys=KEYS, at=NOW)
    assert diagnosis.codes == ("long_lifetime",)
    assert "from the moment checked to exp" in diagnosis.reasons[0].message
    assert codes(token(iat=DROP, exp=T + 86400)) == set()
    # Measured from iat it would be long; from the moment checked it is not.
    assert codes(token(iat=T - 86400, exp=T + 3600)) == {"long_lifetime"}
    assert codes(token(iat="x", exp=T + 3600)) == {"invalid_time_claim"}


@pytest.mark.parametrize("payload", [b"[1]", b'"text"', b"42", b"null", b"{"])
def test_malformed_payload_has_no_claim_or_time_codes(payload: bytes) -> None:
    diagnosis = diagnose(
        raw_token(payload), keys=KEYS, at=NOW, room_id="r", participant_id="p", use="join"
    )
    assert diagnosis.codes == ("malformed",)
    assert diagnosis.claims is None
    # The signature is still checked against every stored secret and names the signer.
    assert (diagnosis.signature_status, diagnosis.key_label) == ("verified", "default")


def test_each_code_once_naming_every_claim() -> None:
    diagnosis = diagnose(
        token(exp=None, iat=[1], nbf="soon", roomId=7, participantId=False, apikey=3, roles=None),
        keys=KEYS,
        at=NOW,
    )
    assert len(diagnosis.codes) == len(set(diagnosis.codes))
    messages = {r.code: r.message for r in diagnosis.reasons}
    for claim in ("exp", "iat", "nbf"):
        assert claim in messages["invalid_time_claim"]
    for claim in ("roomId", "participantId", "apikey"):
        assert claim in messages["invalid_claim"]
    for claim in ("roomId", "participantId", "roles"):
        assert claim in messages["version_required"]


# -- reading rules ---------------------------------------------------------------------------


def test_a_claim_is_present_whatever_its_value() -> None:
    assert codes(token(roles=None)) == {"version_required", "invalid_roles"}
    assert codes(token(exp=None)) == {"invalid_time_claim"}  # not no_expiry
    assert codes(token(exp=DROP)) == {"no_expiry"}


def test_missing_apikey_when_absent_or_empty_invalid_claim_when_not_text() -> None:
    # SPEC 3 (changed): with no usable apikey, the stored key whose secret verifies is named
    # by signed_with_other_key.
    assert codes(token(apikey=DROP)) == {"missing_apikey", "signed_with_other_key"}
    assert codes(token(apikey="")) == {"missing_apikey", "signed_with_other_key"}
    assert codes(token(apikey=None)) == {"invalid_claim", "signed_with_other_key"}
    assert codes(token(apikey=["apikey-a"])) == {"invalid_claim", "signed_with_other_key"}
    assert codes(token(secret=SECRET_STRANGER, apikey=DROP)) == {"missing_apikey"}


def test_numbers_read_as_javascript_reads_them() -> None:
    two_point_oh = raw_token(
        f'{{"apikey":"apikey-a","permissions":["allow_join"],"version":2.0,"roomId":"r",'
        f'"iat":{T}.0,"exp":{T + 60}e0}}'
    )
    assert codes(two_point_oh) == set()
    assert codes(token(version=True, roomId="r")) == {"version_required", "invalid_claim"}
    assert codes(token(exp=True)) == {"invalid_time_claim"}
    assert codes(token(iat=False)) == {"invalid_time_claim"}


def test_claim_values_compare_case_sensitively() -> None:
    assert codes(token(permissions=["Allow_Join"])) == {"invalid_permissions"}
    assert codes(token(roles=["RTC"], **V2)) == {"invalid_roles"}
    assert codes(token(roomId="Room", **V2), room_id="room") == {"room_mismatch"}
    # "APIKEY-A" is not key A's apikey, though key A's secret signed the token.
    assert codes(token(apikey="APIKEY-A", secret=SECRET_A)) == {"signed_with_other_key"}


def test_a_token_without_room_or_participant_matches_any() -> None:
    assert codes(token(), room_id="any-room", participant_id="anyone") == set()
    assert codes(token(roomId="r1", **V2), room_id="r1") == set()
    assert codes(token(participantId="p1", **V2), participant_id="p1") == set()


def test_empty_room_participant_and_use_mean_not_given() -> None:
    assert codes(token(roomId="r1", roles=["crawler"], **V2), room_id="", use="") == set()


@pytest.mark.parametrize(
    ("roles", "use", "expected"),
    [
        (["crawler"], "join", {"crawler_cannot_join"}),
        (["crawler", "crawler"], Use.JOIN, {"crawler_cannot_join"}),
        (["crawler", "rtc"], "join", set()),
        (["crawler"], "api", set()),
        (["rtc"], "api", {"rtc_cannot_call_api"}),
        (["rtc", "crawler"], "api", set()),
        (["rtc"], "join", set()),
        ([], "join", set()),
        ([], "api", set()),
        (["rtc"], None, set()),
    ],
)
def test_holds_only(roles: list[str], use: object, expected: set[str]) -> None:
    assert codes(token(roles=roles, **V2), use=use) == expected


def test_use_is_read_case_insensitively_and_refused_when_unknown() -> None:
    assert codes(token(roles=["rtc"], **V2), use=" API ") == {"rtc_cannot_call_api"}
    with pytest.raises(ValueError, match="join"):
        diagnose(token(), use="meeting")


# -- verdict ---------------------------------------------------------------------------------


def test_verdict_valid_needs_a_verified_signature_and_no_error() -> None:
    diagnosis = diagnose(token(exp=DROP), keys=KEYS, at=NOW)  # a warning
    assert diagnosis.verdict is Verdict.VALID
    assert (diagnosis.signature_status, diagnosis.key_label) == ("verified", "default")


def test_verdict_unverified_without_any_key() -> None:
    diagnosis = diagnose(token(), at=NOW)
    assert diagnosis.verdict is Verdict.UNVERIFIED
    assert diagnosis.codes == ("unknown_apikey",)
    assert diagnosis.signature_status == "unchecked"
    assert diagnosis.as_dict()["signature"] == {"status": "unchecked"}


def test_verdict_invalid_on_any_error_even_when_verified() -> None:
    diagnosis = diagnose(token(permissions=[]), keys=KEYS, at=NOW)
    assert diagnosis.signature_status == "verified"
    assert diagnosis.verdict is Verdict.INVALID


def test_infos_and_warnings_do_not_change_an_unverified_verdict() -> None:
    raw = "Bearer " + token(secret=SECRET_STRANGER, apikey="apikey-zzz", exp=DROP)
    diagnosis = diagnose(raw, keys=KEYS, at=NOW)
    assert set(diagnosis.codes) == {"input_cleaned", "unknown_apikey", "no_expiry"}
    assert diagnosis.verdict is Verdict.UNVERIFIED


# -- the one-off secret ----------------------------------------------------------------------


def test_one_off_secret_verifies_a_key_not_stored() -> None:
    raw = token(secret=SECRET_STRANGER, apikey="apikey-zzz")
    diagnosis = diagnose(raw, at=NOW, secret=SECRET_STRANGER)
    assert diagnosis.verdict is Verdict.VALID
    assert (diagnosis.signature_status, diagnosis.key_label) == ("verified", None)
    assert SECRET_STRANGER not in json.dumps(diagnosis.as_dict()) + diagnosis.report()
    assert SECRET_STRANGER not in repr(diagnosis)


def test_one_off_secret_stands_in_for_the_stored_one() -> None:
    # Signed with A's stored secret, but the secret given is another: that is what is checked,
    # and since A is the token's own key, the one-off secret is wrong, not the key.
    diagnosis = diagnose(token(), keys=[KEY_A], at=NOW, secret=SECRET_STRANGER)
    assert diagnosis.codes == ("bad_signature",)
    assert diagnosis.verdict is Verdict.INVALID
    assert (diagnosis.signature_status, diagnosis.key_label) == ("mismatch", None)
    message = diagnosis.reasons[0].message
    assert "one-off secret" in message
    assert f"stored secret of key '{KEY_A.label}'" in message
    assert "put apikey" not in diagnosis.reasons[0].fix


def test_a_failed_one_off_secret_names_a_different_stored_key_that_signed() -> None:
    # The token claims A's apikey but was signed with B's secret; the one-off secret fails.
    diagnosis = diagnose(token(secret=SECRET_B), keys=KEYS, at=NOW, secret=SECRET_STRANGER)
    assert diagnosis.codes == ("signed_with_other_key",)
    assert diagnosis.key_label == KEY_B.label
    diagnosis = diagnose(token(), keys=[], at=NOW, secret=SECRET_STRANGER)
    assert diagnosis.codes == ("bad_signature",)
    assert "one-off secret" in diagnosis.reasons[0].message


def test_a_disabled_key_still_verifies_and_two_keys_may_share_an_apikey() -> None:
    rotated = KnownKey("default (new)", KEY_A.apikey, SECRET_B)
    diagnosis = diagnose(token(secret=SECRET_B), keys=[KEY_A, rotated], at=NOW)
    assert (diagnosis.verdict, diagnosis.key_label) == (Verdict.VALID, "default (new)")


# -- cleaning --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wrap", "words"),
    [
        ("Bearer {}", ["'Bearer' prefix"]),
        ("bearer {}", ["'Bearer' prefix"]),
        ("BEARER\t{}", ["'Bearer' prefix"]),
        ("Authorization: Bearer {}", ["'Authorization:' header name", "'Bearer' prefix"]),
        ("authorization:bearer {}", ["'Authorization:' header name", "'Bearer' prefix"]),
        ('"{}"', ["quotes around"]),
        ("'{}'", ["quotes around"]),
        ("`{}`", ["quotes around"]),
        ("\u201c{}\u201d", ["quotes around"]),
        ("\u2018{}\u2019", ["quotes around"]),
        ('"Bearer \u2018{}\u2019"\r\n', ["quotes around", "'Bearer' prefix", "around the token"]),
        ("{}\n", ["line breaks around the token"]),
        ("  {}  ", ["spaces or line breaks around the token"]),
        ("Bearer%20{}", ["'Bearer' prefix", "'%20'"]),
    ],
)
def test_cleaning_removes_and_says_so(wrap: str, words: list[str]) -> None:
    raw = token()
    diagnosis = diagnose(wrap.format(raw), keys=KEYS, at=NOW)
    assert diagnosis.cleaned == raw
    assert diagnosis.codes == ("input_cleaned",)
    assert diagnosis.verdict is Verdict.VALID
    said = " ".join(diagnosis.removed)
    for word in words:
        assert word in said
        assert word in diagnosis.reasons[0].message


@pytest.mark.parametrize(
    ("split", "word"),
    [("\n", "inside the token"), (" ", "inside the token"), ("%20", "'%20'"), ("\r\n  ", "inside")],
)
def test_cleaning_joins_a_token_broken_inside(split: str, word: str) -> None:
    raw = token()
    broken = raw[:50] + split + raw[50:120] + split + raw[120:]
    diagnosis = diagnose(broken, keys=KEYS, at=NOW)
    assert diagnosis.cleaned == raw
    assert diagnosis.verdict is Verdict.VALID
    assert any(word in removed for removed in diagnosis.removed)


def test_a_clean_paste_is_not_cleaned() -> None:
    diagnosis = diagnose(token(), keys=KEYS, at=NOW)
    assert diagnosis.removed == ()
    assert "input_cleaned" not in diagnosis.codes


def test_many_prefixes_are_cleaned_in_linear_time() -> None:
    raw = "Bearer " * 200_000 + token()
    assert diagnose(raw, keys=KEYS, at=NOW).codes == ("input_cleaned",)


# -- output ----------------------------------------------------------------------------------


def test_as_dict_is_the_api_shape() -> None:
    raw = token(exp=T - 3600, iat=T - 7200)
    shown = diagnose(raw, keys=KEYS, at=NOW).as_dict()
    assert shown["summary"].startswith("The token expired 1 h ago")  # type: ignore[union-attr]
    assert shown == {
        "verdict": "invalid",
        "summary": shown["summary"],
        "reasons": [
            {
                "code": "expired",
                "severity": "error",
                "message": shown["reasons"][0]["message"],  # type: ignore[index]
                "fix": shown["reasons"][0]["fix"],  # type: ignore[index]
                "videosdkCode": 4002,
            }
        ],
        "header": {"alg": "HS256", "typ": "JWT"},
        "claims": claims(exp=T - 3600, iat=T - 7200),
        "signature": {"status": "verified", "keyLabel": "default"},
        "issuedAt": "2026-11-27T19:00:00Z",
        "expiresAt": "2026-11-27T20:00:00Z",
    }


def test_unrepresentable_values_are_echoed_safely() -> None:
    head = b64(b'{"alg":"HS256","typ":"JWT"}')
    payload = b64(
        b'{"apikey":"apikey-\xff","permissions":["allow_join"],"exp":1e400,"iat":-1e400,'
        b'"nbf":' + b"9" * 5000 + b',"x":"\\ud800"}'
    )
    raw = f"{head}.{payload}.{hs(f'{head}.{payload}', SECRET_A)}"
    diagnosis = diagnose(raw, keys=KEYS, at=NOW)
    assert diagnosis.claims is not None
    assert diagnosis.claims["apikey"] == "apikey-\\xff"
    assert diagnosis.claims["exp"] == "1e400"
    assert diagnosis.claims["iat"] == "-1e400"
    assert diagnosis.claims["x"] == "\\ud800"
    # The apikey is damaged (SPEC 3 reading rules, changed), and key A's secret signed it.
    assert set(diagnosis.codes) == {"invalid_time_claim", "invalid_claim", "signed_with_other_key"}
    text = json.dumps(diagnosis.as_dict(), allow_nan=False)
    text.encode("utf-8")
    diagnosis.report().encode("utf-8")


def test_report_has_no_token_signature_or_secret() -> None:
    raw = token(exp=T - 60, roomId="r1", **V2)
    diagnosis = diagnose(raw, keys=KEYS, at=NOW, secret=SECRET_A)
    report = diagnosis.report()
    assert report.startswith("verdict: invalid\n")
    for forbidden in (raw, raw.split(".")[2], raw.split(".")[1], SECRET_A, SECRET_B):
        assert forbidden not in report
    for expected in ("expired", "fix:", "apikey-a", diagnosis.fingerprint, "roomId", "r1"):
        assert expected in report


def test_times_are_the_usable_claims() -> None:
    diagnosis = diagnose(token(nbf=T - 30), keys=KEYS, at=NOW)
    assert diagnosis.issued_at is not None and diagnosis.issued_at.timestamp() == T - 60
    assert diagnosis.not_before is not None and diagnosis.not_before.timestamp() == T - 30
    assert diagnosis.expires_at is not None and diagnosis.expires_at.timestamp() == T + 3600
    assert "valid for 1 h more" in diagnosis.report()
    ms = diagnose(token(exp=T * 1000, iat=-(10**15)), keys=KEYS, at=NOW)
    assert ms.expires_at is None and ms.issued_at is None
    assert ms.as_dict()["expiresAt"] is None


def test_stored_keys_are_never_repr_secrets() -> None:
    assert SECRET_A not in repr(KEY_A) and SECRET_B not in repr([KEY_B])


@pytest.mark.parametrize(
    "raw", ["\ud800", "\ud800.\udc00.x", "eyJ\udfff.eyJ.abc", f"Bearer \ud800{token()}"]
)
def test_lone_surrogates_in_the_paste(raw: str) -> None:
    diagnosis = diagnose(raw, keys=KEYS, at=NOW)
    assert diagnosis.verdict is Verdict.INVALID
    json.dumps(diagnosis.as_dict(), allow_nan=False).encode("utf-8")
    diagnosis.report().encode("utf-8")
    assert len(diagnosis.fingerprint) == 64


def test_an_empty_one_off_secret_is_not_given() -> None:
    diagnosis = diagnose(token(), keys=KEYS, at=NOW, secret="")
    assert (diagnosis.verdict, diagnosis.key_label) == (Verdict.VALID, "default")
