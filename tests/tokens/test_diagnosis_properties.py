"""Properties of diagnose() over arbitrary input: it never raises, its output is always JSON-safe,
and SPEC 3's verdict and co-occurrence rules hold for every result."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.tokens.factory import KEYS, NOW, SECRET_A, SECRET_B, SECRET_STRANGER, T, b64, hs, token
from webapp.tokens import REASON_CODES, Diagnosis, MintRequest, Severity, Verdict, diagnose, mint
from webapp.tokens.reading import alphabet_problem, encoding_only

CLAIM_CODES = {
    "missing_apikey",
    "unknown_apikey",
    "missing_permissions",
    "invalid_permissions",
    "conflicting_permissions",
    "invalid_roles",
    "version_required",
    "invalid_participant_id",
    "invalid_claim",
    "invalid_time_claim",
    "timestamps_in_ms",
    "expired",
    "not_yet_valid",
    "issued_in_future",
    "born_expired",
    "very_short_lifetime",
    "no_expiry",
    "long_lifetime",
    "room_mismatch",
    "participant_mismatch",
    "crawler_cannot_join",
    "rtc_cannot_call_api",
}
ORDER = list(REASON_CODES)
SIGNATURE_CODES = {"bad_signature", "signed_with_other_key", "secret_variant", "replaced_secret"}
SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def table_order(code: str) -> tuple[int, int]:
    """SPEC 3 "Order and summary": errors, warnings, infos, each in the table's order."""
    return SEVERITY_RANK[REASON_CODES[code][0]], ORDER.index(code)


def check(diagnosis: Diagnosis) -> None:
    """The invariants every diagnosis keeps, whatever went in."""
    json.dumps(diagnosis.as_dict(), allow_nan=False).encode("utf-8")
    diagnosis.report().encode("utf-8")
    codes = list(diagnosis.codes)
    assert len(codes) == len(set(codes))
    assert codes == sorted(codes, key=table_order)
    for reason in diagnosis.reasons:
        assert (reason.severity, reason.videosdk_code) == REASON_CODES[reason.code]
        assert reason.message and reason.fix
    errors = any(r.severity is Severity.ERROR for r in diagnosis.reasons)
    if errors:
        assert diagnosis.verdict is Verdict.INVALID
    elif diagnosis.signature_status == "verified":
        assert diagnosis.verdict is Verdict.VALID
    else:
        assert diagnosis.verdict is Verdict.UNVERIFIED
    assert diagnosis.signature_status in {"verified", "mismatch", "unchecked"}
    assert bool(diagnosis.removed) == ("input_cleaned" in codes)
    # SPEC 3: a paste cut short to fewer than three parts is `truncated` with not_a_jwt's limits.
    if "not_a_jwt" in codes or diagnosis.segments is None:
        assert {"not_a_jwt", "truncated"} & set(codes)
        assert set(codes) <= {"not_a_jwt", "truncated", "input_cleaned", "secret_exposed"}
        assert diagnosis.header is None and diagnosis.claims is None
        assert diagnosis.segments is None
    else:
        assert ".".join(diagnosis.segments) == diagnosis.cleaned
    # A header malformed only by encoding ('=' padding, '+' '/') is still read for the check.
    header_unread = (
        diagnosis.segments is not None
        and diagnosis.header is None
        and not encoding_only(alphabet_problem(diagnosis.segments[0]))
    )
    unchecked = (
        "alg_not_hs256" in codes
        or "truncated" in codes
        or ("malformed" in codes and header_unread)
    )
    if unchecked:
        assert not SIGNATURE_CODES & set(codes)
        assert diagnosis.signature_status == "unchecked"
    assert len(SIGNATURE_CODES & set(codes)) <= 1
    assert not {"unknown_apikey", "signed_with_other_key"} <= set(codes)
    assert not {"unknown_apikey", "secret_variant"} <= set(codes)
    if diagnosis.claims is None:
        assert not CLAIM_CODES & set(codes)
    if "timestamps_in_ms" in codes and "invalid_time_claim" not in codes:
        assert diagnosis.claims is not None


moments = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
uses = st.sampled_from([None, "join", "api"])
ids = st.none() | st.sampled_from(["r1", "p1", "abc-defg-hij"]) | st.text(max_size=5)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.text(), when=moments, room=ids, participant=ids, use=uses)
def test_any_text(
    raw: str, when: datetime, room: str | None, participant: str | None, use: str | None
) -> None:
    check(diagnose(raw, keys=KEYS, at=when, room_id=room, participant_id=participant, use=use))


SEGMENT_ALPHABET = "ABCDEFabcdefghyz0129-_=+/.\n %\"'\u201c"


