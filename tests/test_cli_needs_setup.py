"""Every command over stored records, before `flask setup`: says what to run, exits 4, and
creates nothing (one rule, webapp.services.schema.setup_needed, also behind /readyz)."""

from __future__ import annotations

import click
import pytest
from flask import Flask

from tests.conftest import base_config, drop_everything
from webapp import create_app
from webapp.extensions import db

GROUPS = ("users", "keys", "clients")
SETUP = "run `flask --app webapp setup`"


def every_records_command(app: Flask) -> list[list[str]]:
    """Each command of the users, keys and clients groups, with arguments that parse."""
    commands = []
    for group_name in GROUPS:
        group = app.cli.get_command(click.Context(app.cli), group_name)
        assert isinstance(group, click.Group)
        for name, command in sorted(group.commands.items()):
            args = [group_name, name]
            for param in command.params:
                choices = getattr(param.type, "choices", None)
                value = str(choices[0]) if choices else "someone@example.com"
                if isinstance(param, click.Argument):
                    args.append(value)
                elif isinstance(param, click.Option) and param.required:
                    args += [param.opts[0], value]
            commands.append(args)
    return commands


def test_the_commands_are_all_found(app):
    names = {" ".join(args[:2]) for args in every_records_command(app)}
    assert {"users list", "users create", "keys list", "keys add", "keys set-secret",
            "keys rotate-encryption", "clients list", "clients create", "clients revoke"} <= names


def test_without_a_database_file_every_command_says_to_run_setup_and_creates_none(tmp_path):
    path = tmp_path / "instance" / "token-console.db"
    app = create_app(base_config(tmp_path, f"sqlite:///{path}"))
    runner = app.test_cli_runner()
    for args in every_records_command(app):
        result = runner.invoke(args=args, input="x" * 40 + "\n")
        assert (result.exit_code, result.stdout) == (4, ""), (args, result.output)
        assert result.stderr == f"Error: There is no database at {path} yet: {SETUP}.\n", args
        assert "Traceback" not in result.output
        assert not path.exists(), args


def test_help_needs_no_database(tmp_path):
    path = tmp_path / "instance" / "token-console.db"
    app = create_app(base_config(tmp_path, f"sqlite:///{path}"))
    result = app.test_cli_runner().invoke(args=["clients", "list", "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    assert not path.exists()


def test_a_database_without_tables_says_to_run_setup(app, runner):
    """On SQLite and, in CI, PostgreSQL."""
    with app.app_context():
        drop_everything()
    for args in every_records_command(app):
        result = runner.invoke(args=args, input="x" * 40 + "\n")
        assert (result.exit_code, result.stdout) == (4, ""), (args, result.output)
        assert result.stderr == f"Error: The database has no tables yet: {SETUP}.\n"
    with app.app_context():
        assert db.inspect(db.engine).get_table_names() == []


def test_a_database_behind_this_code_says_to_run_setup_which_upgrades(app, runner):
    with app.app_context():
        drop_everything()
    assert runner.invoke(args=["db", "upgrade", "0003"]).exit_code == 0
    result = runner.invoke(args=["keys", "list"])
    assert result.exit_code == 4
    assert result.stderr == ("Error: The database is at migration 0003, behind this code: "
                             f"{SETUP} (it upgrades the schema).\n")
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["keys", "list"]).exit_code == 0


@pytest.mark.parametrize("args", [["users", "list"], ["keys", "add", "--label", "x",
                                   "--apikey", "y", "--secret-stdin"], ["setup"]])
def test_a_database_that_cannot_be_reached_is_named_so(tmp_path, args):
    app = create_app(base_config(
        tmp_path, "postgresql+psycopg://nobody:hunter2@127.0.0.1:1/none?connect_timeout=2"))
    result = app.test_cli_runner().invoke(args=args, input="z" * 64)
    assert result.exit_code == 4
    assert result.stderr == ("Error: The database cannot be reached: check DATABASE_URL and "
                             "that its server is up.\n")
    assert "hunter2" not in result.output and "Traceback" not in result.output


def test_after_setup_the_same_commands_run(tmp_path):
    path = tmp_path / "instance" / "token-console.db"
    app = create_app(base_config(tmp_path, f"sqlite:///{path}"))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["setup"]).exit_code == 0
    for args in (["clients", "list"], ["keys", "list"], ["users", "list"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output)
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(("args", "code"), [(["token", "create"], 0),
                                           (["token", "inspect", "abc"], 1)])
def test_token_commands_still_work_without_a_database_and_create_none(tmp_path, args, code):
    path = tmp_path / "instance" / "token-console.db"
    app = create_app({**base_config(tmp_path, f"sqlite:///{path}"),
                      "VIDEOSDK_API_KEY": "env-api-key", "VIDEOSDK_SECRET_KEY": "e" * 64})
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == code, result.output  # a token; `abc` is not_a_jwt
    assert "Traceback" not in result.output and not path.exists()
