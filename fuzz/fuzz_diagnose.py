"""Fuzz diagnose(): it must never raise and always give JSON-safe, UTF-8-safe output.

    .venv/bin/python fuzz/fuzz_diagnose.py -max_total_time=20

The input is read four ways: as a raw paste, as JSON header and payload bytes that get
encoded and signed with a stored secret (so the claim and time checks are reached), as a
valid token with bytes spliced in, and as a token in the wrappings of SPEC 3.1 (a URL, JSON,
a bytes literal, invisible characters, an ellipsis, several tokens) with fuzzed text around.
No output may hold a stored or one-off secret (SPEC 3).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports():
    from webapp.tokens import REASON_CODES, KnownKey, Severity, Verdict, diagnose

# A made-up secret for signing fuzz inputs so that they reach the claim and time checks.
SECRET = hashlib.sha256(b"fuzz secret").hexdigest()
KEYS = (
    KnownKey("default", "apikey-a", SECRET, max_lifetime=86400),
    KnownKey("other", "apikey-b", "b" * 64),
    KnownKey("sandbox", "apikey-s", "s" * 64, sandbox=True),
    KnownKey("old", "apikey-o", "o" * 64, disabled=True),
)
NOW = datetime(2026, 11, 27, 21, 0, tzinfo=UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(header: bytes, payload: bytes) -> str:
    signing_input = f"{_b64(header)}.{_b64(payload)}"
    mac = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


VALID = _signed(
    b'{"alg":"HS256","typ":"JWT"}',
    json.dumps(
        {
            "apikey": "apikey-a",
            "permissions": ["allow_join"],
            "iat": int(NOW.timestamp()),
            "exp": int(NOW.timestamp()) + 3600,
        }
    ).encode(),
)


WRAPPINGS = (
    "{}", "Bearer {}", "JWT {}", "token={}", "https://app.example/join?room=x&token={}",
    "https://app.example/#/join?jwt={}", '{{"token": "{}"}}', '{{"a": [{{"b": "Bearer {}"}}]}}',
    '"{}"', "b'{}'", "b'{}", "{}\u2026", "{}...", "\ufeff{}\u200b", "{}{}", "{} {}",
    "{}.{}", "log: {} (end)",
)
SECRETS = tuple(key.secret for key in KEYS) + ("x",)


def _wrapped(fdp: atheris.FuzzedDataProvider) -> str:
    inner = VALID
    if fdp.ConsumeBool():
        where = fdp.ConsumeIntInRange(0, len(VALID))
        inner = VALID[:where] + fdp.ConsumeUnicode(4) + VALID[where:]
    if fdp.ConsumeBool():  # a stored secret in a claim or the header
        inner = _signed(b'{"alg":"HS256","kid":"' + SECRET.encode() + b'"}',
                        json.dumps({"apikey": fdp.PickValueInList([SECRET, "apikey-a"]),
                                    "permissions": ["allow_join"]}).encode())
    raw = inner
    for _ in range(fdp.ConsumeIntInRange(1, 3)):
        raw = fdp.PickValueInList(list(WRAPPINGS)).replace("{}", raw)
    return fdp.ConsumeUnicode(8) + raw + fdp.ConsumeUnicode(8)


def _check(raw: str, fdp: atheris.FuzzedDataProvider) -> None:
    use = fdp.PickValueInList([None, "join", "api"])
    room = fdp.PickValueInList([None, "", "r1", "abc-defg-hij"])
    at = NOW + timedelta(seconds=fdp.ConsumeIntInRange(-(10**9), 10**9))
    secret = fdp.PickValueInList([None, SECRET, "x"])
    diagnosis = diagnose(
        raw, keys=KEYS, at=at, use=use, room_id=room, participant_id=room, secret=secret
    )
    json.dumps(diagnosis.as_dict(), allow_nan=False).encode("utf-8")
    diagnosis.report().encode("utf-8")
    errors = any(r.severity is Severity.ERROR for r in diagnosis.reasons)
    if errors != (diagnosis.verdict is Verdict.INVALID):
        raise AssertionError(f"verdict {diagnosis.verdict} with reasons {diagnosis.codes}")
    for reason in diagnosis.reasons:
        if (reason.severity, reason.videosdk_code) != REASON_CODES[reason.code]:
            raise AssertionError(f"{reason.code} does not follow the table")
    if len(set(diagnosis.codes)) != len(diagnosis.codes):
        raise AssertionError(f"a code twice: {diagnosis.codes}")
    alone = {"not_a_jwt", "input_cleaned", "secret_exposed", "truncated"}
    if "not_a_jwt" in diagnosis.codes and set(diagnosis.codes) - alone:
        raise AssertionError(f"not_a_jwt with {diagnosis.codes}")
    shown = json.dumps(diagnosis.as_dict()) + diagnosis.report() + diagnosis.summary
    if any(len(s) > 8 and s in shown for s in SECRETS):
        raise AssertionError("a secret is shown")


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    mode = fdp.ConsumeIntInRange(0, 3)
    if mode == 0:
        raw = fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 4096))
    elif mode == 1:
        header = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 200))
        if fdp.ConsumeBool():
            header = b'{"alg":"HS256","typ":"JWT"}'
        payload = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 2000))
        raw = _signed(header, payload)
    elif mode == 3:
        raw = _wrapped(fdp)
    else:
        where = fdp.ConsumeIntInRange(0, len(VALID))
        raw = VALID[:where] + fdp.ConsumeUnicode(8) + VALID[where + fdp.ConsumeIntInRange(0, 3) :]
    _check(raw, fdp)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
