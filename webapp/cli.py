"""Command line: thin click commands over the same services the views call."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click
from cryptography.fernet import InvalidToken
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select

from . import audit, config, keyring
from .auth.accounts import AccountError, count_admins, create_user, find_user
from .auth.sessions import close_all_sessions
from .clients import SCOPES, ClientError, create_client
from .clients import revoke as revoke_client
from .extensions import db
from .models import ROLES, ApiClient, User
from .tokens import format_lifetime

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
    app.cli.add_command(keys_cli)
    app.cli.add_command(clients_cli)


# VideoSDK keys and API clients (SPEC 6). Secrets come from a hidden prompt or
# stdin, never from an argument, so they stay out of shell history and `ps`.

keys_cli = AppGroup("keys", help="VideoSDK API key and secret pairs.")
clients_cli = AppGroup("clients", help="API clients and their bearer keys.")


@keys_cli.command("add")
@click.option("--label", required=True, help="A name for people, such as production.")
@click.option("--apikey", required=True, help="The API key from the VideoSDK dashboard.")
@click.option("--max-ttl", "max_ttl", default=None,
              help="Longest token this key may sign, such as 24h (default: 24h).")
@click.option("--secret-stdin", is_flag=True, help="Read the secret from standard input.")
def keys_add(label: str, apikey: str, max_ttl: str | None, secret_stdin: bool) -> None:
    """Store a key pair; the secret is encrypted and shown only as its last 4 characters."""
    secret = _read_secret(secret_stdin, "Secret").strip()
    try:
        key = keyring.add_key(label, apikey, secret, max_lifetime=max_ttl)
    except keyring.KeyringError as error:
        db.session.rollback()
        audit.record("key.created", outcome="refused", details={"reason": str(error)})
        raise click.ClickException(str(error)) from error
    shown = keyring.describe(key)
    audit.record("key.created", target=key.label, commit=False, details={
        "apikey": key.apikey, "maxLifetime": shown["maxLifetime"],
        "permissions": shown["allowedPermissions"], "roles": shown["allowedRoles"]})
    db.session.commit()
    click.echo(f"Stored key {key.label!r}: apikey {key.apikey}, secret {shown['secret']}, "
               f"max lifetime {shown['maxLifetime']}.")


@keys_cli.command("list")
def keys_list() -> None:
    """List keys: label, API key, masked secret, maximum lifetime, state."""
    for key in keyring.all_keys():
        shown = keyring.describe(key)
        state = ["disabled" if key.disabled else "active"] + (["sandbox"] if key.sandbox else [])
        click.echo(f"{key.label}\t{key.apikey}\t{shown['secret']}\t{shown['maxLifetime']}\t"
                   + ",".join(state))


@keys_cli.command("rotate-encryption")
def keys_rotate_encryption() -> None:
    """Re-encrypt every stored secret under the newest key of ENCRYPTION_KEYS."""
    try:
        count = keyring.rotate_encryption()
    except (keyring.KeyringError, InvalidToken) as error:
        db.session.rollback()
        raise click.ClickException(
            "A stored secret cannot be decrypted with ENCRYPTION_KEYS: keep the old key "
            "listed after the new one until rotation has run.") from error
    audit.record("key.encryption_rotated", details={"count": count}, commit=False)
    db.session.commit()
    click.echo(f"Re-encrypted {count} secret{'' if count == 1 else 's'} "
               "under the newest encryption key.")


@clients_cli.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(SCOPES),
              help="tokens:mint and/or tokens:inspect; repeat for both.")
@click.option("--key", "key_labels", multiple=True,
              help="Label of a key the client may use; repeat. None: every active key.")
@click.option("--max-ttl", "max_ttl", default=None, help="Longest token it may ask for.")
@click.option("--rate-limit", default=None, help='Such as "600/minute" (the default).')
def clients_create(name: str, scopes: tuple[str, ...], key_labels: tuple[str, ...],
                   max_ttl: str | None, rate_limit: str | None) -> None:
    """Create an API client and print its key, once."""
    try:
        client, plaintext = create_client(name, scopes, key_labels=key_labels,
                                          max_lifetime=max_ttl, rate_limit=rate_limit)
    except ClientError as error:
        db.session.rollback()
        audit.record("client.created", outcome="refused", details={"reason": str(error)})
        raise click.ClickException(str(error)) from error
    audit.record("client.created", target=client.name, commit=False, details={
        "scopes": list(client.scopes), "keys": [key.label for key in client.keys],
        "maxLifetime": format_lifetime(client.max_lifetime) if client.max_lifetime else None,
        "rateLimit": client.rate_limit, "keyPrefix": client.key_prefix})
    db.session.commit()
    keys_text = ", ".join(key.label for key in client.keys) or "every active key"
    # The key alone goes to stdout, so `KEY=$(flask clients create ...)` captures just it.
    click.echo(f"Created client {client.name!r}: scopes {', '.join(client.scopes)}; "
               f"keys {keys_text}; rate limit {client.rate_limit}.", err=True)
    click.echo("Client key (shown once, stored only as a hash):", err=True)
    click.echo(plaintext)


@clients_cli.command("list")
def clients_list() -> None:
    """List clients: name, key prefix, scopes, keys, maximum lifetime, rate limit, state."""
    for client in db.session.execute(select(ApiClient).order_by(ApiClient.name)).scalars():
        keys_text = ",".join(key.label for key in client.keys) or "*"
        lifetime = format_lifetime(client.max_lifetime) if client.max_lifetime else "-"
        state = "revoked" if client.revoked_at else "active"
        click.echo(f"{client.name}\t{client.key_prefix}…\t{','.join(client.scopes)}\t"
                   f"{keys_text}\t{lifetime}\t{client.rate_limit}\t{state}")


@clients_cli.command("revoke")
@click.argument("name")
def clients_revoke(name: str) -> None:
    """Revoke a client: its key stops working at its next request."""
    client = db.session.execute(
        select(ApiClient).where(ApiClient.name == name)).scalar_one_or_none()
    if client is None:
        raise click.ClickException(f"No client is named {name!r}.")
    if client.revoked_at is not None:
        click.echo(f"Client {name!r} was revoked already.")
        return
    revoke_client(client)
    audit.record("client.revoked", target=client.name, commit=False)
    db.session.commit()
    click.echo(f"Revoked client {name!r}.")

