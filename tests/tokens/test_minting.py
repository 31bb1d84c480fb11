"""Minting: exactly the claims asked for, VideoSDK's rules first, then policy, never trimming."""

from __future__ import annotations

import json
from datetime import timedelta

import jwt  # to prove PyJWT verifies every token minted here
import pytest

from tests.tokens.factory import NOW, SECRET_A, T, b64, hs
from webapp.tokens import (
    MintedToken,
    MintError,
    MintRequest,
    Policy,
    PolicyViolation,
    diagnose,
    fingerprint,
    mint,
)

OPEN = Policy(
    max_lifetime=86400,
    permissions=frozenset({"allow_join", "ask_join", "allow_mod"}),
    roles=frozenset({"crawler", "rtc"}),
)


def _mint(request: MintRequest, **kwargs: object) -> MintedToken:
    options: dict[str, object] = {"apikey": "apikey-a", "secret": SECRET_A, "now": NOW, **kwargs}
    return mint(request, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (
            MintRequest(permissions=("allow_join",)),
            {"apikey": "apikey-a", "permissions": ["allow_join"], "iat": T, "exp": T + 3600},
        ),
        (
            MintRequest(permissions=("allow_mod", "allow_join"), expires_in="10m"),
            {
                "apikey": "apikey-a",
                "permissions": ["allow_mod", "allow_join"],
                "iat": T,
                "exp": T + 600,
            },
        ),
        (
            MintRequest(
                permissions=("allow_join",),
                roles=("crawler", "rtc"),
                room_id="abc-defg-hij",
                participant_id="p-1",
                expires_in="120m",
            ),
            {
                "apikey": "apikey-a",
                "permissions": ["allow_join"],
                "version": 2,
                "roomId": "abc-defg-hij",
                "participantId": "p-1",
                "roles": ["crawler", "rtc"],
                "iat": T,
                "exp": T + 7200,
            },
        ),
        (
            MintRequest(permissions=("ask_join",), participant_id="p", expires_in=90),
            {
                "apikey": "apikey-a",
                "permissions": ["ask_join"],
                "version": 2,
                "participantId": "p",
                "iat": T,
                "exp": T + 90,
            },
        ),
        (
            MintRequest(permissions=("allow_join",), roles=("rtc",)),
            {
                "apikey": "apikey-a",
                "permissions": ["allow_join"],
                "version": 2,
                "roles": ["rtc"],
                "iat": T,
                "exp": T + 3600,
            },
        ),
        (
            MintRequest(permissions=("allow_join", "allow_mod"), agent=True, expires_in="1d"),
            {
                "apikey": "apikey-a",
                "permissions": ["allow_join", "allow_mod"],
                "iat": T,
                "exp": T + 86400,
            },
        ),
    ],
)
def test_exactly_the_claims_asked_for(request_: MintRequest, expected: dict[str, object]) -> None:
    minted = _mint(request_, policies=[OPEN])
    assert minted.claims == expected
    token: str = minted.token
    header, payload, signature = token.split(".")
    assert header == b64(b'{"alg":"HS256","typ":"JWT"}')
    assert json.loads(jwt.utils.base64url_decode(payload)) == expected
    assert signature == hs(f"{header}.{payload}", SECRET_A)
    decoded = jwt.decode(
        token, SECRET_A, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False}
    )
    assert decoded == expected


def test_times_follow_jsonwebtoken() -> None:
    """iat = floor(now); exp = floor(iat + lifetime), as Math.floor(iat + ms / 1000)."""
    now = NOW + timedelta(seconds=0.999)
    minted = mint(
        MintRequest(permissions=("allow_join",), expires_in="1.5s"),
        apikey="apikey-a",
        secret=SECRET_A,
        now=now,
    )
    assert (minted.claims["iat"], minted.claims["exp"]) == (T, T + 1)
    assert minted.expires_in == 1
    assert (minted.issued_at, minted.expires_at) == (NOW, NOW + timedelta(seconds=1))
    assert minted.fingerprint == fingerprint(minted.token)


