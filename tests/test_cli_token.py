"""`flask token create` and `flask token inspect` (SPEC 6)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import base_config, drop_everything
from tests.support import trail_lines
from webapp import create_app
from webapp.extensions import db
from webapp.models import AuditEvent, IssuedToken
from webapp.services import videosdk_keys
from webapp.tokens import MintRequest, mint

SECRET = "s3cr3t-" + "a" * 57
OTHER_SECRET = "0th3r-" + "b" * 58


def claims_of(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.fixture
def stored_key(app):
    with app.app_context():
        videosdk_keys.add_key("team", "team-api-key", SECRET, max_lifetime="24h")
        db.session.commit()
    return "team"


@pytest.fixture
def no_database(app):
    """The app's database has no tables, as before `flask setup`."""
    with app.app_context():
        drop_everything()
    app.config["VIDEOSDK_API_KEY"] = "env-api-key"
    app.config["VIDEOSDK_SECRET_KEY"] = SECRET
    return app


class TestCreate:
    def test_without_a_database_it_signs_with_the_environment_pair(self, no_database, runner):
        result = runner.invoke(args=["token", "create"])
        assert result.exit_code == 0, result.output
        token = result.stdout.strip()
        assert result.stdout == token + "\n"
        claims = claims_of(token)
        assert set(claims) == {"apikey", "permissions", "iat", "exp"}
        assert claims["apikey"] == "env-api-key"
        assert claims["permissions"] == ["allow_join"]
        assert claims["exp"] - claims["iat"] == 3600

    def test_without_a_database_or_a_pair_it_says_what_is_missing(self, app, runner):
        with app.app_context():
            drop_everything()
        result = runner.invoke(args=["token", "create"])
        assert result.exit_code == 1
        assert "VIDEOSDK_API_KEY" in result.stderr

    def test_options_become_exactly_those_claims(self, app, runner, stored_key):
        result = runner.invoke(args=[
            "token", "create", "--key", "team", "--permission", "allow_join",
            "--permission", "allow_mod", "--role", "rtc", "--room", "abcd-efgh-ijkl",
            "--participant", "alice", "--expires-in", "120m"])
        assert result.exit_code == 0, result.output
        claims = claims_of(result.stdout.strip())
        assert {k: v for k, v in claims.items() if k not in ("iat", "exp")} == {
            "apikey": "team-api-key", "permissions": ["allow_join", "allow_mod"],
            "roles": ["rtc"], "roomId": "abcd-efgh-ijkl", "participantId": "alice",
            "version": 2}
        assert claims["exp"] - claims["iat"] == 7200
        with app.app_context():
            row = db.session.execute(select(IssuedToken)).scalar_one()
            assert (row.key_label, row.issuer, row.room_id) == ("team", "cli", "abcd-efgh-ijkl")
            (event,) = trail_lines("token.minted")
            assert (event.actor, event.actor_kind, event.outcome) == ("cli", "cli", "success")
            assert event.details["via"] == "cli"
            assert result.stdout.strip() not in json.dumps(event.details)

    def test_agent_form_carries_only_apikey_and_permissions(self, runner, stored_key):
        result = runner.invoke(args=["token", "create", "--agent"])
        assert result.exit_code == 0, result.output
        assert set(claims_of(result.stdout.strip())) == {"apikey", "permissions", "iat", "exp"}

    def test_json_prints_the_api_answer(self, runner, stored_key):
        result = runner.invoke(args=["token", "create", "--json", "--expires-in", "10m"])
        assert result.exit_code == 0, result.output
        answer = json.loads(result.stdout)
        assert set(answer) == {"token", "apikey", "claims", "issuedAt", "expiresAt", "expiresIn"}
        assert answer["expiresIn"] == 600
        assert answer["expiresAt"].endswith("Z")
        assert claims_of(answer["token"]) == answer["claims"]

    def test_a_policy_refusal_exits_1_with_the_reason(self, app, runner, stored_key):
        result = runner.invoke(args=["token", "create", "--expires-in", "48h"])
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr.startswith("refused: expiresIn:")
        with app.app_context():
            assert db.session.execute(select(IssuedToken)).first() is None
            event = db.session.execute(
                select(AuditEvent).where(AuditEvent.outcome == "refused")).scalar_one()
            assert event.action == "token.minted"

    def test_a_unitless_lifetime_is_refused_as_milliseconds(self, runner, stored_key):
        result = runner.invoke(args=["token", "create", "--expires-in", "120"])
        assert result.exit_code == 1
        assert "milliseconds" in result.stderr

    def test_several_keys_need_a_choice(self, app, runner, stored_key):
        with app.app_context():
            videosdk_keys.add_key("second", "second-api-key", OTHER_SECRET)
            db.session.commit()
        result = runner.invoke(args=["token", "create"])
        assert result.exit_code == 1
        assert "choose one with --key" in result.stderr

    def test_an_unknown_label_is_named(self, runner, stored_key):
        result = runner.invoke(args=["token", "create", "--key", "nope"])
        assert result.exit_code == 1
        assert "No key is labelled 'nope'" in result.stderr