@settings(max_examples=300)
@given(
    parts=st.lists(st.text(alphabet=SEGMENT_ALPHABET, max_size=60), min_size=1, max_size=5),
    prefix=st.sampled_from(["", "Bearer ", "Authorization: ", '"', " \n"]),
)
def test_token_shaped_text(parts: list[str], prefix: str) -> None:
    check(diagnose(prefix + ".".join(parts), keys=KEYS, at=NOW))


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**10, max_value=10**14)
    | st.floats()  # NaN and Infinity too: json.dumps writes literals JSON.parse refuses
    | st.text(max_size=8)
    | st.sampled_from(["allow_join", "ask_join", "allow_mod", "crawler", "rtc", "2", "HS256"])
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)
claim_names = st.sampled_from(
    ["apikey", "permissions", "version", "roomId", "participantId", "roles", "iat", "exp", "nbf"]
)
claim_values = (
    json_values
    | st.sampled_from(["apikey-a", "apikey-b", "apikey-sandbox", "apikey-old", ""])
    | st.lists(st.sampled_from(["allow_join", "ask_join", "allow_mod", "crawler", "rtc"]))
    | st.integers(min_value=T - 10**6, max_value=T + 10**6)
)
payloads = st.dictionaries(claim_names | st.text(max_size=4), claim_values, max_size=10)
headers = st.dictionaries(
    st.sampled_from(["alg", "typ", "kid", "b64", "crit"]) | st.text(max_size=3),
    st.sampled_from(["HS256", "none", "HS512", "JWT"]) | json_values,
    max_size=4,
) | st.just({"alg": "HS256", "typ": "JWT"})
raw_json = st.sampled_from(
    [
        b'{"exp":1e400}',
        b'{"exp":-1e400,"iat":[1]}',
        b'{"exp":null}',
        b'{"iat":' + b"9" * 400 + b"}",
        b'{"apikey":"\xff\xfe"}',
        b'{"x":"\\ud800"}',
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        b"\xef\xbb\xbf{}",
        b"",
    ]
)
secrets = st.sampled_from([SECRET_A, SECRET_B, SECRET_STRANGER, None])


def _encode(part: object) -> str:
    if isinstance(part, bytes):
        return b64(part)
    return b64(json.dumps(part).encode("utf-8", "surrogatepass"))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=headers | json_values | raw_json,
    payload=payloads | json_values | raw_json | st.binary(max_size=40),
    secret=secrets,
    when=moments | st.just(NOW),
    room=ids,
    participant=ids,
    use=uses,
    one_off=st.none() | st.sampled_from([SECRET_A, "", "x"]),
)
def test_arbitrary_json_signed_and_unsigned(
    header: object,
    payload: object,
    secret: str | None,
    when: datetime,
    room: str | None,
    participant: str | None,
    use: str | None,
    one_off: str | None,
) -> None:
    signing_input = f"{_encode(header)}.{_encode(payload)}"
    signature = hs(signing_input, secret) if secret else ""
    check(
        diagnose(
            f"{signing_input}.{signature}",
            keys=KEYS,
            at=when,
            room_id=room,
            participant_id=participant,
            use=use,
            secret=one_off,
        )
    )


@settings(max_examples=300)
@given(payload=payloads, when=moments)
def test_signed_claims_are_echoed_exactly_when_finite(
    payload: dict[str, object], when: datetime
) -> None:
    finite = json.dumps(payload, allow_nan=False) if _finite(payload) else None
    raw = f"{_encode({'alg': 'HS256'})}.{_encode(payload)}"
    diagnosis = diagnose(f"{raw}.{hs(raw, SECRET_A)}", keys=KEYS, at=when)
    check(diagnosis)
    if finite is not None and "\ud800" not in finite:
        assert diagnosis.claims == payload


def _finite(value: object) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True


VALID_TOKENS = [
    token(),
    token(roomId="abc-defg-hij", participantId="p1", roles=["rtc"], version=2),
    token(permissions=["ask_join"]),
]


@settings(max_examples=500)
@given(
    which=st.sampled_from(VALID_TOKENS),
    index=st.integers(min_value=0),
    char=st.characters(),
    delete=st.booleans(),
)
def test_single_character_mutations_are_never_valid(
    which: str, index: int, char: str, delete: bool
) -> None:
    assert diagnose(which, keys=KEYS, at=NOW).verdict is Verdict.VALID
    index %= len(which)
    if delete:
        mutated = which[:index] + which[index + 1 :]
    else:
        if which[index] == char:
            return
        mutated = which[:index] + char + which[index + 1 :]
    diagnosis = diagnose(mutated, keys=KEYS, at=NOW)
    check(diagnosis)
    assert diagnosis.verdict is not Verdict.VALID


