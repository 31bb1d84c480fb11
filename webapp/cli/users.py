"""`flask users`: people who sign in to the console (SPEC 6)."""

from __future__ import annotations

import click
from sqlalchemy import select

from webapp.characters import visible
from webapp.cli.prompts import read_secret
from webapp.cli.setup import StoredRecordsGroup
from webapp.extensions import db
from webapp.models import ROLES, User
from webapp.services import accounts, audit
from webapp.services.accounts import AccountError, create_user, find_user

users_cli = StoredRecordsGroup("users", help="People who sign in to the console.")



@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([role.value for role in ROLES]), required=True)
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
    click.echo(f"Created {visible(user.email)} ({role}).")


@users_cli.command("list")
def users_list() -> None:
    """List people with their role and state."""
    for user in db.session.execute(select(User).order_by(User.email)).scalars():
        state = "active" if user.active else "disabled"
        click.echo(f"{visible(user.email)}\t{user.role}\t{state}")


def _person(email: str) -> User:
    """The person with this email, or a usage error that says there is none."""
    user = find_user(email)
    if user is None:
        raise click.ClickException(f"No account for {visible(email)}.")
    return user


def _refused(error: AccountError) -> click.ClickException:
    db.session.rollback()
    return click.ClickException(str(error))


@users_cli.command("disable")
@click.argument("email")
def users_disable(email: str) -> None:
    """Disable a person and end all of their sessions (never the last active admin)."""
    user = _person(email)
    try:
        accounts.disable(user)
    except AccountError as error:
        raise _refused(error) from error
    audit.record("user.disabled", target=user.email, commit=False)
    db.session.commit()
    click.echo(f"Disabled {visible(user.email)}.")


@users_cli.command("enable")
@click.argument("email")
def users_enable(email: str) -> None:
    """Let a disabled person sign in again."""
    user = _person(email)
    if user.active:
        click.echo(f"{visible(user.email)} could sign in already.")
        return
    accounts.enable(user)
    audit.record("user.enabled", target=user.email, commit=False)
    db.session.commit()
    click.echo(f"Enabled {visible(user.email)}.")


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice([role.value for role in ROLES]))
def users_set_role(email: str, role: str) -> None:
    """Give a person another role (never demoting the last active admin)."""
    user = _person(email)
    before = user.role
    try:
        accounts.change_role(user, role)
    except AccountError as error:
        raise _refused(error) from error
    if user.role == before:
        db.session.rollback()
        click.echo(f"{visible(user.email)} was {before} already.")
        return
    audit.record("user.role_changed", target=user.email, commit=False,
                 details={"from": before, "to": user.role})
    db.session.commit()
    click.echo(f"{visible(user.email)} is now {user.role}.")


@users_cli.command("reset-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@click.option("--generate", is_flag=True,
              help="Generate a password and print it once, instead of asking for one.")
def users_reset_password(email: str, password_stdin: bool, generate: bool) -> None:
    """Set a person's password and end all of their sessions."""
    if password_stdin and generate:
        raise click.UsageError("Give --password-stdin or --generate, not both.")
    user = _person(email)
    password = None if generate else read_secret(password_stdin, "New password")
    if password == "":
        raise click.ClickException("No password given: type one, or use --generate.")
    try:
        generated = accounts.reset_password(user, password)
    except AccountError as error:
        raise _refused(error) from error
    audit.record("user.password_reset", target=user.email, commit=False,
                 details={"passwordGenerated": generated is not None})
    db.session.commit()
    click.echo(f"{visible(user.email)} has a new password and was signed out everywhere.", err=True)
    if generated is not None:
        click.echo(f"Password: {generated}")


@users_cli.command("unlock")
@click.argument("email")
def users_unlock(email: str) -> None:
    """Clear the sign-in lockout of an email, for every browser (SPEC 4, 6)."""
    forgotten = accounts.unlock(email)
    audit.record("user.unlocked", target=accounts.recorded_email(email, find_user(email)),
                 commit=False, details={"failuresForgotten": forgotten})
    db.session.commit()
    click.echo(f"Unlocked {visible(email.strip())}: {forgotten} failed sign-ins forgotten.")
