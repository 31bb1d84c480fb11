"""Command line: thin click commands over the same services the views call."""

from __future__ import annotations

import json
import secrets
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from cryptography.fernet import InvalidToken
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from . import audit, config, issuance, keyring
from .auth.accounts import AccountError, count_admins, create_user, find_user
from .auth.sessions import close_all_sessions
from .clients import SCOPES, ClientError, create_client, update_policy
from .clients import describe as describe_client
from .clients import revoke as revoke_client
from .extensions import db
from .models import ROLES, ApiClient, User, VideoSDKKey, utcnow
from .tokens import (
    MintedToken,
    MintError,
    MintRequest,
    Permission,
    Policy,
    Role,
    diagnose,
    format_lifetime,
    mint,
    read_moment,
)

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
    upgrade()  # the directory Flask-Migrate was given in create_app
    try:
        key = keyring.seed_first_key()
    except keyring.KeyringError as error:
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


token_cli = AppGroup("token", help="Mint and inspect VideoSDK tokens.")

INSPECT_EXIT = {"valid": 0, "invalid": 1, "unverified": 3}
EXIT_FAILURE = 4


def _database_ready() -> bool:
    """Whether the database answers and has been set up (`flask setup` / `db upgrade`)."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not Path(url.database).exists():
        return False  # asking would create an empty database file where none should be
    try:
        db.session.execute(select(VideoSDKKey.id).limit(1))
    except SQLAlchemyError:
        db.session.rollback()
        return False
    return True


def _signing_key(label: str | None) -> VideoSDKKey | None:
    """The stored key to sign with, or None to sign with the VIDEOSDK_* pair."""
    if not _database_ready():
        if label:
            raise click.ClickException("--key needs the database: run `flask --app webapp setup`.")
        return None
    if label:
        key = keyring.key_by_label(label)
        if key is None:
            raise click.ClickException(f"No key is labelled {label!r}.")
        return key
    keys = keyring.active_keys()
    env_apikey = current_app.config.get("VIDEOSDK_API_KEY")
    matching = [key for key in keys if key.apikey == env_apikey]
    if matching:
        return matching[0]
    if len(keys) == 1:
        return keys[0]
    if not keys:
        return None
    labels = ", ".join(key.label for key in keys)
    raise click.ClickException(f"Several keys can sign ({labels}): choose one with --key.")


@token_cli.command("create")
@click.option("--key", "key_label", help="Label of a stored key (default: the only one).")
@click.option("--permission", "permissions", multiple=True,
              type=click.Choice([p.value for p in Permission]), help="Repeatable; allow_join.")
@click.option("--role", "roles", multiple=True, type=click.Choice([r.value for r in Role]))
@click.option("--room", help="Only valid for this roomId.")
@click.option("--participant", help="Only valid for this participantId.")
@click.option("--expires-in", default="1h", show_default=True,
              help="expiresIn syntax: 10m, 24h, 7d.")
@click.option("--agent", is_flag=True, help="The AI-agent form: only apikey and permissions.")
@click.option("--json", "as_json", is_flag=True, help="Print the API's 201 answer instead.")
def token_create(key_label: str | None, permissions: tuple[str, ...], roles: tuple[str, ...],
                 room: str | None, participant: str | None, expires_in: str, agent: bool,
                 as_json: bool) -> None:
    """Mint a token like the console does; prints only the token."""
    request = MintRequest(
        permissions=permissions or (Permission.ALLOW_JOIN.value,),
        roles=roles or None,
        room_id=room,
        participant_id=participant,
        expires_in=expires_in,
        agent=agent,
    )
    key = _signing_key(key_label)
    try:
        if key is not None:
            minted = issuance.issue(request, key, via="cli")
        else:
            minted = _mint_with_environment_pair(request)
    except MintError as error:
        if key is not None:
            issuance.refuse(error, key_label=key.label, via="cli")
        for field, messages in error.errors.items():
            for message in messages:
                click.echo(f"refused: {field}: {message}", err=True)
        sys.exit(1)
    except keyring.KeyringError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_FAILURE)
    if as_json:
        click.echo(json.dumps(minted.as_dict(), indent=2))
    else:
        click.echo(minted.token)


def _mint_with_environment_pair(request: MintRequest) -> MintedToken:
    env_key = keyring.environment_key()
    if env_key is None:
        raise click.ClickException(
            "No stored key and no VIDEOSDK_API_KEY / VIDEOSDK_SECRET_KEY in the environment."
        )
    policies = [issuance.ceiling_policy(), Policy(
        max_lifetime=env_key.max_lifetime or keyring.max_token_lifetime(),
        permissions=frozenset(p.value for p in Permission),
        roles=frozenset(r.value for r in Role),
    )]
    return mint(request, apikey=env_key.apikey, secret=env_key.secret, policies=policies,
                now=utcnow())


def _parse_moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return read_moment(value)
    except (ValueError, OverflowError) as error:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time such as "
                                 "2026-11-27T10:00:00Z.", param_hint="--at") from error


@token_cli.command("inspect")
@click.argument("token", required=False)
@click.option("--room", help="The roomId the customer tried.")
@click.option("--participant", help="The participantId the customer tried.")
@click.option("--use", type=click.Choice(["join", "api"]), help="What the token was used for.")
@click.option("--at", "at_text", help="When it was tried (ISO 8601; no offset means UTC).")
@click.option("--secret-file", type=click.File("rb"), help="A one-off secret to check with.")
@click.option("--json", "as_json", is_flag=True, help="Print the API's answer instead.")
def token_inspect(token: str | None, room: str | None, participant: str | None, use: str | None,
                  at_text: str | None, secret_file: Any, as_json: bool) -> None:
    """Diagnose a token; exit 0 valid, 1 invalid, 3 unverified, 2 usage error, 4 failure."""
    at = _parse_moment(at_text)
    # Any bytes on stdin still get a diagnosis: what is not UTF-8 reads as U+FFFD.
    raw = sys.stdin.buffer.read().decode("utf-8", "replace") \
        if token in (None, "-") else token
    secret = _read_secret_file(secret_file) if secret_file is not None else None
    try:
        if _database_ready():
            diagnosis = issuance.inspect(raw, via="cli", room_id=room, participant_id=participant,
                                         use=use, at=at, secret=secret or None)
        else:
            env_key = keyring.environment_key()
            diagnosis = diagnose(raw, keys=[env_key] if env_key else [], room_id=room,
                                 participant_id=participant, use=use, at=at,
                                 secret=secret or None)
    except keyring.KeyringError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_FAILURE)
    if as_json:
        click.echo(json.dumps(diagnosis.as_dict(), indent=2))
    else:
        click.echo(diagnosis.report(), nl=False)
    sys.exit(INSPECT_EXIT[diagnosis.verdict.value])


def _read_secret_file(handle: Any) -> str:
    try:
        return str(handle.read().decode("utf-8")).strip()
    except UnicodeDecodeError as error:
        raise click.BadParameter(
            f"{handle.name} is not UTF-8 text; a VideoSDK secret is 64 hexadecimal characters.",
            param_hint="'--secret-file'") from error


def init_app(app: Flask) -> None:
    """Register the commands on the app's `flask` command."""
    app.cli.add_command(setup_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(token_cli)
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
    audit.record("client.created", target=client.name, commit=False,
                 details=describe_client(client))
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


def _client_named(name: str) -> ApiClient:
    client = db.session.execute(
        select(ApiClient).where(ApiClient.name == name)).scalar_one_or_none()
    if client is None:
        raise click.ClickException(f"No client is named {name!r}.")
    return client


@clients_cli.command("update")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES),
              help="Its scopes from now on; repeat for both. Not given: unchanged.")
