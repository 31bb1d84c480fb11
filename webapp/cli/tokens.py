"""`flask token`: mint and inspect VideoSDK tokens (SPEC 6)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.characters import visible_lines
from webapp.models import VideoSDKKey, utcnow
from webapp.services import issuance, videosdk_keys
from webapp.services.schema import SETUP_COMMAND, setup_needed
from webapp.tokens import (
    TRIMMED_NOTE,
    KnownKey,
    MintedToken,
    MintError,
    MintRequest,
    Permission,
    Policy,
    Role,
    diagnose,
    mint,
    read_moment,
    trim_secret,
)

token_cli = AppGroup("token", help="Mint and inspect VideoSDK tokens.")

INSPECT_EXIT = {"valid": 0, "invalid": 1, "unverified": 3}
EXIT_FAILURE = 4


def _database_ready() -> bool:
    """Whether stored keys can be read; without them tokens are signed with the VIDEOSDK_* pair."""
    return setup_needed() is None


def _signing_key(label: str | None) -> VideoSDKKey | None:
    """The stored key to sign with, or None to sign with the VIDEOSDK_* pair."""
    if not _database_ready():
        if label:
            raise click.ClickException(f"--key needs the database: run `{SETUP_COMMAND}`.")
        return None
    if label:
        key = videosdk_keys.key_by_label(label)
        if key is None:
            raise click.ClickException(f"No key is labelled {label!r}.")
        return key
    keys = videosdk_keys.active_keys()
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
    with _keyring_failure_exits():
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
    click.echo(json.dumps(minted.as_dict(), indent=2) if as_json else minted.token)


@contextmanager
def _keyring_failure_exits() -> Iterator[None]:
    """A stored secret that cannot be read (KeyringError: SECRET_KEY changed since it was
    stored) ends the command: `error: ...` on stderr, exit status EXIT_FAILURE (4)."""
    try:
        yield
    except videosdk_keys.KeyringError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_FAILURE)


def _environment_pair() -> KnownKey | None:
    """The VIDEOSDK_* pair of the environment, or None; notes on stderr when whitespace
    around its secret was removed."""
    env_key = videosdk_keys.environment_key()
    if env_key is not None and videosdk_keys.environment_secret()[1]:
        click.echo(f"note: VIDEOSDK_SECRET_KEY: {TRIMMED_NOTE}.", err=True)
    return env_key


def _mint_with_environment_pair(request: MintRequest) -> MintedToken:
    env_key = _environment_pair()
    if env_key is None:
        raise click.ClickException(
            "No stored key and no VIDEOSDK_API_KEY / VIDEOSDK_SECRET_KEY in the environment."
        )
    policies = [issuance.ceiling_policy(), Policy(
        max_lifetime=env_key.max_lifetime or videosdk_keys.max_token_lifetime(),
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
    with _keyring_failure_exits():
        if _database_ready():
            diagnosis = issuance.inspect(raw, via="cli", room_id=room, participant_id=participant,
                                         use=use, at=at, secret=secret or None)
        else:
            env_key = _environment_pair()
            diagnosis = diagnose(raw, keys=[env_key] if env_key else [], room_id=room,
                                 participant_id=participant, use=use, at=at,
                                 secret=secret or None)
    if as_json:
        click.echo(json.dumps(diagnosis.as_dict(), indent=2))
    else:
        # A pasted token's claims are anyone's text: no escape sequence reaches the terminal.
        click.echo(visible_lines(diagnosis.report()), nl=False)
    sys.exit(INSPECT_EXIT[diagnosis.verdict.value])


def _read_secret_file(handle: Any) -> str:
    try:
        secret, trimmed = trim_secret(str(handle.read().decode("utf-8")))
    except UnicodeDecodeError as error:
        raise click.BadParameter(
            f"{handle.name} is not UTF-8 text; a VideoSDK secret is 64 hexadecimal characters.",
            param_hint="'--secret-file'") from error
    if trimmed:
        click.echo(f"note: --secret-file: {TRIMMED_NOTE}.", err=True)
    return secret
