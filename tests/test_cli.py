"""`flask setup` and the `users` commands."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, drop_everything
from tests.support import login
from webapp.extensions import db
from webapp.models import AuditEvent, User, UserSession, VideoSDKKey
from webapp.services.accounts import find_user


@pytest.fixture
def unmigrated(app):
    """The app's database with no tables, as on a fresh machine."""
    with app.app_context():
        drop_everything()
    return app


def test_setup_creates_the_first_admin_once_and_prints_it(unmigrated, app, runner):
    result = runner.invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    match = re.search(r"^Admin: (\S+)\nPassword: (\S+)\nSign in at http://127.0.0.1:5000/login$",
                      result.output, re.MULTILINE)
    assert match, result.output
    email, password = match.groups()
    assert email == "admin@example.com"
    assert login(app.test_client(), email, password).status_code == 302
    ready = app.test_client().get("/readyz")
    assert (ready.status_code, ready.get_json()["checks"]["schema"]) == (200, "ok")

    again = runner.invoke(args=["setup", "--sign-in-url", "http://0.0.0.0:8000/login"])
    assert again.exit_code == 0, again.output
    assert "Password:" not in again.output
    assert again.output.splitlines()[-1] == (
        "An admin exists already: sign in at http://0.0.0.0:8000/login. A forgotten "
        "password is reset with: flask --app webapp users reset-password EMAIL")
    with app.app_context():
        assert [u.role for u in db.session.execute(select(User)).scalars()] == ["admin"]


def test_setup_seeds_a_sandbox_key_without_videosdk_settings(unmigrated, app, runner):
    result = runner.invoke(args=["setup"])
    assert "VideoSDK will not accept its tokens" in result.output
    with app.app_context():
        key = db.session.execute(select(VideoSDKKey)).scalar_one()
        assert (key.label, key.sandbox) == ("sandbox", True)


def test_setup_seeds_the_default_key_from_the_environment(unmigrated, app, runner):
    app.config["VIDEOSDK_API_KEY"] = "my-api-key"
    app.config["VIDEOSDK_SECRET_KEY"] = "f" * 64
    runner.invoke(args=["setup"])
    with app.app_context():
        key = db.session.execute(select(VideoSDKKey)).scalar_one()
        assert (key.label, key.apikey, key.sandbox, key.secret_last4) == (
            "default", "my-api-key", False, "ffff")
        assert b"f" * 64 not in key.secret_encrypted


def test_users_create_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(args=["users", "create", "Dev@Example.com", "--role", "developer",
                                 "--password-stdin"], input="a long enough password\n")
    assert result.exit_code == 0, result.output
    assert result.output == "Created dev@example.com (developer).\n"
    assert login(app.test_client(), "dev@example.com", "a long enough password").status_code == 302
    with app.app_context():
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "user.created")).scalar_one()
        assert (event.action, event.actor, event.target) == (
            "user.created", "cli", "dev@example.com")
        assert "a long enough password" not in str(event.details)


def test_users_create_refuses_short_passwords_and_bad_roles(app, runner):
    short = runner.invoke(args=["users", "create", "a@example.com", "--role", "developer",
                                "--password-stdin"], input="short\n")
    assert short.exit_code == 1
    assert "at least 12 characters" in short.output
    spaces = runner.invoke(args=["users", "create", "a@example.com", "--role", "developer",
                                 "--password-stdin"], input=" " * 14 + "\n")
    assert spaces.exit_code == 1
    assert "A password of spaces alone is no password: type a real one." in spaces.output
    bad_role = runner.invoke(args=["users", "create", "a@example.com", "--role", "root",
                                   "--password-stdin"], input="a long enough password\n")
    assert bad_role.exit_code == 2
    with app.app_context():
        assert db.session.execute(select(User)).first() is None


def test_users_create_refuses_a_taken_email(runner, make_user):
    make_user("taken@example.com")
    result = runner.invoke(args=["users", "create", "taken@example.com", "--role", "support",
                                 "--password-stdin"], input="a long enough password\n")
    assert result.exit_code == 1
    assert "already has an account" in result.output


def test_users_list_and_disable(app, runner, make_user):
    person = make_user("dev@example.com")
    make_user("admin@example.com", role="admin")
    browser = app.test_client()
    login(browser, person.email, person.password)
    listed = runner.invoke(args=["users", "list"])
    assert listed.output == ("admin@example.com\tadmin\tactive\n"
                             "dev@example.com\tdeveloper\tactive\n")
    result = runner.invoke(args=["users", "disable", "dev@example.com"])
    assert result.exit_code == 0
    with app.app_context():
        assert db.session.execute(select(UserSession)).first() is None
    assert browser.get("/").status_code == 302
    assert "dev@example.com\tdeveloper\tdisabled" in runner.invoke(args=["users", "list"]).output