@click.option("--key", "key_labels", multiple=True,
              help="Label of a key it may use from now on; repeat. Not given: unchanged.")
@click.option("--every-key", is_flag=True, help="It may use every active key.")
@click.option("--max-ttl", "max_ttl", default=None, help="Longest token it may ask for.")
@click.option("--no-max-ttl", is_flag=True, help="No ceiling of its own: each key's applies.")
@click.option("--rate-limit", default=None, help='Such as "600/minute".')
def clients_update(name: str, scopes: tuple[str, ...], key_labels: tuple[str, ...],
                   every_key: bool, max_ttl: str | None, no_max_ttl: bool,
                   rate_limit: str | None) -> None:
    """Change what a client may do; its key stays the same. Only what is given changes."""
    if key_labels and every_key:
        raise click.UsageError("Give --key or --every-key, not both.")
    if max_ttl is not None and no_max_ttl:
        raise click.UsageError("Give --max-ttl or --no-max-ttl, not both.")
    client = _client_named(name)
    before = describe_client(client)
    try:
        update_policy(
            client, scopes or client.scopes,
            key_labels=() if every_key else key_labels or before["keys"],
            max_lifetime=None if no_max_ttl else max_ttl or before["maxLifetime"],
            rate_limit=rate_limit or client.rate_limit)
    except ClientError as error:
        db.session.rollback()
        audit.record("client.updated", outcome="refused", target=name,
                     details={"reason": str(error)})
        raise click.ClickException(str(error)) from error
    changes = audit.changes(before, describe_client(client))
    if not changes:
        click.echo(f"Nothing to change in client {name!r}.")
        return
    audit.record("client.updated", target=name, details={"changes": changes}, commit=False)
    db.session.commit()
    click.echo(f"Updated client {name!r}: " + "; ".join(
        f"{_CLIENT_FIELDS[field]} {_shown(value)}" for field, value in changes.items()) + ".")


_CLIENT_FIELDS = {"scopes": "scopes", "keys": "keys", "maxLifetime": "max TTL",
                  "rateLimit": "rate limit"}


def _shown(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(value) or "every active key"
    return "each key's own" if value is None else str(value)


@clients_cli.command("revoke")
@click.argument("name")
def clients_revoke(name: str) -> None:
    """Revoke a client: its key stops working at its next request."""
    client = _client_named(name)
    if client.revoked_at is not None:
        click.echo(f"Client {name!r} was revoked already.")
        return
    revoke_client(client)
    audit.record("client.revoked", target=client.name, commit=False)
    db.session.commit()
    click.echo(f"Revoked client {name!r}.")