def test_as_dict_is_the_api_201_shape() -> None:
    minted = mint(
        MintRequest(permissions=("allow_join",), expires_in="10m"),
        apikey="apikey-a",
        secret=SECRET_A,
        now=NOW,
    )
    assert minted.as_dict() == {
        "token": minted.token,
        "apikey": "apikey-a",
        "claims": {"apikey": "apikey-a", "permissions": ["allow_join"], "iat": T, "exp": T + 600},
        "issuedAt": "2026-11-27T21:00:00Z",
        "expiresAt": "2026-11-27T21:10:00Z",
        "expiresIn": 600,
    }


def test_minted_tokens_diagnose_valid() -> None:
    minted = mint(
        MintRequest(permissions=("allow_join",), roles=("rtc",), room_id="r"),
        apikey="apikey-a",
        secret=SECRET_A,
        now=NOW,
    )
    diagnosis = diagnose(minted.token, at=NOW, secret=SECRET_A, room_id="r", use="join")
    assert (diagnosis.verdict.value, diagnosis.codes) == ("valid", ())


@pytest.mark.parametrize(
    ("request_", "errors"),
    [
        (MintRequest(permissions=()), {"permissions": ["at least one permission"]}),
        (MintRequest(permissions=("admin",)), {"permissions": ["'admin'", "4008"]}),
        (
            MintRequest(permissions=("ask_join", "allow_join", "allow_mod")),
            {"permissions": ["ask_join cannot be combined with allow_join or allow_mod"]},
        ),
        (MintRequest(permissions="allow_join"), {"permissions": ["list"]}),  # type: ignore[arg-type]
        (MintRequest(permissions=("allow_join",), roles=("boss",)), {"roles": ["'boss'", "4024"]}),
        (MintRequest(permissions=("allow_join",), roles=()), {"roles": ["empty"]}),
        # Refused, not dropped: the token carries exactly what was asked for.
        (
            MintRequest(permissions=("allow_mod", "allow_join", "allow_mod")),
            {"permissions": ["permissions lists 'allow_mod' more than once: give each value "
                             "once."]},
        ),
        (
            MintRequest(permissions=("allow_join",), roles=("rtc", "crawler", "rtc", "crawler")),
            {"roles": ["roles lists 'rtc', 'crawler' more than once: give each value once."]},
        ),
        (
            MintRequest(permissions=("boss", "boss")),
            {"permissions": ["lists 'boss' more than once", "Unknown permission 'boss':"]},
        ),
        (MintRequest(permissions=("allow_join",), room_id=""), {"roomId": ["empty"]}),
        (MintRequest(permissions=("allow_join",), participant_id=""), {"participantId": ["empty"]}),
        (
            MintRequest(permissions=("allow_join",), participant_id="jane doe"),
            {"participantId": ["whitespace", "4004"]},
        ),
        (MintRequest(permissions=("allow_join",), room_id=5), {"roomId": ["text"]}),  # type: ignore[arg-type]
        (
            MintRequest(permissions=("allow_join",), room_id="a\x00b"),
            {"roomId": ["roomId holds the control character U+0000: no VideoSDK id does."]},
        ),
        (
            MintRequest(permissions=("allow_join",), room_id="a\nb"),
            {"roomId": ["control character U+000A"]},
        ),
        (
            MintRequest(permissions=("allow_join",), participant_id="p\x7f"),
            {"participantId": ["control character U+007F"]},
        ),
        (
            MintRequest(permissions=("allow_join",), room_id="abc\u202edef"),
            {"roomId": ["roomId holds the invisible format character U+202E (RIGHT-TO-LEFT "
                        "OVERRIDE), which makes it display as something it is not: remove it."]},
        ),
        (
            MintRequest(permissions=("allow_join",), participant_id="jane\u200b"),
            {"participantId": ["U+200B (ZERO WIDTH SPACE)"]},
        ),
        (
            MintRequest(permissions=("allow_join",), room_id="\ufeffroom"),
            {"roomId": ["U+FEFF (ZERO WIDTH NO-BREAK SPACE)"]},
        ),
        (
            MintRequest(permissions=("allow_join",), participant_id="\u2066p\u2069"),
            {"participantId": ["U+2066 (LEFT-TO-RIGHT ISOLATE)"]},
        ),
        (
            MintRequest(permissions=("allow_join",), room_id="r" * 256),
            {"roomId": ["roomId is 256 characters long; this service keeps ids of at most 255."]},
        ),
        (
            MintRequest(permissions=("allow_join",), participant_id="p" * 300),
            {"participantId": ["300 characters long"]},
        ),
        (
            MintRequest(permissions=("allow_join",), expires_in="120"),
            {"expiresIn": ["120 milliseconds"]},
        ),
        (MintRequest(permissions=("allow_join",), expires_in="500ms"), {"expiresIn": ["second"]}),
        (MintRequest(permissions=("allow_join",), expires_in=10**12), {"expiresIn": ["longer"]}),
        (
            MintRequest(permissions=("allow_join",), agent=True, room_id="r", roles=("rtc",)),
            {"roomId": ["AI-agent"], "roles": ["AI-agent"]},
        ),
    ],
)
def test_videosdk_rules(request_: MintRequest, errors: dict[str, list[str]]) -> None:
    with pytest.raises(MintError) as caught:
        _mint(request_)
    assert type(caught.value) is MintError
    assert set(caught.value.errors) == set(errors)
    for field, words in errors.items():
        said = " ".join(caught.value.errors[field])
        for word in words:
            assert word in said