def test_the_last_admin_cannot_be_disabled(runner, make_user):
    make_user("admin@example.com", role="admin")
    result = runner.invoke(args=["users", "disable", "admin@example.com"])
    assert result.exit_code == 1
    assert "last active admin" in result.output


def test_setup_refuses_a_short_videosdk_secret_cleanly(unmigrated, app, runner):
    app.config["VIDEOSDK_API_KEY"] = "my-api-key"
    app.config["VIDEOSDK_SECRET_KEY"] = "shortsecret"
    result = runner.invoke(args=["setup"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert result.output.endswith(
        "\nError: VIDEOSDK_API_KEY / VIDEOSDK_SECRET_KEY cannot be stored: The secret must be "
        "at least 32 bytes long; VideoSDK secrets are 64 hexadecimal characters. Copy both "
        "from the VideoSDK dashboard, or unset them to start with a sandbox key.\n")
    with app.app_context():
        assert db.session.execute(select(VideoSDKKey)).first() is None


def test_setup_under_a_ceiling_below_a_day_stores_the_first_key_at_that_ceiling(
        unmigrated, tmp_path, monkeypatch, runner):
    from tests.conftest import base_config
    from webapp import create_app

    monkeypatch.setenv("MAX_TOKEN_LIFETIME", "12h")
    low = create_app(base_config(tmp_path / "low", unmigrated.config["DATABASE_URL"]))
    assert low.config["DEFAULT_KEY_MAX_LIFETIME"] == "12h"
    result = low.test_cli_runner().invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    assert "Admin: admin@example.com" in result.output
    with low.app_context():
        assert db.session.execute(select(VideoSDKKey.max_lifetime)).scalar_one() == 12 * 3600
        db.engine.dispose()


def _trail(app, action: str) -> list[tuple[str, str, str | None, str, dict]]:  # type: ignore[type-arg]
    with app.app_context():
        return [(e.actor, e.actor_kind, e.target, e.outcome, e.details) for e in
                db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)).scalars()]


