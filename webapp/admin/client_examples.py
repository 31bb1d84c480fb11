"""The example calls on the client-created page: ones that work for that client as configured
(SPEC 4 `/admin/clients`: "the client key is shown once at creation, with example calls that
work for that client as configured").

Each example follows the API's own rules (webapp/api/views.py): POST /api/v1/tokens needs
`apikey` when the client may sign with several keys; /get-token signs with the client's only
key, with VideoSDK's example defaults (allow_join and allow_mod for 10 minutes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from webapp.api.views import DROPIN_LIFETIME, DROPIN_PERMISSIONS, INSPECT, MINT

# The API's own scopes and /get-token defaults: the examples follow the rules they document.
from webapp.characters import visible
from webapp.models import ApiClient, VideoSDKKey
from webapp.services.api_clients import usable_keys
from webapp.tokens import format_lifetime, parse_lifetime

EXAMPLE_LIFETIME = 3600.0  # what the mint example asks for, unless a maximum is lower


@dataclass(frozen=True)
class Example:
    """One call: a title, the shell command, a line on what it does."""

    title: str
    command: str
    note: str


@dataclass(frozen=True)
class Examples:
    """The calls offered, and why /get-token is not among them when it is not."""

    calls: tuple[Example, ...]
    no_dropin: str | None


def _named(key: VideoSDKKey) -> str:
    """A key's label as shown: characters stored before names refused them, escaped."""
    return visible(key.label)


def _curl(url: str, client_key: str, body: dict[str, object] | None) -> str:
    lines = [f"curl -sS -X POST {url} \\", f'  -H "Authorization: Bearer {client_key}"']
    if body is not None:
        lines[-1] += " \\"
        lines.append('  -H "Content-Type: application/json" \\')
        lines.append(f"  -d '{json.dumps(body)}'")
    return "\n".join(lines)


def _dropin_refusal(client: ApiClient, keys: list[VideoSDKKey]) -> str | None:
    """Why /get-token would refuse this client, or None when it works."""
    if len(keys) != 1:
        return (f"/get-token is not offered: it signs with the client's only key, and this "
                f"client may use {len(keys)}. Allow it exactly one key to use /get-token, or "
                "name the key in apikey with POST /api/v1/tokens as above.")
    key = keys[0]
    if not set(DROPIN_PERMISSIONS) <= set(key.allowed_permissions):
        return (f"/get-token is not offered: it asks for allow_join and allow_mod, as "
                f"VideoSDK's example servers do, and key '{_named(key)}' does not allow both.")
    ceilings = [float(key.max_lifetime)] + ([float(client.max_lifetime)]
                                            if client.max_lifetime else [])
    if min(ceilings) < parse_lifetime(DROPIN_LIFETIME):
        return ("/get-token is not offered: it asks for a 10-minute token, beyond this "
                "client's or key's max lifetime.")
    return None


def examples(client: ApiClient, client_key: str, base_url: str) -> Examples:
    """The calls that work for `client` as stored now, with its plaintext key written in."""
    base = base_url.rstrip("/")
    keys = usable_keys(client)
    calls: list[Example] = []
    no_dropin: str | None = None
    if MINT in client.scopes:
        if not keys:
            no_dropin = ("No example of minting: this client has no usable key yet. Allow it "
                         "a key (or add one) first.")
        else:
            key = keys[0]
            ceilings = [EXAMPLE_LIFETIME, float(key.max_lifetime)]
            if client.max_lifetime:
                ceilings.append(float(client.max_lifetime))
            body: dict[str, object] = {}
            if len(keys) > 1:
                body["apikey"] = key.apikey
            permission = "allow_join" if "allow_join" in key.allowed_permissions else \
                sorted(key.allowed_permissions)[0]
            body["permissions"] = [permission]
            body["expiresIn"] = format_lifetime(min(ceilings))
            which = (f"names key '{_named(key)}' in apikey: this client may sign with "
                     f"{len(keys)} keys" if len(keys) > 1 else f"signs with key '{_named(key)}'")
            calls.append(Example("Mint a token", _curl(f"{base}/api/v1/tokens", client_key, body),
                                 f"Answers 201 with the token; {which}."))
            no_dropin = _dropin_refusal(client, keys)
            if no_dropin is None:
                calls.append(Example(
                    "VideoSDK's /get-token, as their example servers answer it",
                    _curl(f"{base}/get-token", client_key, None),
                    f'Answers 200 {{"token": …}} signed with key \'{_named(key)}\': allow_join '
                    "and allow_mod for 10 minutes."))
    if INSPECT in client.scopes:
        calls.append(Example(
            "Inspect a token", _curl(f"{base}/api/v1/tokens/inspect", client_key,
                                     {"token": "PASTE.A.TOKEN"}),
            "Answers 200 with the verdict, the summary and every reason."))
    return Examples(tuple(calls), no_dropin)
