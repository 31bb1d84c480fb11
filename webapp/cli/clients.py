"""`flask clients`: API clients and their bearer keys (SPEC 6)."""

from __future__ import annotations

import click
from sqlalchemy import select

from webapp.characters import visible
from webapp.cli.setup import StoredRecordsGroup
from webapp.extensions import db
from webapp.models import ApiClient
from webapp.services import audit
from webapp.services.api_clients import SCOPES, ClientError, create_client, update_policy
from webapp.services.api_clients import describe as describe_client
from webapp.services.api_clients import revoke as revoke_client
from webapp.tokens import (
    format_lifetime,
)

clients_cli = StoredRecordsGroup("clients", help="API clients and their bearer keys.")


@clients_cli.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(SCOPES),
              help="tokens:mint (POST /api/v1/tokens and the drop-in routes /get-token, "
                   "/create-meeting, /validate-meeting) and/or tokens:inspect; repeat for both.")
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
        keys_text = ",".join(visible(key.label) for key in client.keys) or "*"
        lifetime = format_lifetime(client.max_lifetime) if client.max_lifetime else "-"
        state = "revoked" if client.revoked_at else "active"
        # Names stored before control characters were refused print escaped, not raw.
        click.echo(f"{visible(client.name)}\t{client.key_prefix}…\t{','.join(client.scopes)}\t"
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
