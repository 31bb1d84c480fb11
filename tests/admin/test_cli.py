"""`flask keys ...` and `flask clients ...`: the same services as the pages, audited as cli."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from tests.admin.conftest import OTHER_SECRET, SECRET, THIRD_SECRET
from tests.conftest import base_config
from webapp import create_app
from webapp.extensions import db
from webapp.models import ApiClient, AuditEvent
from webapp.services import api_clients, videosdk_keys
from webapp.services.issuance import issue
from webapp.tokens import MintRequest, signature_matches


def cli_events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).scalars())
        db.session.expunge_all()
        return rows


def test_keys_add_reads_the_secret_from_stdin_and_masks_it(app, runner):
    result = runner.invoke(args=["keys", "add", "--label", "prod", "--apikey", "pk-1",
                                 "--max-ttl", "12h", "--secret-stdin"], input=SECRET + "\n")
    assert result.exit_code == 0, result.output
    assert result.output == "Stored key 'prod': apikey pk-1, secret …beef, max lifetime 12h.\n"
    with app.app_context():
        key = videosdk_keys.key_by_label("prod")
        assert (key.max_lifetime, videosdk_keys.decrypt_secret(key)) == (12 * 3600, SECRET)
    event = cli_events(app, "key.created")[-1]
    assert (event.actor, event.actor_kind, event.target, event.outcome) == (
        "cli", "cli", "prod", "success")
    assert SECRET not in str(event.details)


def test_keys_add_prompts_for_the_secret_without_echoing_it(app, runner):
    result = runner.invoke(args=["keys", "add", "--label", "prod", "--apikey", "pk-1"],
                           input=f"{SECRET}\n{SECRET}\n")
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    assert "Secret:" in result.output
    with app.app_context():
        assert videosdk_keys.decrypt_secret(videosdk_keys.key_by_label("prod")) == SECRET


@pytest.mark.parametrize(("args", "secret", "message"), [
    ([], "short", "The secret must be at least 32 bytes long"),
    (["--max-ttl", "120"], SECRET, "milliseconds"),
    (["--max-ttl", "60d"], SECRET, "cannot exceed MAX_TOKEN_LIFETIME"),
])
def test_keys_add_refuses_with_a_message(app, runner, args, secret, message):
    result = runner.invoke(args=["keys", "add", "--label", "prod", "--apikey", "pk-1",
                                 "--secret-stdin", *args], input=secret + "\n")
    assert result.exit_code == 1
    assert message in result.output
    assert SECRET not in result.output
    with app.app_context():
        assert videosdk_keys.all_keys() == []
    assert cli_events(app, "key.created")[-1].outcome == "refused"


def test_keys_list_shows_only_the_last_four(app, runner, stored_key):
    with app.app_context():
        key = videosdk_keys.add_key("sandbox", "sandbox-1", "b" * 64, sandbox=True)
        key.disabled = True
        db.session.commit()
    result = runner.invoke(args=["keys", "list"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "production\tprod-api-key\t…beef\t1d\tactive",
        "sandbox\tsandbox-1\t…bbbb\t1d\tdisabled,sandbox",
    ]
    assert SECRET not in result.output


def test_rotation_lets_the_old_encryption_key_go(app, tmp_path):
    """Replaced secrets kept for the diagnosis are re-encrypted too: nothing is lost."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    url = app.config["DATABASE_URL"]

    def app_with(keys: str):  # another process over the same database
        return create_app({**base_config(tmp_path, url), "ENCRYPTION_KEYS": keys})

    before = app_with(old)
    with before.app_context():
        videosdk_keys.add_key("prod", "pk-1", SECRET)
        staging = videosdk_keys.add_key("staging", "pk-2", OTHER_SECRET)
        db.session.commit()
        videosdk_keys.replace_secret(staging, THIRD_SECRET)
        db.session.commit()
        old_column = db.session.execute(text("SELECT secret_encrypted FROM videosdk_keys "
                                             "WHERE label = 'prod'")).scalar()
        old_replaced = db.session.execute(
            text("SELECT secret_encrypted FROM replaced_key_secrets")).scalar()

    rotating = app_with(f"{new},{old}")
    result = rotating.test_cli_runner().invoke(args=["keys", "rotate-encryption"])
    assert result.exit_code == 0, result.output
    assert result.output == \
        "Re-encrypted 2 secrets and 1 replaced secret under the newest encryption key.\n"
    assert cli_events(rotating, "key.encryption_rotated")[-1].details == {
        "count": 2, "replacedCount": 1}

    after = app_with(new)
    with after.app_context():
        new_column = db.session.execute(text("SELECT secret_encrypted FROM videosdk_keys "
                                             "WHERE label = 'prod'")).scalar()
        new_replaced = db.session.execute(
            text("SELECT secret_encrypted FROM replaced_key_secrets")).scalar()
        assert bytes(new_column) != bytes(old_column)
        assert bytes(new_replaced) != bytes(old_replaced)
        staging_known = {k.label: k for k in videosdk_keys.known_keys()}["staging"]
        assert staging_known.secret == THIRD_SECRET
        assert [(r.secret, r.replaced_by) for r in staging_known.replaced_secrets] == [
            (OTHER_SECRET, "cli")]
        key = videosdk_keys.key_by_label("prod")
        assert videosdk_keys.decrypt_secret(key) == SECRET
        minted = issue(MintRequest(permissions=("allow_join",), expires_in="10m"), key, via="cli")
        assert signature_matches(minted.token, SECRET)

    # The old encryption key alone no longer opens what is stored.
    with app_with(old).app_context():
        with pytest.raises(videosdk_keys.KeyringError, match="cannot be decrypted"):
            videosdk_keys.decrypt_secret(videosdk_keys.key_by_label("prod"))
    for each in (before, rotating, after):
        with each.app_context():
            db.engine.dispose()


