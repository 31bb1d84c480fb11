"""Command line: thin click commands over the same services the views call."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select

from . import audit, config, keyring
from .auth.accounts import AccountError, count_admins, create_user, find_user
from .auth.sessions import close_all_sessions
from .extensions import db
from .models import ROLES, User

users_cli = AppGroup("users", help="People who sign in to the console.")


def _read_secret(from_stdin: bool, prompt: str) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True))


@click.command("setup")
@with_appcontext
def setup_command() -> None:
    """Prepare everything `make run` needs: secrets, database, first key, first admin."""
    app = current_app
    if app.config["APP_ENV"] != "production":
        config.ensure_instance_secrets(app.instance_path)
    upgrade(directory=str(Path(__file__).parent / "migrations"))
    key = keyring.seed_first_key()
    if key is not None:
        audit.record("key.created", target=key.label, details={"label": key.label,
                     "apikey": key.apikey, "sandbox": key.sandbox}, commit=False)
        db.session.commit()
        if key.sandbox:
            click.echo(
                f"Key: created sandbox key {key.apikey!r}. VideoSDK will not accept its tokens; "
                "set VIDEOSDK_API_KEY and VIDEOSDK_SECRET_KEY or add a real key as admin."
            )
        else:
            click.echo(f"Key: stored {key.label!r} from VIDEOSDK_API_KEY.")
    if count_admins() == 0:
        email = app.config["ADMIN_EMAIL"]
        password = secrets.token_urlsafe(18)
        existing = find_user(email)
        if existing is not None:
            raise click.ClickException(
                f"{email} exists but no active admin does; promote someone with the CLI."
            )
        create_user(email, password, "admin")
        audit.record("user.created", target=email, details={"role": "admin"}, commit=False)
        db.session.commit()
        click.echo(f"Admin: {email}")
        click.echo(f"Password: {password}")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(email: str, role: str, password_stdin: bool) -> None:
    """Create a person who can sign in."""
    password = _read_secret(password_stdin, "Password")
    try:
        user = create_user(email, password, role)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    audit.record("user.created", target=user.email, details={"role": role}, commit=False)
    db.session.commit()
    click.echo(f"Created {user.email} ({role}).")


@users_cli.command("list")
def users_list() -> None:
    """List people with their role and state."""
    for user in db.session.execute(select(User).order_by(User.email)).scalars():
        state = "active" if user.active else "disabled"
        click.echo(f"{user.email}\t{user.role}\t{state}")


@users_cli.command("disable")
@click.argument("email")
def users_disable(email: str) -> None:
    """Disable a person and end all of their sessions."""
    user = find_user(email)
    if user is None:
        raise click.ClickException(f"No account for {email}.")
    if user.role == "admin" and user.active and count_admins() <= 1:
        raise click.ClickException("The last active admin cannot be disabled.")
    user.active = False
    close_all_sessions(user)
    audit.record("user.disabled", target=user.email, commit=False)
    db.session.commit()
    click.echo(f"Disabled {user.email}.")


def init_app(app: Flask) -> None:
    """Register the commands on the app's `flask` command."""
    app.cli.add_command(setup_command)
    app.cli.add_command(users_cli)