permission_sets = st.sampled_from(
    [("allow_join",), ("ask_join",), ("allow_join", "allow_mod"), ("allow_mod",)]
)
lifetimes = st.integers(min_value=1, max_value=30 * 86400) | st.sampled_from(
    ["10m", "1h", "24h", "7d", "30d", "1.5h", "7 days", "90 Minutes"]
)


@settings(max_examples=200)
@given(
    permissions=permission_sets,
    roles=st.none() | st.sampled_from([("rtc",), ("crawler",), ("rtc", "crawler")]),
    # Any text but control and format characters, which ids may not hold (test_minting).
    room=st.none() | st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs")), min_size=1,
                             max_size=12),
    participant=st.none() | st.text(alphabet="abcXYZ019-_.@", min_size=1, max_size=12),
    lifetime=lifetimes,
    when=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_every_minted_token_diagnoses_valid_with_exactly_its_claims(
    permissions: tuple[str, ...],
    roles: tuple[str, ...] | None,
    room: str | None,
    participant: str | None,
    lifetime: int | str,
    when: datetime,
) -> None:
    request = MintRequest(
        permissions=permissions,
        roles=roles,
        room_id=room,
        participant_id=participant,
        expires_in=lifetime,
    )
    minted = mint(request, apikey="apikey-a", secret=SECRET_A, now=when)
    diagnosis = diagnose(minted.token, keys=KEYS[1:], at=when, secret=SECRET_A)
    check(diagnosis)
    assert diagnosis.verdict is Verdict.VALID
    assert diagnosis.claims == minted.claims
    assert diagnosis.expires_at == minted.expires_at


# -- SPEC 3.1: real pastes -----------------------------------------------------------------------

WRAPPERS = st.sampled_from([
    "{}", "Bearer {}", "JWT {}", "Token {}", "Authorization: Bearer {}", "token={}",
    "access_token={}", "https://app.example/join?room=x&token={}", "https://a.example/#t={}",
    '{{"token": "{}"}}', '{{"data": {{"items": [1, "{}"]}}}}', '"{}"', "b'{}'", 'b"{}"', "b'{}",
    "'{}'", "\u201c{}\u201d", "\u200b{}\u2060", "\ufeff{}", "{}\u00a0", "{}\n", "  {}  ",
    "log line: {} (401)", "Hi,\n{}\nthanks",
])
VALID_PASTES = st.sampled_from([
    token(), token(roomId="abc-defg-hij", version=2), token(permissions=["ask_join"]),
])


@settings(max_examples=300)
@given(raw=VALID_PASTES, layers=st.lists(WRAPPERS, min_size=1, max_size=3))
def test_a_wrapped_token_is_found_and_the_wrappings_named(raw: str, layers: list[str]) -> None:
    pasted = raw
    for layer in layers:
        if "://" in layer and ("://" in pasted or "{" in pasted or " " in pasted):
            continue  # a URL parameter holds a token, not a document
        if layer.startswith(("{{", "\"", "b", "'")) and "\"" in pasted and layer != "{}":
            continue  # quotes inside quotes need escaping, which a customer's tool would do
        pasted = layer.replace("{}", pasted)
    diagnosis = diagnose(pasted, keys=KEYS, at=NOW)
    check(diagnosis)
    assert diagnosis.cleaned == raw
    assert diagnosis.verdict is Verdict.VALID
    assert set(diagnosis.codes) <= {"input_cleaned"}
    assert bool(diagnosis.removed) == (pasted != raw)


@settings(max_examples=200)
@given(first=VALID_PASTES, second=VALID_PASTES,
       separator=st.sampled_from(["", " ", "\n", ",", ";", " and ", "."]))
def test_several_tokens_are_counted_and_the_first_diagnosed(first: str, second: str,
                                                          separator: str) -> None:
    diagnosis = diagnose(first + separator + second, keys=KEYS, at=NOW)
    check(diagnosis)
    assert diagnosis.cleaned == first
    assert "several_tokens" in diagnosis.codes
    assert "2 tokens" in {r.code: r for r in diagnosis.reasons}["several_tokens"].message


@settings(max_examples=300)
@given(raw=st.lists(st.sampled_from(
    list("eyJabc.=-_+/%\"'b{}[]:,?&#=\u2026 \n\t\u200b\ufeff\u00ad\u00a0")
    + ["https://", "token=", "Bearer ", "JWT ", "...", token()[:40], token()]),
    max_size=30).map("".join))
def test_any_mixture_of_wrappings_is_diagnosed(raw: str) -> None:
    check(diagnose(raw, keys=KEYS, at=NOW))