def test_rotation_without_the_old_key_fails_clearly(app, tmp_path, stored_key):
    other = create_app({**base_config(tmp_path, app.config["DATABASE_URL"]),
                        "ENCRYPTION_KEYS": Fernet.generate_key().decode()})
    result = other.test_cli_runner().invoke(args=["keys", "rotate-encryption"])
    assert result.exit_code == 1
    assert "keep the old key listed after the new one" in result.output
    with app.app_context():
        assert videosdk_keys.decrypt_secret(videosdk_keys.key_by_label("production")) == SECRET
    with other.app_context():
        db.engine.dispose()


def test_clients_create_prints_the_key_once_on_stdout(app, runner, stored_key):
    result = runner.invoke(args=["clients", "create", "backend", "--scope", "tokens:mint",
                                 "--scope", "tokens:inspect", "--key", "production",
                                 "--max-ttl", "1h", "--rate-limit", "50/second"])
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert api_clients.looks_like_client_key(key)
    assert "Created client 'backend': scopes tokens:mint, tokens:inspect; keys production; " \
        "rate limit 50/second." in result.stderr
    with app.app_context():
        client = db.session.execute(select(ApiClient)).scalar_one()
        assert client.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert (client.rate_limit, client.max_lifetime, [k.label for k in client.keys]) == (
            "50/second", 3600, ["production"])
        assert api_clients.authenticate(key).name == "backend"
    event = cli_events(app, "client.created")[-1]
    assert (event.actor, event.target, event.details["rateLimit"]) == ("cli", "backend",
                                                                       "50/second")
    assert key not in str(event.details)


