"""Defects a review found in the diagnosis engine (SPEC 3 and 3.1), each pinned by a test
that failed before its fix."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tests.tokens.factory import KEY_A, KEY_B, KEYS, NOW, SECRET_A, token
from tests.tokens.factory import T as NOW_T
from webapp.tokens import Diagnosis, KnownKey, ReplacedSecret, diagnose

V = token()
B64_SECRET = "BwgJcGFkZGVkLWJhc2U2NC1zZWNyZXQtZm9yLXRlc3Q="  # 44 characters, padded base64
B64_KEY = KnownKey("padded", "apikey-padded", B64_SECRET)
ONE_OFF = "oneoff-secret-abc123456="


def _everything(diagnosis: Diagnosis) -> str:
    """Every text a diagnosis outputs: API answer, summary, report, notes, signature line."""
    return (json.dumps(diagnosis.as_dict()) + diagnosis.summary + diagnosis.report()
            + " ".join(diagnosis.removed) + diagnosis.signature_line)


# -- 1. a secret never shows, whatever text holds it -------------------------------------------

@pytest.mark.parametrize(
    ("pasted", "secret", "hidden"),
    [
        (f"{B64_SECRET} {V}", None, B64_SECRET),
        (f"{SECRET_A}= {V}", None, SECRET_A),
        (f"{SECRET_A}={V}", None, SECRET_A),
        (f"{ONE_OFF} {V}", ONE_OFF, ONE_OFF),
        (f"{ONE_OFF}{V}", ONE_OFF, ONE_OFF),
    ],
)
def test_a_secret_before_the_token_is_never_quoted_as_a_prefix(
        pasted: str, secret: str | None, hidden: str) -> None:
    diagnosis = diagnose(pasted, keys=(*KEYS, B64_KEY), at=NOW, secret=secret)
    shown = _everything(diagnosis)
    assert hidden not in shown
    assert hidden.rstrip("=") not in shown


def test_every_message_is_masked_centrally_even_one_a_rule_wrote_with_a_secret() -> None:
    # The apikey claim holds another key's secret with a suffix: every rule that quotes the
    # apikey (unknown_apikey, signed_with_other_key's fix) goes through the same masking.
    raw = token(apikey=SECRET_A + "-x", secret=KEY_B.secret)
    diagnosis = diagnose(raw, keys=KEYS, at=NOW)
    assert SECRET_A not in _everything(diagnosis)
    assert "signed_with_other_key" in diagnosis.codes


# -- 2. the same request gives the same answer, however often it comes -------------------------

def _fresh_keys() -> tuple[KnownKey, ...]:
    """The stored keys as a request builds them: new objects, equal values."""
    return tuple(KnownKey(k.label, k.apikey, k.secret, disabled=k.disabled, sandbox=k.sandbox,
                          max_lifetime=k.max_lifetime) for k in KEYS)


def test_a_wrong_one_off_secret_gives_the_same_answer_every_time() -> None:
    answers = [diagnose(V, keys=_fresh_keys(), at=NOW,
                        secret="wrong-one-off-secret-0123456789abcdef") for _ in range(3)]
    assert [a.codes for a in answers] == [("bad_signature", )] * 3
    assert all(a.signature_line == answers[0].signature_line for a in answers)
    assert "'default'" in answers[0].reasons[0].message


def test_key_flags_name_the_signer_on_every_request() -> None:
    sandbox = next(k for k in KEYS if k.sandbox)
    raw = token(apikey=sandbox.apikey, secret=sandbox.secret)
    answers = [diagnose(raw, keys=_fresh_keys(), at=NOW) for _ in range(2)]
    assert answers[0].codes == answers[1].codes
    assert all("The token signed with" in {r.code: r for r in a.reasons}["sandbox_key"].message
               for a in answers)


# -- 3. the summary names the root cause, not the expiry it hides ------------------------------

EXPIRED = {"iat": NOW_T - 7200, "exp": NOW_T - 3600}
OLD_SECRET = "default-secret-before-the-leak-0000000000000000"
ROTATED = (replace(KEY_A, replaced_secrets=(
    ReplacedSecret(OLD_SECRET, datetime(2026, 11, 20, tzinfo=UTC), "admin@example.com"),)),
    KEY_B)


@pytest.mark.parametrize(
    ("raw", "keys", "cause"),
    [
        (token(secret=SECRET_A + "\n", **EXPIRED), KEYS, "secret_variant"),
        (token(secret=OLD_SECRET, **EXPIRED), ROTATED, "replaced_secret"),
        (token(secret=KEY_B.secret, **EXPIRED), KEYS, "signed_with_other_key"),
        (token(iat=NOW_T - 60, exp=NOW_T - 120), KEYS, "born_expired"),
        (token(secret=SECRET_A + "\n", iat=NOW_T - 60, exp=NOW_T - 120), KEYS,
         "secret_variant"),
    ],
)
def test_the_summary_of_an_expired_token_leads_with_its_root_cause(
        raw: str, keys: tuple[KnownKey, ...], cause: str) -> None:
    diagnosis = diagnose(raw, keys=keys, at=NOW)
    assert "expired" in diagnosis.codes and cause in diagnosis.codes
    reason = {r.code: r for r in diagnosis.reasons}[cause]
    assert diagnosis.summary.startswith(reason.message)
    assert reason.fix in diagnosis.summary


# -- 4. replaced_secret only for the token's own key -------------------------------------------

@pytest.mark.parametrize(
    ("apikey", "claimed"),
    [(KEY_B.apikey, "key 'other'"), ("apikey-unknown", "not stored here")],
)
def test_another_keys_old_secret_is_no_replaced_secret_but_a_wrong_pair(
        apikey: str, claimed: str) -> None:
    diagnosis = diagnose(token(apikey=apikey, secret=OLD_SECRET), keys=ROTATED, at=NOW)
    assert diagnosis.codes == ("signed_with_other_key",)
    message = diagnosis.reasons[0].message
    assert "key 'default' had until 2026-11-20" in message and claimed in message
    assert "admin@example.com" in message
    assert diagnosis.signature_status == "mismatch" and diagnosis.key_label == "default"
    assert OLD_SECRET not in _everything(diagnosis)


def test_the_token_keys_own_old_secret_is_still_replaced_secret() -> None:
    diagnosis = diagnose(token(secret=OLD_SECRET), keys=ROTATED, at=NOW)
    assert diagnosis.codes == ("replaced_secret",)


# -- 5. every secret a value holds is found ----------------------------------------------------

@pytest.mark.parametrize(
    "note",
    [f"{OLD_SECRET} {KEY_B.secret}", f"{KEY_B.secret}|{OLD_SECRET}", f"{OLD_SECRET}{KEY_B.secret}"],
)
def test_a_current_secret_beside_a_replaced_one_is_exposed(note: str) -> None:
    diagnosis = diagnose(token(note=note), keys=ROTATED, at=NOW)
    assert "secret_exposed" in diagnosis.codes
    exposed = {r.code: r for r in diagnosis.reasons}["secret_exposed"]
    assert "'other'" in exposed.message and "note claim" in exposed.message
    assert diagnosis.claims is not None and diagnosis.claims["note"] == "[secret of key 'other']"
    assert OLD_SECRET not in _everything(diagnosis) and KEY_B.secret not in _everything(diagnosis)


def test_a_pasted_text_with_an_old_and_a_current_secret_exposes_the_current_one() -> None:
    diagnosis = diagnose(f"{OLD_SECRET} {KEY_B.secret}", keys=ROTATED, at=NOW)
    assert "secret_exposed" in diagnosis.codes


# -- 6. text beside a token is not glued onto it -----------------------------------------------

@pytest.mark.parametrize(
    "pasted",
    [f"{V} hello", f"hello {V}", f"{V}\n{SECRET_A}", f"{V} {KEY_A.apikey}",
     f"the customer sent {V} yesterday, please check", f"{V}\n\n-- \nsent from my phone"],
)
def test_words_beside_a_whole_token_are_text_around_it(pasted: str) -> None:
    diagnosis = diagnose(pasted, keys=KEYS, at=NOW)
    assert diagnosis.cleaned == V
    assert "text around the token" in " ".join(diagnosis.removed)
    assert set(diagnosis.codes) <= {"input_cleaned", "secret_exposed"}


def test_a_cut_token_followed_by_words_is_truncated() -> None:
    diagnosis = diagnose(f"token: {V[:-5]}... more", keys=KEYS, at=NOW)
    assert diagnosis.codes == ("truncated", "input_cleaned")


@pytest.mark.parametrize("ellipsis", ["\u2026", "..."])
def test_an_ellipsis_inside_a_paste_is_not_read_as_its_end(ellipsis: str) -> None:
    diagnosis = diagnose(V[:40] + ellipsis + V[60:], keys=KEYS, at=NOW)
    assert "ends in an ellipsis" not in _everything(diagnosis)
    assert "the ellipsis at the end" not in diagnosis.removed


def test_a_token_broken_by_line_breaks_is_still_joined() -> None:
    broken = "\n".join(V[i:i + 30] for i in range(0, len(V), 30))
    diagnosis = diagnose(broken, keys=KEYS, at=NOW)
    assert diagnosis.cleaned == V and diagnosis.codes == ("input_cleaned",)


# -- 7. no fingerprint of a pasted secret ------------------------------------------------------

@pytest.mark.parametrize(
    ("pasted", "secret"),
    [(SECRET_A, None), (f"  {KEY_B.secret}\n", None), (f"my secret is {SECRET_A}", None),
     (ONE_OFF, ONE_OFF)],
)
def test_a_paste_holding_a_secret_has_no_fingerprint(pasted: str, secret: str | None) -> None:
    diagnosis = diagnose(pasted, keys=KEYS, at=NOW, secret=secret)
    assert "secret_exposed" in diagnosis.codes
    assert diagnosis.fingerprint is None
    assert "fingerprint" not in diagnosis.report()
    assert hashlib.sha256(pasted.strip().encode()).hexdigest() not in _everything(diagnosis)


def test_a_paste_that_is_not_a_token_and_holds_no_secret_keeps_its_fingerprint() -> None:
    assert diagnose("hello", keys=KEYS, at=NOW).fingerprint == hashlib.sha256(
        b"hello").hexdigest()
    assert diagnose(V, keys=KEYS, at=NOW).fingerprint == hashlib.sha256(V.encode()).hexdigest()


# -- 8. wording --------------------------------------------------------------------------------

def test_a_missing_apikey_signed_by_a_stored_key_never_says_apikey_null() -> None:
    from tests.tokens.factory import DROP

    diagnosis = diagnose(token(apikey=DROP, secret=KEY_B.secret), keys=KEYS, at=NOW)
    reason = {r.code: r for r in diagnosis.reasons}["signed_with_other_key"]
    assert "null" not in reason.message + reason.fix
    assert "apikey 'apikey-b'" in reason.fix


@pytest.mark.parametrize(("pasted", "secret"), [(SECRET_A, None), (ONE_OFF, ONE_OFF)])
def test_a_bare_secret_is_no_token_in_its_words(pasted: str, secret: str | None) -> None:
    diagnosis = diagnose(pasted, keys=KEYS, at=NOW, secret=secret)
    words = _everything(diagnosis)
    assert "The token also exposes" not in words
    assert "secret of the one-off secret" not in words
    assert "The paste also holds a secret" in diagnosis.summary


def test_the_one_off_secret_pasted_is_named_plainly() -> None:
    diagnosis = diagnose(ONE_OFF, keys=KEYS, at=NOW, secret=ONE_OFF)
    assert "It is the one-off secret given" in diagnosis.reasons[0].message


def test_the_signature_line_of_a_variant_has_no_doubled_quote() -> None:
    diagnosis = diagnose(token(secret=SECRET_A + "\n"), keys=KEYS, at=NOW)
    assert "''" not in diagnosis.signature_line
    assert diagnosis.signature_line.startswith("made with the secret followed by a newline")
    assert "of key 'default'" in diagnosis.signature_line


def test_a_key_not_stored_here_is_not_called_stored() -> None:
    environment = KnownKey("environment", "env-apikey", SECRET_A, stored=False)
    diagnosis = diagnose(token(apikey="env-apikey"), keys=(environment,), at=NOW)
    assert diagnosis.summary.startswith("VideoSDK will accept this token")
    assert "stored key" not in diagnosis.summary and "(environment)" not in diagnosis.summary
    assert "VIDEOSDK_API_KEY" in diagnosis.summary


def test_a_paste_with_an_ellipsis_inside_is_read_as_it_is() -> None:
    diagnosis = diagnose(V[:40] + "\u2026" + V[60:], keys=KEYS, at=NOW)
    assert diagnosis.removed == ()
    assert "malformed" in diagnosis.codes and "not_a_jwt" not in diagnosis.codes