class TestRecovery:
    """`users set-role`, `enable`, `reset-password`, `unlock` (SPEC 6): the admin pages'
    actions through the same services, audited with the actor `cli`."""

    def test_set_role_promotes_and_is_audited(self, app, runner, make_user):
        make_user("dev@example.com")
        result = runner.invoke(args=["users", "set-role", "DEV@example.com ", "admin"])
        assert result.exit_code == 0, result.output
        assert result.output == "dev@example.com is now admin.\n"
        with app.app_context():
            assert find_user("dev@example.com").role == "admin"
        assert _trail(app, "user.role_changed") == [
            ("cli", "cli", "dev@example.com", "success", {"from": "developer", "to": "admin"})]

    def test_set_role_keeps_the_last_admin(self, app, runner, make_user):
        make_user("admin@example.com", role="admin")
        result = runner.invoke(args=["users", "set-role", "admin@example.com", "support"])
        assert result.exit_code == 1
        assert "admin@example.com is the last active admin" in result.output
        with app.app_context():
            assert find_user("admin@example.com").role == "admin"
        assert _trail(app, "user.role_changed") == []

    @pytest.mark.parametrize("args", [["set-role", "ghost@example.com", "admin"],
                                      ["enable", "ghost@example.com"],
                                      ["reset-password", "ghost@example.com", "--generate"]])
    def test_an_unknown_email_is_a_clear_error(self, runner, args):
        result = runner.invoke(args=["users", *args])
        assert result.exit_code == 1
        assert "No account for ghost@example.com." in result.output

    def test_set_role_refuses_an_unknown_role(self, runner, make_user):
        make_user("dev@example.com")
        result = runner.invoke(args=["users", "set-role", "dev@example.com", "root"])
        assert result.exit_code == 2
        assert "'root' is not one of" in result.output

    def test_enable_lets_a_disabled_person_sign_in(self, app, runner, make_user):
        person = make_user("admin@example.com", role="admin", active=False)
        assert login(app.test_client(), person.email, PASSWORD).status_code == 401
        result = runner.invoke(args=["users", "enable", person.email])
        assert result.exit_code == 0, result.output
        assert result.output == "Enabled admin@example.com.\n"
        assert login(app.test_client(), person.email, PASSWORD).status_code == 302
        assert _trail(app, "user.enabled") == [("cli", "cli", person.email, "success", {})]

    def test_reset_password_from_stdin_ends_sessions(self, app, runner, make_user):
        person = make_user("dev@example.com")
        browser = app.test_client()
        login(browser, person.email, PASSWORD)
        result = runner.invoke(args=["users", "reset-password", person.email,
                                     "--password-stdin"], input="a fresh passphrase!\n")
        assert result.exit_code == 0, result.output
        assert "a fresh passphrase" not in result.output
        assert browser.get("/").status_code == 302
        assert login(app.test_client(), person.email, PASSWORD).status_code == 401
        assert login(app.test_client(), person.email, "a fresh passphrase!").status_code == 302
        assert _trail(app, "user.password_reset") == [
            ("cli", "cli", person.email, "success", {"passwordGenerated": False})]

    def test_reset_password_prompts_twice_without_echo(self, app, runner, make_user):
        person = make_user("dev@example.com")
        result = runner.invoke(args=["users", "reset-password", person.email],
                               input="prompted passphrase\nprompted passphrase\n")
        assert result.exit_code == 0, result.output
        assert "prompted passphrase" not in result.output
        assert login(app.test_client(), person.email, "prompted passphrase").status_code == 302

    def test_reset_password_can_generate_one_and_print_it_once(self, app, runner, make_user):
        person = make_user("dev@example.com")
        result = runner.invoke(args=["users", "reset-password", person.email, "--generate"])
        assert result.exit_code == 0, result.output
        printed = [line for line in result.stdout.splitlines() if line.startswith("Password: ")]
        assert len(printed) == 1
        password = printed[0].removeprefix("Password: ")
        assert len(password) >= 20
        assert login(app.test_client(), person.email, password).status_code == 302
        assert password not in str(_trail(app, "user.password_reset"))

    @pytest.mark.parametrize("typed", ["short\n", "\n", "            \n"])
    def test_reset_password_refuses_a_bad_password(self, app, runner, make_user, typed):
        person = make_user("dev@example.com")
        result = runner.invoke(args=["users", "reset-password", person.email,
                                     "--password-stdin"], input=typed)
        assert result.exit_code == 1
        assert login(app.test_client(), person.email, PASSWORD).status_code == 302
        assert _trail(app, "user.password_reset") == []

    def test_unlock_clears_a_lockout_and_is_audited(self, app, runner, make_user):
        person = make_user("dev@example.com")
        stranger = app.test_client()
        for _ in range(5):
            login(stranger, person.email, "not the password!!")
        assert login(app.test_client(), person.email, PASSWORD).status_code == 429
        result = runner.invoke(args=["users", "unlock", person.email])
        assert result.exit_code == 0, result.output
        assert result.output == "Unlocked dev@example.com: 5 failed sign-ins forgotten.\n"
        assert login(app.test_client(), person.email, PASSWORD).status_code == 302
        assert _trail(app, "user.unlocked") == [
            ("cli", "cli", person.email, "success", {"failuresForgotten": 5})]

    def test_unlock_of_a_text_that_is_no_account_records_only_its_hash(self, app, runner):
        result = runner.invoke(args=["users", "unlock", "Not@An.Account"])
        assert result.exit_code == 0
        [(actor, _, target, _, _)] = _trail(app, "user.unlocked")
        assert target.startswith("unknown-email:") and "account" not in target.lower()


# A shell hands bytes that are not UTF-8 (here 0xFF) over as a lone surrogate, U+DCFF.
@pytest.mark.parametrize("args", [
    ["users", "create", "a\udcff@x.co", "--role", "support", "--password-stdin"],
    ["users", "disable", "a\udcff@x.co"],
    ["users", "enable", "a\udcff@x.co"],
    ["users", "unlock", "a\udcff@x.co"],
    ["users", "set-role", "a\udcff@x.co", "support"],
    ["keys", "add", "--label", "l\udcff", "--apikey", "k", "--secret-stdin"],
    ["keys", "set-secret", "l\udcff", "--secret-stdin"],
    ["clients", "create", "n\udcff", "--scope", "tokens:mint"],
    ["clients", "revoke", "n\udcff"],
])
def test_arguments_that_are_not_utf8_are_a_usage_error_never_a_traceback(app, runner, args):
    result = runner.invoke(args=args, input="x" * 40 + "\n")
    assert result.exit_code == 2, result.output
    assert "holds bytes that are not UTF-8 text." in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_users_commands_print_a_stored_email_escaped(app, runner, make_user):
    with app.app_context():
        person = make_user("ok@example.com", "developer")
        user = db.session.get(User, person.id)
        user.email = "sup\u202emoc.elpmaxe@"  # stored before names refused format characters
        db.session.commit()
    result = runner.invoke(args=["users", "set-role", "sup\u202emoc.elpmaxe@", "support"])
    assert result.exit_code == 0, result.output
    assert result.output == "sup\\u202emoc.elpmaxe@ is now support.\n"
