"""Interop with node jsonwebtoken 9: what we mint verifies there, and what it signs we diagnose.

All node work of this module runs in two batched node processes (module-scoped fixtures).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.interop.node import NodeJwt
from tests.tokens.factory import (
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
)
from webapp.tokens import (
    REASON_CODES,
    Issuance,
    KnownKey,
    MintRequest,
    ReplacedSecret,
    Verdict,
    diagnose,
    fingerprint,
    mint,
)

pytestmark = pytest.mark.interop

A = KEY_A.apikey
SECRET_B64 = base64.b64encode(b"raw secret bytes of the b64 key, 32b").decode()
KEY_B64 = KnownKey("b64", "apikey-b64", SECRET_B64)
SECRET_REPLACED = "the-secret-default-had-until-2026-11-20-zzzzzzzzzz"
ROTATED_A = replace(KEY_A, replaced_secrets=(
    ReplacedSecret(SECRET_REPLACED, datetime(2026, 11, 20, 8, 0, tzinfo=UTC), "carol@example.com"),
))
JOIN = ["allow_join"]
V2 = {"version": 2}


def payload_of(token: str) -> dict[str, Any]:
    segment = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


@dataclass
class NodeCase:
    """A token signed by jsonwebtoken, and what the diagnosis must say about it."""

    payload: object
    codes: set[str]
    secret: str = SECRET_A
    options: dict[str, Any] = field(default_factory=lambda: {"expiresIn": "120m"})
    # The moment checked: T, or when None one second after the iat node chose from its clock.
    at: datetime | None = NOW
    check: dict[str, Any] = field(default_factory=dict)
    wrap: str = "{}"  # how the token is pasted
    cut: slice = field(default_factory=lambda: slice(None))  # what part of the token is pasted
    words: list[str] = field(default_factory=list)
    verdict: Verdict = Verdict.INVALID
    keys: tuple[KnownKey, ...] = KEYS
    secret_encoding: str | None = None  # node signs with Buffer.from(secret, encoding)
    summary: list[str] = field(default_factory=list)  # words the summary must hold


DOCS_PAYLOAD = {
    "apikey": A,
    "permissions": JOIN,
    "version": 2,
    "roomId": "abc-defg-hij",
    "participantId": "p-1",
    "roles": ["crawler", "rtc"],
}

CASES: dict[str, NodeCase] = {
    # -- as VideoSDK's docs and example servers sign, on node's own clock ----------------------
    "docs v2 payload, 120m": NodeCase(
        DOCS_PAYLOAD,
        set(),
        options={"expiresIn": "120m", "algorithm": "HS256"},
        at=None,
        check={"room_id": "abc-defg-hij", "participant_id": "p-1"},
        verdict=Verdict.VALID,
    ),
    "AI-agent payload": NodeCase(
        {"apikey": A, "permissions": JOIN}, set(), at=None, verdict=Verdict.VALID
    ),
    "example servers, allow_join + allow_mod, 10m": NodeCase(
        {"apikey": A, "permissions": ["allow_join", "allow_mod"]},
        set(),
        options={"expiresIn": "10m", "algorithm": "HS256"},
        at=None,
        verdict=Verdict.VALID,
    ),
    "expiresIn '120' on node's clock": NodeCase(
        {"apikey": A, "permissions": JOIN},
        {"very_short_lifetime", "expired"},
        options={"expiresIn": "120"},
        at=None,
        words=["'120'"],
    ),
    # -- broken in each way of the SPEC 3 table; iat pinned in the payload ----------------------
    "input_cleaned": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T},
        {"input_cleaned"},
        wrap='Bearer "{}"\n',
        verdict=Verdict.VALID,
    ),
    "not_a_jwt": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T}, {"not_a_jwt"}, cut=slice(0, -44)
    ),
    "malformed: a text payload": NodeCase("hello world", {"malformed"}, options={}),
    "truncated": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T}, {"truncated"}, cut=slice(0, -2)
    ),
    "alg_not_hs256: HS512": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T},
        {"alg_not_hs256"},
        options={"expiresIn": "1h", "algorithm": "HS512"},
    ),
    "alg_not_hs256: none": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T},
        {"alg_not_hs256"},  # SPEC 3 (changed): an unsigned token is never `truncated`
        options={"expiresIn": "1h", "algorithm": "none"},
    ),
    "alg_not_hs256: header override": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T},
        {"alg_not_hs256"},
        options={"expiresIn": "1h", "algorithm": "HS384", "header": {"typ": "JWT"}},
    ),
    # SPEC 3 (changed): the stored key whose secret verifies is named by signed_with_other_key.
    "missing_apikey": NodeCase(
        {"permissions": JOIN, "iat": T}, {"missing_apikey", "signed_with_other_key"}
    ),
    "unknown_apikey": NodeCase(
        {"apikey": "apikey-zzz", "permissions": JOIN, "iat": T},
        {"unknown_apikey"},
        secret=SECRET_STRANGER,
        verdict=Verdict.UNVERIFIED,
    ),
    "sandbox_key": NodeCase(
        {"apikey": KEY_SANDBOX.apikey, "permissions": JOIN, "iat": T},
        {"sandbox_key"},
        secret=SECRET_SANDBOX,
    ),
    "key_disabled": NodeCase(
        {"apikey": KEY_OLD.apikey, "permissions": JOIN, "iat": T},
        {"key_disabled"},
        secret=SECRET_OLD,
        verdict=Verdict.VALID,
    ),
    "missing_permissions": NodeCase({"apikey": A, "iat": T}, {"missing_permissions"}),
    "invalid_permissions": NodeCase(
        {"apikey": A, "permissions": ["allow_everything"], "iat": T}, {"invalid_permissions"}
    ),
    "conflicting_permissions": NodeCase(
        {"apikey": A, "permissions": ["ask_join", "allow_join"], "iat": T},
        {"conflicting_permissions"},
    ),
    "invalid_roles": NodeCase(
        {"apikey": A, "permissions": JOIN, "roles": ["admin"], "iat": T, **V2}, {"invalid_roles"}
    ),
    "version_required: absent": NodeCase(
        {"apikey": A, "permissions": JOIN, "roomId": "r", "iat": T}, {"version_required"}
    ),
    "version_required: the string '2'": NodeCase(
        {"apikey": A, "permissions": JOIN, "roles": ["rtc"], "version": "2", "iat": T},
        {"version_required", "invalid_claim"},
    ),
    "invalid_participant_id": NodeCase(
        {"apikey": A, "permissions": JOIN, "participantId": "jane doe", "iat": T, **V2},
        {"invalid_participant_id"},
    ),
    "invalid_claim": NodeCase(
        {"apikey": A, "permissions": JOIN, "roomId": 42, "iat": T, **V2}, {"invalid_claim"}
    ),
    "invalid_time_claim: exp null in a text payload": NodeCase(
        json.dumps({"apikey": A, "permissions": JOIN, "iat": T, "exp": None}),
        {"invalid_time_claim"},
        options={},
    ),
    "invalid_time_claim: iat a string in a text payload": NodeCase(
        json.dumps({"apikey": A, "permissions": JOIN, "iat": str(T), "exp": T + 60}),
        {"invalid_time_claim"},
        options={},
    ),
    "timestamps_in_ms": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T, "exp": (T + 3600) * 1000},
        {"timestamps_in_ms"},
        options={},
    ),
    "bad_signature": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T}, {"bad_signature"}, secret=SECRET_STRANGER
    ),
    "signed_with_other_key": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T},
        {"signed_with_other_key"},
        secret=SECRET_B,
        words=["'other'"],
    ),
    "expired": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T - 7200},
        {"expired"},
        options={"expiresIn": "1h"},
        words=["expired 1 h ago"],
    ),
    "not_yet_valid": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T},
        {"not_yet_valid"},
        options={"expiresIn": "2h", "notBefore": "1h"},
    ),
    "issued_in_future": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T + 19800},
        {"issued_in_future"},
        options={"expiresIn": "1h"},
        words=["UTC+5:30"],
    ),
    "born_expired": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T, "exp": T - 60},
        {"born_expired", "expired"},
        options={},
    ),
    "very_short_lifetime: expiresIn '120'": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T},
        {"very_short_lifetime", "expired"},
        options={"expiresIn": "120"},
    ),
    "no_expiry": NodeCase(
        {"apikey": A, "permissions": JOIN},
        {"no_expiry"},
        options={},
        at=None,
        verdict=Verdict.VALID,
    ),
    "no_expiry with noTimestamp": NodeCase(
        {"apikey": A, "permissions": JOIN},
        {"no_expiry"},
        options={"noTimestamp": True},
        verdict=Verdict.VALID,
    ),
    "noTimestamp with expiresIn": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T},
        set(),
        options={"noTimestamp": True, "expiresIn": "1h"},
        verdict=Verdict.VALID,
    ),
    "long_lifetime": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T},
        {"long_lifetime"},
        options={"expiresIn": "30d"},
        words=["from iat to exp"],
        verdict=Verdict.VALID,
    ),
    "long_lifetime without iat": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T},
        {"long_lifetime"},
        options={"expiresIn": "30 days", "noTimestamp": True},
        words=["from the moment checked"],
        verdict=Verdict.VALID,
    ),
    "room_mismatch": NodeCase(
        {**DOCS_PAYLOAD, "iat": T}, {"room_mismatch"}, check={"room_id": "zzz-zzzz-zzz"}
    ),
    "participant_mismatch": NodeCase(
        {**DOCS_PAYLOAD, "iat": T}, {"participant_mismatch"}, check={"participant_id": "p-2"}
    ),
    "crawler_cannot_join": NodeCase(
        {"apikey": A, "permissions": JOIN, "roles": ["crawler"], "iat": T, **V2},
        {"crawler_cannot_join"},
        check={"use": "join"},
    ),
    "rtc_cannot_call_api": NodeCase(
        {"apikey": A, "permissions": JOIN, "roles": ["rtc"], "iat": T, **V2},
        {"rtc_cannot_call_api"},
        check={"use": "api"},
    ),
    # -- issues 12 and 16: what real pastes hold -------------------------------------------
    "secret_variant: the secret with a newline": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T},
        {"secret_variant"},
        secret=SECRET_A + "\n",
        words=["'default'", "newline"],
        summary=["newline", ".trim()"],
    ),
    "secret_variant: base64-decoded secret": NodeCase(
        {"apikey": KEY_B64.apikey, "permissions": JOIN, "iat": T},
        {"secret_variant"},
        secret=SECRET_B64,
        secret_encoding="base64",
        keys=(*KEYS, KEY_B64),
        words=["'b64'", "base64-decoded"],
    ),
    "secret_exposed: apikey and secret swapped": NodeCase(
        {"apikey": SECRET_A, "permissions": JOIN, "iat": T},
        {"secret_exposed", "secret_variant"},
        secret=A,
        words=["apikey claim", "'default'", "API key used in place of the secret"],
        summary=["rotate"],
    ),
    "replaced_secret": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T},
        {"replaced_secret"},
        secret=SECRET_REPLACED,
        keys=(ROTATED_A, *KEYS[1:]),
        words=["'default'", "2026-11-20", "carol@example.com"],
    ),
    "option_in_payload: expiresIn in the payload": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T, "expiresIn": "2h"},
        {"option_in_payload", "no_expiry"},
        options={},
        words=["expiresIn", "third argument"],
        verdict=Verdict.VALID,
    ),
    "option_in_payload: several options": NodeCase(
        json.dumps({"apikey": A, "permissions": JOIN, "iat": T, "exp": T + 60,
                    "algorithm": "HS256", "notBefore": 0}),
        {"option_in_payload"},
        options={},
        words=["notBefore and algorithm"],
        verdict=Verdict.VALID,
    ),
    "several_tokens: the JSON of a token server": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T},
        {"several_tokens", "input_cleaned"},
        wrap='{{"token": "{0}", "refreshToken": "{0}"}}',
        words=["2 tokens"],
        verdict=Verdict.VALID,
    ),
    "very_short_lifetime: expiresIn '86400' from the environment": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T},
        {"very_short_lifetime"},
        options={"expiresIn": "86400"},
        words=["'86400'", "'24h'"],
        verdict=Verdict.VALID,
    ),
    "very_short_lifetime: expiresIn '3600', checked later": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T - 40},
        {"very_short_lifetime", "expired"},
        options={"expiresIn": "3600"},
        words=["'3600'", "'1h'", "expired 37 s ago"],
        summary=["'3600'", "'1h'"],
    ),
    "very_short_lifetime: expiresIn '7200'": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T - 40},
        {"very_short_lifetime", "expired"},
        options={"expiresIn": "7200"},
        words=["'7200'", "'2h'"],
        summary=["unit"],
    ),
    "issued_in_future: a clock a day ahead": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T + 86400},
        {"issued_in_future"},
        options={"expiresIn": "1h"},
        words=["clock is wrong"],
    ),
    "expired: short-lived token kept for hours": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T - 5 * 3600},
        {"expired"},
        options={"expiresIn": "10m"},
        summary=["when the user joins", "rather than storing"],
    ),
    "valid: the summary names the signing key": NodeCase(
        {"apikey": KEY_B.apikey, "permissions": JOIN, "iat": T},
        set(),
        secret=SECRET_B,
        summary=["stored key 'other'", "VideoSDK will accept"],
        verdict=Verdict.VALID,
    ),
    "issued_here": NodeCase(
        {"apikey": A, "permissions": JOIN, "iat": T},
        {"issued_here"},
        check={"issued": True},
        verdict=Verdict.VALID,
    ),
}


@pytest.fixture(scope="module")
def node_tokens(node_jwt: NodeJwt) -> dict[str, str]:
    """Every case's token, signed by jsonwebtoken in one node process."""
    results = node_jwt.run(
        [
            {"op": "sign", "payload": case.payload, "secret": case.secret, "options": case.options,
             **({"secretEncoding": case.secret_encoding} if case.secret_encoding else {})}
            for case in CASES.values()
        ]
    )
    tokens = {}
    for name, result in zip(CASES, results, strict=True):
        assert "token" in result, (name, result)
        tokens[name] = result["token"]
    return tokens


