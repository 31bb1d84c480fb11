"""`flask keys`: VideoSDK API key and secret pairs (SPEC 6)."""

from __future__ import annotations

import click
from cryptography.fernet import InvalidToken

from webapp.characters import visible
from webapp.cli.prompts import read_secret
from webapp.cli.setup import StoredRecordsGroup
from webapp.extensions import db
from webapp.services import audit, videosdk_keys
from webapp.tokens import iso_utc

# Secrets come from a hidden prompt or
# stdin, never from an argument, so they stay out of shell history and `ps`.

keys_cli = StoredRecordsGroup("keys", help="VideoSDK API key and secret pairs.")


@keys_cli.command("add")
@click.option("--label", required=True, help="A name for people, such as production.")
@click.option("--apikey", required=True, help="The API key from the VideoSDK dashboard.")
@click.option("--max-ttl", "max_ttl", default=None,
              help="Longest token this key may sign, such as 24h (default: 24h).")
@click.option("--secret-stdin", is_flag=True, help="Read the secret from standard input.")
def keys_add(label: str, apikey: str, max_ttl: str | None, secret_stdin: bool) -> None:
    """Store a key pair; the secret is encrypted and shown only as its last 4 characters."""
    secret = read_secret(secret_stdin, "Secret", trim=True).strip()
    try:
        key = videosdk_keys.add_key(label, apikey, secret, max_lifetime=max_ttl)
    except videosdk_keys.KeyringError as error:
        db.session.rollback()
        audit.record("key.created", outcome="refused", details={"reason": str(error)})
        raise click.ClickException(str(error)) from error
    shown = videosdk_keys.describe(key)
    audit.record("key.created", target=key.label, commit=False, details={
        "apikey": key.apikey, "maxLifetime": shown["maxLifetime"],
        "permissions": shown["allowedPermissions"], "roles": shown["allowedRoles"]})
    db.session.commit()
    click.echo(f"Stored key {key.label!r}: apikey {key.apikey}, secret {shown['secret']}, "
               f"max lifetime {shown['maxLifetime']}.")


@keys_cli.command("list")
def keys_list() -> None:
    """List keys: label, API key, masked secret, maximum lifetime, state."""
    for key in videosdk_keys.all_keys():
        shown = videosdk_keys.describe(key)
        state = ["disabled" if key.disabled else "active"] + (["sandbox"] if key.sandbox else [])
        # Labels stored before control characters were refused print escaped, not raw.
        click.echo(f"{visible(key.label)}\t{visible(key.apikey)}\t{shown['secret']}\t{shown['maxLifetime']}\t"
                   + ",".join(state))


@keys_cli.command("set-secret")
@click.argument("label")
@click.option("--secret-stdin", is_flag=True, help="Read the new secret from standard input.")
def keys_set_secret(label: str, secret_stdin: bool) -> None:
    """Replace a key's secret; the old one is kept 90 days, never shown, for the diagnosis."""
    key = videosdk_keys.key_by_label(label)
    if key is None:
        raise click.ClickException(f"No key is labelled {label!r}.")
    secret = read_secret(secret_stdin, "Secret", trim=True).strip()
    try:
        kept_until = videosdk_keys.replace_secret(key, secret)
    except videosdk_keys.KeyringError as error:
        db.session.rollback()
        audit.record("key.secret_replaced", target=label, outcome="refused",
                     details={"reason": str(error)})
        raise click.ClickException(str(error)) from error
    db.session.commit()
    kept = (f"the old one is kept until {iso_utc(kept_until)} so that the inspector names "
            "tokens still signed with it" if kept_until is not None else
            "the old one could not be decrypted with ENCRYPTION_KEYS and is not kept")
    click.echo(f"Replaced the secret of key {key.label!r}: now {videosdk_keys.masked_secret(key)}; "
               f"{kept}.")


@keys_cli.command("rotate-encryption")
def keys_rotate_encryption() -> None:
    """Re-encrypt every stored secret under the newest key of ENCRYPTION_KEYS."""
    try:
        rotation = videosdk_keys.rotate_encryption()
    except (videosdk_keys.KeyringError, InvalidToken) as error:
        db.session.rollback()
        raise click.ClickException(
            "A stored secret cannot be decrypted with ENCRYPTION_KEYS: keep the old key "
            "listed after the new one until rotation has run.") from error
    audit.record("key.encryption_rotated", commit=False, details={
        "count": rotation.secrets, "replacedCount": rotation.replaced_secrets})
    db.session.commit()
    click.echo(f"Re-encrypted {_count(rotation.secrets, 'secret')} and "
               f"{_count(rotation.replaced_secrets, 'replaced secret')} "
               "under the newest encryption key.")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
