"""`flask setup`: what `make run` needs before serving (SPEC 6)."""

from __future__ import annotations

import secrets
import sys
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo, with_appcontext
from flask_migrate import upgrade

from webapp import config
from webapp.extensions import db
from webapp.models import UserRole
from webapp.services import audit, videosdk_keys
from webapp.services.accounts import count_admins, create_user, find_user
from webapp.services.schema import UNREACHABLE, database_reachable, setup_needed
from webapp.tokens import TRIMMED_NOTE

EXIT_NOT_SET_UP = 4


class StoredRecordsCommand(click.Command):
    """A command over stored records: until the database is set up it says what to run and
    exits 4, before asking the database anything that would create it (SPEC 6)."""

    def invoke(self, ctx: click.Context) -> Any:
        for name, value in ctx.params.items():
            # A shell hands bytes that are not UTF-8 over as lone surrogates, which no database
            # can look up or store: a usage error, before anything is asked.
            for text in value if isinstance(value, tuple) else (value,):
                if isinstance(text, str) and any("\ud800" <= ch <= "\udfff" for ch in text):
                    raise click.BadParameter("holds bytes that are not UTF-8 text.", ctx,
                                             param_hint=f"'{name}'")
        if not current_app:
            # As flask.cli.with_appcontext does; the command's own wrapper then reuses it.
            app = ctx.ensure_object(ScriptInfo).load_app()
            ctx.with_resource(app.app_context())
        problem = setup_needed()
        if problem is not None:
            click.echo(f"Error: {problem}", err=True)
            ctx.exit(EXIT_NOT_SET_UP)
        return super().invoke(ctx)


class StoredRecordsGroup(AppGroup):
    """`flask users`, `keys`, `clients`: every command in it needs the database set up."""

    command_class = StoredRecordsCommand


RESET_COMMAND = "flask --app webapp users reset-password EMAIL"


@click.command("setup")
@click.option("--sign-in-url", default="http://127.0.0.1:5000/login", show_default=True,
              help="Where the server will answer /login; printed for whoever runs it "
                   "(`make run` passes http://HOST:PORT/login).")
@with_appcontext
def setup_command(sign_in_url: str) -> None:
    """Prepare everything `make run` needs: secrets, database, first key, first admin.

    Prints `Admin:` and `Password:` once, when it creates the first admin, then where to
    sign in; later runs say that an admin exists and how to reset a password (SPEC 6).
    """
    app = current_app
    if app.config["APP_ENV"] != "production":
        config.ensure_instance_secrets(app.instance_path)
    if not database_reachable():
        click.echo(f"Error: {UNREACHABLE}", err=True)
        sys.exit(EXIT_NOT_SET_UP)
    upgrade()  # the directory Flask-Migrate was given in create_app
    try:
        key = videosdk_keys.seed_first_key()
    except videosdk_keys.KeyringError as error:
        db.session.rollback()
        raise click.ClickException(
            f"VIDEOSDK_API_KEY / VIDEOSDK_SECRET_KEY cannot be stored: {error} Copy both from "
            "the VideoSDK dashboard, or unset them to start with a sandbox key.") from error
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
            if videosdk_keys.environment_secret()[1]:
                click.echo(f"Note: VIDEOSDK_SECRET_KEY: {TRIMMED_NOTE}.")
    if count_admins() == 0:
        email = app.config["ADMIN_EMAIL"]
        password = secrets.token_urlsafe(18)
        existing = find_user(email)
        if existing is not None:
            raise click.ClickException(
                f"{email} exists but no active admin does; promote someone with the CLI."
            )
        create_user(email, password, UserRole.ADMIN)
        audit.record("user.created", target=email, details={"role": UserRole.ADMIN.value},
                     commit=False)
        db.session.commit()
        click.echo(f"Admin: {email}")
        click.echo(f"Password: {password}")
        click.echo(f"Sign in at {sign_in_url}")
    else:
        click.echo(f"An admin exists already: sign in at {sign_in_url}. A forgotten "
                   f"password is reset with: {RESET_COMMAND}")