def test_every_code_of_the_table_has_a_node_case() -> None:
    assert set().union(*(case.codes for case in CASES.values())) == set(REASON_CODES)


def _moment(case: NodeCase, token: str) -> datetime:
    if case.at is not None:
        return case.at
    return datetime.fromtimestamp(payload_of(token)["iat"], UTC) + timedelta(seconds=1)


@pytest.mark.parametrize("name", CASES)
def test_node_signed_token_diagnoses(name: str, node_tokens: dict[str, str]) -> None:
    case = CASES[name]
    token = node_tokens[name]
    pasted = case.wrap.format(token[case.cut])
    check = dict(case.check)
    lookup = None
    if check.pop("issued", False):
        issuance = Issuance("alice@example.com", "person", NOW, "default", None)
        lookup = lambda fp: issuance if fp == fingerprint(token) else None  # noqa: E731
    diagnosis = diagnose(pasted, keys=case.keys, at=_moment(case, token), lookup=lookup, **check)
    assert set(diagnosis.codes) == case.codes, [r.message for r in diagnosis.reasons]
    assert diagnosis.verdict is case.verdict
    messages = " ".join(r.message for r in diagnosis.reasons)
    for word in case.words:
        assert word in messages
    for word in case.summary:
        assert word in diagnosis.summary, diagnosis.summary
    # Nothing shown holds a secret the case signed with or stored (SPEC 3).
    shown = json.dumps(diagnosis.as_dict()) + diagnosis.report()
    for key in case.keys:
        assert key.secret not in shown
        assert all(old.secret not in shown for old in key.replaced_secrets)


