"""The API's endpoints: thin adapters from JSON to webapp.services.issuance and back (SPEC 5)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, jsonify, request
from flask.typing import ResponseReturnValue

from webapp.api import bp, dropin
from webapp.api.authentication import client_required, current_client
from webapp.api.bodies import form_or_json, inspect_fields, json_object, mint_fields, read_token
from webapp.api.openapi import document
from webapp.api.problems import (
    ApiProblem,
    forbidden,
    policy_violation,
    unavailable,
    validation_failed,
)
from webapp.models import ApiClient, VideoSDKKey
from webapp.services import issuance
from webapp.services.api_clients import usable_keys
from webapp.services.authorization import public
from webapp.services.videosdk_keys import KeyringError
from webapp.tokens import (
    MintedToken,
    MintError,
    MintRequest,
    Permission,
    PolicyViolation,
    Role,
    Verdict,
)

MINT = "tokens:mint"
INSPECT = "tokens:inspect"

# The defaults of VideoSDK's example token servers, which /get-token stands in for.
DROPIN_PERMISSIONS = (Permission.ALLOW_JOIN.value, Permission.ALLOW_MOD.value)
DROPIN_LIFETIME = "10m"
DROPIN_ROLES = (Role.RTC.value,)


def _problem(error: ApiProblem) -> Response:
    return error.response()


def _key_unusable(error: KeyringError) -> Response:
    # A stored secret that no longer decrypts (ENCRYPTION_KEYS lost or replaced): the
    # operator's problem, not the caller's, and not a crash. The console answers 503 too.
    return unavailable(str(error)).response()


bp.register_error_handler(ApiProblem, _problem)
dropin.register_error_handler(ApiProblem, _problem)
bp.register_error_handler(KeyringError, _key_unusable)
dropin.register_error_handler(KeyringError, _key_unusable)


@bp.after_request
@dropin.after_request
def _no_store(response: Response) -> Response:
    # Answers carry tokens and claims: no cache, proxy or browser history keeps them.
    response.headers["Cache-Control"] = "no-store"
    return response


def _actor(client: ApiClient) -> str:
    return issuance.client_issuer(client.name)


def _choose_key(client: ApiClient, apikey: str | None) -> VideoSDKKey:
    """The key to sign with: the one named, or the client's only key when none is named."""
    keys = usable_keys(client)
    if apikey is None:
        if len(keys) == 1:
            return keys[0]
        reason = ("This client has no usable key: ask an admin to allow one." if not keys else
                  f"This client may sign with {len(keys)} keys: name one in apikey.")
        raise validation_failed({"apikey": [reason]})
    for key in keys:
        if key.apikey == apikey:
            return key
    raise forbidden("This client may not sign with that apikey (unknown, disabled or not "
                    "allowed for this client).")


def _issue(client: ApiClient, key: VideoSDKKey, request_: MintRequest, via: str,
           field_names: dict[str, str] | None = None) -> MintedToken:
    """Mint through issuance; its refusals become 403 policy_violation or 422 problems."""
    try:
        return issuance.issue(request_, key, client=client, via=via)
    except MintError as error:
        # Name each field as this endpoint's caller wrote it (the drop-in's peerId).
        errors = {(field_names or {}).get(field, field): msgs
                  for field, msgs in error.errors.items()}
        if isinstance(error, PolicyViolation):
            raise policy_violation(errors) from error
        raise validation_failed(errors) from error


def _mint_refused(error: ApiProblem, client: ApiClient, key_label: str | None, via: str) -> None:
    reason = error.detail
    if error.errors:
        reason += " " + " ".join(f"{field}: {' '.join(msgs)}"
                                 for field, msgs in error.errors.items())
    issuance.refuse(ValueError(reason), key_label=key_label, via=via,
                    actor=_actor(client), actor_kind="client")


@bp.post("/tokens")
@client_required(MINT)
def mint_token() -> ResponseReturnValue:
    """Mint a token under the key's and the client's policy: 201 with the token and its claims."""
    client = current_client()
    key_label: str | None = None
    try:
        fields = mint_fields(json_object())
        key = _choose_key(client, fields.apikey)
        key_label = key.label
        minted = _issue(client, key, fields.request, via="api")
    except ApiProblem as error:
        _mint_refused(error, client, key_label, via="api")
        raise
    return jsonify(minted.as_dict()), 201


