"""`flask users`: people who sign in to the console (SPEC 6)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from webapp.cli.prompts import read_secret
from webapp.extensions import db
from webapp.models import ROLES, User
from webapp.services import accounts, audit
from webapp.services.accounts import AccountError, create_user, find_user

users_cli = AppGroup("users", help="People who sign in to the console.")



@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(email: str, role: str, password_stdin: bool) -> None:
    """Create a person who can sign in."""
    password = read_secret(password_stdin, "Password")
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
    try:
        accounts.disable(user)
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    audit.record("user.disabled", target=user.email, commit=False)
    db.session.commit()
    click.echo(f"Disabled {user.email}.")