def test_node_iat_and_exp_are_read_as_node_wrote_them(node_tokens: dict[str, str]) -> None:
    token = node_tokens["docs v2 payload, 120m"]
    claims = payload_of(token)
    assert claims["exp"] - claims["iat"] == 7200
    diagnosis = diagnose(token, keys=KEYS, at=_moment(CASES["docs v2 payload, 120m"], token))
    assert diagnosis.claims == claims
    assert diagnosis.expires_at == datetime.fromtimestamp(claims["exp"], UTC)


# -- the other way: minted here, verified by node ------------------------------------------------

MINTED = {
    "plain": MintRequest(permissions=("allow_join",)),
    "docs v2": MintRequest(
        permissions=("allow_join",),
        roles=("crawler", "rtc"),
        room_id="abc-defg-hij",
        participant_id="p-1",
        expires_in="120m",
    ),
    "example servers": MintRequest(permissions=("allow_join", "allow_mod"), expires_in="10m"),
    "agent": MintRequest(permissions=("allow_join",), agent=True, expires_in="1.5h"),
    "ask_join, 7 days": MintRequest(permissions=("ask_join",), expires_in="7 days"),
    "numeric lifetime, unicode room": MintRequest(
        permissions=("allow_mod",), room_id="salle-été-✓", expires_in=90
    ),
}