@bp.post("/tokens/inspect")
@client_required(INSPECT)
def inspect_token() -> ResponseReturnValue:
    """The SPEC 3 diagnosis of a token, at a chosen moment and use, optionally with a secret."""
    client = current_client()
    fields = inspect_fields(json_object())
    diagnosis = issuance.inspect(
        fields.token,
        via="api",
        room_id=fields.room_id,
        participant_id=fields.participant_id,
        use=fields.use,
        at=fields.at,
        secret=fields.secret,
        actor=_actor(client),
        actor_kind="client",
    )
    return jsonify(diagnosis.as_dict())


def _whole_seconds(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if float(value).is_integer() else None


@bp.post("/tokens/introspect")
@client_required(INSPECT)
def introspect_token() -> ResponseReturnValue:
    """RFC 7662: whether the token would be accepted now, else exactly {"active": false}."""
    client = current_client()
    errors: dict[str, list[str]] = {}
    token = read_token(form_or_json(), errors)
    if errors:
        raise validation_failed(errors)
    diagnosis = issuance.inspect(token, via="introspect", actor=_actor(client),
                                 actor_kind="client")
    claims = diagnosis.claims or {}
    if diagnosis.verdict != Verdict.VALID or not isinstance(claims.get("permissions"), list):
        return jsonify(active=False)
    answer: dict[str, object] = {
        "active": True,
        "scope": " ".join(str(p) for p in claims["permissions"]),
        "token_type": "videosdk",
    }
    for name in ("exp", "iat"):
        seconds = _whole_seconds(claims.get(name))
        if seconds is not None:
            answer[name] = seconds
    if diagnosis.issuance is not None and diagnosis.issuance.client_id:
        answer["client_id"] = diagnosis.issuance.client_id
    return jsonify(answer)


@bp.get("/openapi.json")
@public
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 description of every endpoint, body, answer and error."""
    return jsonify(document())


def _dropin_fields() -> tuple[str | None, str | None]:
    """roomId and peerId from the query string, then a JSON or form body, as the examples read."""
    values: dict[str, Any] = {name: request.args.get(name) for name in ("roomId", "peerId")}
    body = form_or_json()
    for name in ("roomId", "peerId"):
        if body.get(name) is not None:
            values[name] = body[name]
    errors: dict[str, list[str]] = {}
    for name in ("roomId", "peerId"):
        if values[name] is not None and not isinstance(values[name], str):
            errors[name] = [f"{name} must be text."]
    if errors:
        raise validation_failed(errors)
    # The example servers test `if (roomId)`: an empty value counts as absent.
    return values["roomId"] or None, values["peerId"] or None


@dropin.route("/get-token", methods=["GET", "POST"])
@client_required(MINT)
def get_token() -> ResponseReturnValue:
    """VideoSDK's example `/get-token`: 200 {"token"} with their defaults, under this policy."""
    if request.method == "HEAD":
        # Flask answers HEAD with the GET view; a probe must not mint (and audit) a token.
        abort(405, valid_methods=["GET", "POST"])
    client = current_client()
    key_label: str | None = None
    try:
        room_id, peer_id = _dropin_fields()
        keys = usable_keys(client)
        if len(keys) != 1:
            raise validation_failed({"apikey": [
                f"/get-token signs with the client's only key, but this client may use "
                f"{len(keys)}: allow it exactly one key, or use POST /api/v1/tokens."]})
        key = keys[0]
        key_label = key.label
        scoped = room_id is not None or peer_id is not None
        minted = _issue(client, key, MintRequest(
            permissions=DROPIN_PERMISSIONS,
            roles=DROPIN_ROLES if scoped else None,
            room_id=room_id,
            participant_id=peer_id,
            expires_in=DROPIN_LIFETIME,
        ), via="get-token", field_names={"participantId": "peerId"})
    except ApiProblem as error:
        _mint_refused(error, client, key_label, via="get-token")
        raise
    return jsonify(token=minted.token)