def test_clients_create_defaults_to_600_a_minute_and_every_key(app, runner):
    result = runner.invoke(args=["clients", "create", "backend", "--scope", "tokens:mint"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        client = db.session.execute(select(ApiClient)).scalar_one()
        assert (client.rate_limit, client.keys, client.max_lifetime) == ("600/minute", [], None)


@pytest.mark.parametrize(("args", "message"), [
    (["--scope", "tokens:mint", "--key", "nope"], "No key is labelled 'nope'."),
    (["--scope", "tokens:mint", "--rate-limit", "lots"],
     "'lots' is not a usable rate limit: Write a limit such as 600/minute"),
    (["--scope", "tokens:mint", "--rate-limit", "0/minute"],
     "'0/minute' is not a usable rate limit: A limit of 0 refuses every request: revoke the "
     "client instead."),
    (["--scope", "tokens:all"], "Invalid value for '--scope'"),
    ([], "Missing option '--scope'"),
])
def test_clients_create_refuses_with_a_message(app, runner, args, message):
    result = runner.invoke(args=["clients", "create", "backend", *args])
    assert result.exit_code in (1, 2)
    assert message in result.output
    with app.app_context():
        assert db.session.execute(select(ApiClient)).first() is None


def test_clients_list_and_revoke(app, runner, api_client):
    listed = runner.invoke(args=["clients", "list"])
    prefix = api_client["key"][:8]
    assert listed.output == f"backend\t{prefix}…\ttokens:mint\tproduction\t-\t600/minute\tactive\n"
    assert api_client["key"] not in listed.output

    result = runner.invoke(args=["clients", "revoke", "backend"])
    assert (result.exit_code, result.output) == (0, "Revoked client 'backend'.\n")
    with app.app_context():
        assert api_clients.authenticate(api_client["key"]) is None
    assert runner.invoke(args=["clients", "list"]).output.endswith("\trevoked\n")
    assert [e.actor for e in cli_events(app, "client.revoked")] == ["cli"]

    unknown = runner.invoke(args=["clients", "revoke", "nobody"])
    assert (unknown.exit_code, "No client is named 'nobody'." in unknown.output) == (1, True)


def stored_client(app, name: str = "backend") -> tuple[list[str], list[str], int | None, str]:
    with app.app_context():
        client = db.session.execute(select(ApiClient).where(ApiClient.name == name)).scalar_one()
        return (client.scopes, [k.label for k in client.keys], client.max_lifetime,
                client.rate_limit)


def test_clients_update_changes_only_what_is_given(app, runner, api_client):
    result = runner.invoke(args=["clients", "update", "backend", "--rate-limit", "5/second",
                                 "--max-ttl", "2h"])
    assert (result.exit_code, result.output) == (
        0, "Updated client 'backend': max TTL 2h; rate limit 5/second.\n")
    assert stored_client(app) == (["tokens:mint"], ["production"], 7200, "5/second")
    event = cli_events(app, "client.updated")[-1]
    assert (event.actor, event.target, event.outcome, event.details) == (
        "cli", "backend", "success", {"changes": {"maxLifetime": "2h", "rateLimit": "5/second"}})

    result = runner.invoke(args=["clients", "update", "backend", "--scope", "tokens:inspect",
                                 "--every-key", "--no-max-ttl"])
    assert (result.exit_code, result.output) == (
        0, "Updated client 'backend': scopes tokens:inspect; keys every active key; "
           "max TTL each key's own.\n")
    assert stored_client(app) == (["tokens:inspect"], [], None, "5/second")
    with app.app_context():
        assert api_clients.authenticate(api_client["key"]).scopes == ["tokens:inspect"]

    same = runner.invoke(args=["clients", "update", "backend", "--rate-limit", "5/second"])
    assert (same.exit_code, same.output) == (0, "Nothing to change in client 'backend'.\n")
    assert len(cli_events(app, "client.updated")) == 2


@pytest.mark.parametrize(("args", "status", "message"), [
    (["nobody", "--rate-limit", "1/second"], 1, "No client is named 'nobody'."),
    (["backend", "--key", "nope"], 1, "No key is labelled 'nope'."),
    (["backend", "--rate-limit", "lots"], 1, "'lots' is not a usable rate limit"),
    (["backend", "--rate-limit", "10/second;0/hour"], 1, "A limit of 0 refuses every request"),
    (["backend", "--max-ttl", "90d"], 1, "cannot exceed MAX_TOKEN_LIFETIME"),
    (["backend", "--scope", "tokens:all"], 2, "Invalid value for '--scope'"),
    (["backend", "--key", "production", "--every-key"], 2, "Give --key or --every-key"),
    (["backend", "--max-ttl", "1h", "--no-max-ttl"], 2, "Give --max-ttl or --no-max-ttl"),
])
def test_clients_update_refuses_with_a_message(app, runner, api_client, args, status, message):
    result = runner.invoke(args=["clients", "update", *args])
    assert result.exit_code == status
    assert message in result.output
    assert stored_client(app) == (["tokens:mint"], ["production"], None, "600/minute")
    assert [e.details for e in cli_events(app, "client.updated")
            if e.outcome != "refused"] == []


def test_a_revoked_client_cannot_be_updated(app, runner, api_client):
    assert runner.invoke(args=["clients", "revoke", "backend"]).exit_code == 0
    result = runner.invoke(args=["clients", "update", "backend", "--rate-limit", "1/second"])
    assert result.exit_code == 1
    assert "Client 'backend' is revoked; a revoked client cannot change." in result.output
    assert stored_client(app)[3] == "600/minute"
    event = cli_events(app, "client.updated")[-1]
    assert (event.outcome, event.target) == ("refused", "backend")


@pytest.mark.parametrize(("args", "message"), [
    (["keys", "add", "--label", "prod\x1b[31m", "--apikey", "pk-1", "--secret-stdin"],
     "The label holds a control character, U+001B"),
    (["keys", "add", "--label", "prod\u202e", "--apikey", "pk-1", "--secret-stdin"],
     "The label holds an invisible format character, U+202E"),
    (["keys", "add", "--label", "prod", "--apikey", "pk\x07", "--secret-stdin"],
     "The API key holds a control character, U+0007"),
    (["clients", "create", "bell\x07", "--scope", "tokens:inspect"],
     "The name holds a control character, U+0007"),
    (["clients", "create", "nul\x00x", "--scope", "tokens:inspect"],
     "The name holds a control character, U+0000"),
    (["users", "create", "a\x1b@example.com", "--role", "support", "--password-stdin"],
     "The email holds a control character, U+001B"),
])
def test_names_with_control_or_format_characters_are_refused(app, runner, args, message):
    """`keys list`, `clients list` and `users list` print them raw to a terminal."""
    result = runner.invoke(args=args, input=SECRET + "\n")
    assert result.exit_code == 1, result.output
    assert message in result.output
    with app.app_context():
        assert db.session.execute(select(AuditEvent).where(
            AuditEvent.outcome == "success")).first() is None


def test_lists_print_names_stored_before_the_rule_escaped(app, runner, stored_key):
    """`keys list`, `clients list`, `users list`: no ESC, BEL or NUL reaches the terminal."""
    with app.app_context():
        db.session.execute(text("UPDATE videosdk_keys SET label = :label"),
                           {"label": "prod\x1b[31m\u202e"})
        api_clients.create_client("placeholder", ["tokens:inspect"])
        db.session.execute(text("UPDATE api_clients SET name = :name"), {"name": "bell\x07"})
        db.session.commit()
    keys = runner.invoke(args=["keys", "list"]).output
    clients = runner.invoke(args=["clients", "list"]).output
    assert keys.startswith("prod\\x1b[31m\\u202e\t")
    assert clients.startswith("bell\\x07\t")
    for raw in ("\x1b", "\u202e", "\x07"):
        assert raw not in keys + clients