@pytest.fixture(scope="module")
def node_verdicts(node_jwt: NodeJwt) -> dict[str, tuple[dict[str, object], list[dict[str, Any]]]]:
    minted = {name: mint(req, apikey=A, secret=SECRET_A, now=NOW) for name, req in MINTED.items()}
    operations = []
    for token in minted.values():
        clock = T + 1
        for secret, options in (
            (SECRET_A, {"algorithms": ["HS256"], "clockTimestamp": clock}),
            (SECRET_B, {"algorithms": ["HS256"], "clockTimestamp": clock}),
            (SECRET_A, {"algorithms": ["HS256"], "clockTimestamp": clock + 40 * 86400}),
        ):
            operations.append(
                {"op": "verify", "token": token.token, "secret": secret, "options": options}
            )
    results = node_jwt.run(operations)
    return {
        name: (token.claims, results[3 * i : 3 * i + 3])
        for i, (name, token) in enumerate(minted.items())
    }


@pytest.mark.parametrize("name", MINTED)
def test_minted_here_verifies_in_node_with_exactly_its_claims(
    name: str, node_verdicts: dict[str, tuple[dict[str, object], list[dict[str, Any]]]]
) -> None:
    claims, (right, wrong_secret, later) = node_verdicts[name]
    assert right == {"ok": True, "payload": claims}
    assert set(right["payload"]) == set(claims)
    assert (wrong_secret["ok"], wrong_secret["error"]) == (False, "JsonWebTokenError")
    assert (later["ok"], later["error"]) == (False, "TokenExpiredError")


def test_time_rules_agree_with_node_at_the_edges(node_jwt: NodeJwt) -> None:
    """exp at the moment checked is expired, nbf at it is not: both sides, second by second."""
    payload = {"apikey": A, "permissions": JOIN, "iat": T - 100, "nbf": T, "exp": T + 100}
    (signed,) = node_jwt.run([{"op": "sign", "payload": payload, "secret": SECRET_A}])
    token = signed["token"]
    clocks = [T - 1, T, T + 99, T + 100, T + 101]
    results = node_jwt.run(
        [
            {
                "op": "verify",
                "token": token,
                "secret": SECRET_A,
                "options": {"algorithms": ["HS256"], "clockTimestamp": clock},
            }
            for clock in clocks
        ]
    )
    for clock, result in zip(clocks, results, strict=True):
        moment = datetime.fromtimestamp(clock, UTC) + timedelta(milliseconds=999)
        diagnosis = diagnose(token, keys=KEYS, at=moment)
        assert result["ok"] is (diagnosis.verdict is Verdict.VALID), (clock, result)
        if not result["ok"]:
            expected = {"TokenExpiredError": "expired", "NotBeforeError": "not_yet_valid"}
            assert diagnosis.codes == (expected[result["error"]],)