class TestInspect:
    @pytest.fixture
    def token(self, app, stored_key):
        issued = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        minted = mint(MintRequest(permissions=("allow_join",), room_id="room-1",
                                  expires_in="2h"),
                      apikey="team-api-key", secret=SECRET, now=issued)
        return minted.token, issued

    def test_valid_exits_0_and_starts_with_the_verdict(self, runner, token):
        value, issued = token
        at = (issued + timedelta(minutes=5)).isoformat()
        result = runner.invoke(args=["token", "inspect", value, "--at", at])
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[0] == "verdict: valid"
        assert value not in result.stdout

    def test_reads_stdin_and_reports_invalid_with_exit_1(self, runner, token):
        value, issued = token
        at = (issued + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S")
        result = runner.invoke(args=["token", "inspect", "-", "--at", at],
                               input=f'Bearer "{value}"\n')
        assert result.exit_code == 1, result.output
        assert result.stdout.splitlines()[0] == "verdict: invalid"
        assert "- expired (error, VideoSDK 4002)" in result.stdout
        assert "input_cleaned" in result.stdout

    def test_room_and_use_are_checked(self, runner, token):
        value, issued = token
        result = runner.invoke(args=["token", "inspect", value, "--room", "room-2",
                                     "--at", (issued + timedelta(minutes=1)).isoformat()])
        assert result.exit_code == 1
        assert "room_mismatch" in result.stdout

    def test_unknown_key_is_unverified_with_exit_3(self, runner, stored_key):
        stranger = mint(MintRequest(permissions=("allow_join",)), apikey="stranger",
                        secret=OTHER_SECRET, now=datetime(2026, 1, 5, tzinfo=UTC)).token
        result = runner.invoke(args=["token", "inspect", stranger,
                                     "--at", "2026-01-05T00:10:00Z"])
        assert result.exit_code == 3, result.output
        assert result.stdout.splitlines()[0] == "verdict: unverified"

    def test_secret_file_verifies_a_token_of_an_unknown_key(self, runner, stored_key, tmp_path):
        stranger = mint(MintRequest(permissions=("allow_join",)), apikey="stranger",
                        secret=OTHER_SECRET, now=datetime(2026, 1, 5, tzinfo=UTC)).token
        secret_file = tmp_path / "secret.txt"
        secret_file.write_text(OTHER_SECRET + "\n")
        result = runner.invoke(args=["token", "inspect", stranger, "--secret-file",
                                     str(secret_file), "--at", "2026-01-05T00:10:00Z"])
        assert result.exit_code == 0, result.output
        assert OTHER_SECRET not in result.stdout

    def test_a_secret_file_that_is_not_text_is_a_usage_error(self, runner, token, tmp_path):
        secret_file = tmp_path / "secret.bin"
        secret_file.write_bytes(b"\xff\xfe" + OTHER_SECRET.encode())
        result = runner.invoke(args=["token", "inspect", token[0], "--secret-file",
                                     str(secret_file)])
        assert result.exit_code == 2
        assert f"Invalid value for '--secret-file': {secret_file} is not UTF-8 text" \
            in result.output
        assert OTHER_SECRET not in result.output

    def test_bytes_on_stdin_that_are_not_text_still_get_a_diagnosis(self, runner, stored_key):
        result = runner.invoke(args=["token", "inspect"], input=b"eyJ\xff.\xfe\n")
        assert result.exit_code == 1, result.output
        assert result.stdout.splitlines()[0] == "verdict: invalid"

    def test_json_prints_the_api_answer(self, runner, token):
        value, issued = token
        result = runner.invoke(args=["token", "inspect", value, "--json",
                                     "--at", (issued + timedelta(minutes=5)).isoformat()])
        assert result.exit_code == 0
        answer = json.loads(result.stdout)
        assert answer["verdict"] == "valid"
        assert answer["signature"] == {"status": "verified", "keyLabel": "team"}

    def test_a_bad_time_is_a_usage_error(self, runner, token):
        result = runner.invoke(args=["token", "inspect", token[0], "--at", "yesterday"])
        assert result.exit_code == 2
        assert "ISO 8601" in result.output

    def test_garbage_is_invalid_not_a_crash(self, runner, stored_key):
        result = runner.invoke(args=["token", "inspect", "not a token at all"])
        assert result.exit_code == 1
        assert "not_a_jwt" in result.stdout

    def test_without_a_database_it_checks_the_environment_pair(self, no_database, runner):
        minted = mint(MintRequest(permissions=("allow_join",)), apikey="env-api-key",
                      secret=SECRET, now=datetime(2026, 1, 5, tzinfo=UTC)).token
        result = runner.invoke(args=["token", "inspect", minted, "--at", "2026-01-05T00:01:00Z"])
        assert result.exit_code == 0, result.output
        assert "the key of the environment (VIDEOSDK_API_KEY" in result.output
        assert "(environment)" not in result.output and "stored key" not in result.output


def test_without_a_database_file_none_is_left_behind(tmp_path):
    database = tmp_path / "never-set-up.db"
    app = create_app({**base_config(tmp_path, f"sqlite:///{database}"),
                      "VIDEOSDK_API_KEY": "env-api-key", "VIDEOSDK_SECRET_KEY": SECRET})
    runner = app.test_cli_runner()
    created = runner.invoke(args=["token", "create"])
    assert created.exit_code == 0, created.output
    inspected = runner.invoke(args=["token", "inspect", created.stdout.strip()])
    assert inspected.exit_code == 0, inspected.output
    assert not database.exists()


@pytest.mark.parametrize(("option", "value", "field"), [
    ("--room", "abc\u202edef", "roomId"), ("--participant", "jane\u200b", "participantId")])
def test_token_create_refuses_invisible_format_characters(app, runner, stored_key, option, value,
                                                          field):
    result = runner.invoke(args=["token", "create", option, value])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{field} holds the invisible format character U+" in result.stderr
    with app.app_context():
        assert db.session.execute(select(IssuedToken)).first() is None


def test_token_inspect_prints_no_escape_sequence_a_pasted_token_carries(runner, stored_key):
    """A token is anyone's text: its claims reach the terminal with control characters
    escaped (ESC would clear the screen or recolour it)."""
    from tests.tokens.factory import token as forged

    value = forged(roomId="\x1b[2J\x1b[31mroom", version=2, participantId="p\u202eq")
    result = runner.invoke(args=["token", "inspect", value, "--room", "other\x07"])
    assert result.exit_code in (1, 3), result.output
    for raw in ("\x1b", "\u202e", "\x07"):
        assert raw not in result.stdout
    assert "p\\u202eq" in result.stdout

# -- SPEC 3.1 (issue 12.4): a secret read from the environment or a file loses surrounding
# whitespace, and the command says so.

@pytest.mark.parametrize("padding", ["\n", "\r\n", "  ", "\t\n"])
def test_create_without_a_database_trims_the_environment_secret(no_database, runner, padding):
    from webapp.tokens import signature_matches

    no_database.config["VIDEOSDK_SECRET_KEY"] = SECRET + padding
    result = runner.invoke(args=["token", "create"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert signature_matches(token, SECRET)
    assert not signature_matches(token, SECRET + padding)
    assert "note: VIDEOSDK_SECRET_KEY: whitespace around the secret" in result.stderr
    assert SECRET not in result.stderr


def test_create_with_a_clean_environment_secret_says_nothing(no_database, runner):
    result = runner.invoke(args=["token", "create"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_inspect_without_a_database_uses_the_trimmed_environment_secret(no_database, runner):
    no_database.config["VIDEOSDK_SECRET_KEY"] = " " + SECRET + "\n"
    minted = mint(MintRequest(permissions=("allow_join",)), apikey="env-api-key",
                  secret=SECRET, now=datetime(2026, 1, 5, tzinfo=UTC)).token
    result = runner.invoke(args=["token", "inspect", minted, "--at", "2026-01-05T00:01:00Z"])
    assert result.exit_code == 0, result.output
    assert "whitespace around the secret" in result.stderr


def test_a_secret_file_with_a_newline_is_trimmed_and_said(runner, stored_key, tmp_path):
    stranger = mint(MintRequest(permissions=("allow_join",)), apikey="stranger",
                    secret=OTHER_SECRET, now=datetime(2026, 1, 5, tzinfo=UTC)).token
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("  " + OTHER_SECRET + "\n\n")
    result = runner.invoke(args=["token", "inspect", stranger, "--secret-file",
                                 str(secret_file), "--at", "2026-01-05T00:10:00Z"])
    assert result.exit_code == 0, result.output
    assert "note: --secret-file: whitespace around the secret" in result.stderr
    assert OTHER_SECRET not in result.output


def test_setup_stores_the_environment_secret_trimmed_and_says_so(app, runner):
    from webapp.models import VideoSDKKey

    with app.app_context():
        drop_everything()
    app.config["VIDEOSDK_API_KEY"] = "my-api-key"
    app.config["VIDEOSDK_SECRET_KEY"] = "f" * 64 + "\n"
    result = runner.invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    assert "Note: VIDEOSDK_SECRET_KEY: whitespace around the secret" in result.output
    with app.app_context():
        key = db.session.execute(select(VideoSDKKey)).scalar_one()
        assert videosdk_keys.decrypt_secret(key) == "f" * 64


def test_keys_add_secret_stdin_trims_more_than_the_line_end_and_says_so(app, runner):
    result = runner.invoke(args=["keys", "add", "--label", "prod", "--apikey", "pk-1",
                                 "--secret-stdin"], input=" " + SECRET + " \n")
    assert result.exit_code == 0, result.output
    assert "note: --secret-stdin: whitespace around the secret" in result.stderr
    with app.app_context():
        assert videosdk_keys.decrypt_secret(videosdk_keys.key_by_label("prod")) == SECRET
    plain = runner.invoke(args=["keys", "add", "--label", "dev", "--apikey", "pk-2",
                                "--secret-stdin"], input=OTHER_SECRET + "\n")
    assert plain.exit_code == 0, plain.output
    assert plain.stderr == ""