def test_all_errors_at_once() -> None:
    request = MintRequest(
        permissions=("nope",), roles=("x",), participant_id="a b", expires_in="120"
    )
    with pytest.raises(MintError) as caught:
        _mint(request, apikey="")
    assert set(caught.value.errors) == {
        "apikey",
        "permissions",
        "roles",
        "participantId",
        "expiresIn",
    }


def test_rules_before_policy() -> None:
    strict = Policy(max_lifetime=600, permissions=frozenset(), roles=frozenset())
    with pytest.raises(MintError) as caught:
        _mint(MintRequest(permissions=("bad",)), policies=[strict])
    assert not isinstance(caught.value, PolicyViolation)


@pytest.mark.parametrize(
    ("request_", "errors"),
    [
        (MintRequest(permissions=("allow_join",), expires_in="2d"), {"expiresIn": ["1d"]}),
        (MintRequest(permissions=("allow_join", "allow_mod")), {"permissions": ["allow_mod"]}),
        (MintRequest(permissions=("allow_join",), roles=("crawler",)), {"roles": ["crawler"]}),
        (
            MintRequest(permissions=("allow_mod",), roles=("crawler",), expires_in="25h"),
            {"permissions": ["allow_mod"], "roles": ["crawler"], "expiresIn": ["25h", "1d"]},
        ),
    ],
)
def test_policy_refuses_never_trims(request_: MintRequest, errors: dict[str, list[str]]) -> None:
    key_policy = Policy(
        max_lifetime=86400, permissions=frozenset({"allow_join"}), roles=frozenset({"rtc"})
    )
    with pytest.raises(PolicyViolation) as caught:
        _mint(request_, policies=[key_policy, OPEN])
    assert set(caught.value.errors) == set(errors)
    for field, words in errors.items():
        for word in words:
            assert word in " ".join(caught.value.errors[field])


def test_every_policy_must_allow() -> None:
    client = Policy(max_lifetime=600, permissions=OPEN.permissions, roles=OPEN.roles)
    with pytest.raises(PolicyViolation, match="10m"):
        _mint(MintRequest(permissions=("allow_join",), expires_in="1h"), policies=[OPEN, client])
    minted = _mint(
        MintRequest(permissions=("allow_join",), expires_in="10m"), policies=[OPEN, client]
    )
    assert minted.expires_in == 600


def test_default_now_is_the_call_time() -> None:
    minted = mint(MintRequest(permissions=("allow_join",)), apikey="k", secret=SECRET_A)
    assert minted.issued_at > NOW - timedelta(days=3650)
    assert minted.issued_at.tzinfo is not None


def test_a_secret_is_required() -> None:
    with pytest.raises(ValueError, match="secret"):
        mint(MintRequest(permissions=("allow_join",)), apikey="k", secret="")
