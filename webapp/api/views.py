"""The API's endpoints: thin adapters from JSON to webapp.services.issuance and back (SPEC 5)."""

from __future__ import annotations

import re
from typing import Any

from flask import Response, abort, jsonify, request
from flask.typing import ResponseReturnValue

from webapp.api import bp, dropin
from webapp.api.authentication import client_required, current_client
from webapp.api.bodies import (
    form_or_json,
    inspect_fields,
    json_object,
    mint_fields,
    near_misses,
    read_token,
)
from webapp.api.openapi import document
from webapp.api.problems import (
    ApiProblem,
    forbidden,
    not_offered,
    policy_violation,
    unavailable,
    upstream_timeout,
    upstream_unavailable,
    validation_failed,
)
from webapp.models import ApiClient, VideoSDKKey
from webapp.services import issuance, videosdk_api
from webapp.services.api_clients import usable_keys
from webapp.services.authorization import public
from webapp.services.videosdk_keys import KeyringError
from webapp.tokens import (
    FieldError,
    FieldErrorCode,
    MintedToken,
    MintError,
    MintRequest,
    Permission,
    PolicyViolation,
    Role,
    Verdict,
)
from webapp.tokens.field_errors import FieldErrors, add_error

MINT = "tokens:mint"
INSPECT = "tokens:inspect"

# The defaults of VideoSDK's example token servers, which /get-token stands in for.
DROPIN_PERMISSIONS = (Permission.ALLOW_JOIN.value, Permission.ALLOW_MOD.value)
DROPIN_LIFETIME = "10m"
DROPIN_ROLES = (Role.RTC.value,)
# The token minted for a call to VideoSDK's REST API when the caller sends none (SPEC 5):
# the v2 server API's role, for one minute.
SERVER_API_PERMISSIONS = (Permission.ALLOW_JOIN.value,)
SERVER_API_ROLES = (Role.CRAWLER.value,)
SERVER_API_LIFETIME = 60
# The example servers read roomId and peerId as written and ignore every other name, so a
# caller's `?roomid=` or `participantId` would get a token for any room or participant: a
# name that is roomId or peerId but for letter case, or participantId in any case, is
# refused (SPEC 5, issue 16); every other unknown name is ignored, as the examples do.
DROPIN_MEANT = {"roomid": "roomId", "peerid": "peerId", "participantid": "peerId"}
# How the domain's fields are named to a /get-token caller.
DROPIN_NAMES = {"participantId": "peerId"}


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
        raise validation_failed({"apikey": [FieldError(FieldErrorCode.KEY_CHOICE, reason)]})
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
        errors = _as_named(error.field_errors, field_names or {})
        if isinstance(error, PolicyViolation):
            raise policy_violation(errors) from error
        raise validation_failed(errors) from error


def _as_named(errors: FieldErrors, names: dict[str, str]) -> FieldErrors:
    """The domain's errors with each field named as this endpoint's caller writes it, in the
    key and in the messages (the drop-in's peerId, never participantId); codes kept."""
    if not names:
        return errors
    domain_name = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    return {names.get(field, field): [
        FieldError(error.code, domain_name.sub(lambda m: names[m.group(1)], error.message))
        for error in items] for field, items in errors.items()}


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
    errors: FieldErrors = {}
    token = read_token(form_or_json(), errors)
    if errors:
        raise validation_failed(errors)
    diagnosis = issuance.inspect(token, via="introspect", actor=_actor(client),
                                 actor_kind="client")
    claims = diagnosis.claims or {}
    permissions = claims.get("permissions")
    if diagnosis.verdict != Verdict.VALID or not isinstance(permissions, list):
        return jsonify(active=False)
    answer: dict[str, object] = {
        "active": True,
        "scope": " ".join(str(p) for p in permissions),
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
    refused = near_misses([*request.args, *body], DROPIN_MEANT, fold=str.casefold)
    if refused:
        raise validation_failed(refused, detail=(
            "/get-token reads roomId and peerId exactly as written and ignores other names: "
            "as sent, the token would be valid for any room and any participant."))
    for name in ("roomId", "peerId"):
        if body.get(name) is not None:
            values[name] = body[name]
    errors: FieldErrors = {}
    for name in ("roomId", "peerId"):
        if values[name] is not None and not isinstance(values[name], str):
            add_error(errors, name, FieldErrorCode.TYPE, f"{name} must be text.")
    if errors:
        raise validation_failed(errors)
    # The example servers test `if (roomId)`: an empty value counts as absent.
    return values["roomId"] or None, values["peerId"] or None


def _only_key(client: ApiClient, route: str) -> VideoSDKKey:
    """The client's only usable key, which the drop-in routes sign with (422 otherwise)."""
    keys = usable_keys(client)
    if len(keys) != 1:
        raise validation_failed({"apikey": [FieldError(
            FieldErrorCode.KEY_CHOICE,
            f"{route} signs with the client's only key, but this client may use "
            f"{len(keys)}: allow it exactly one key, or use POST /api/v1/tokens.")]})
    return keys[0]


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
        key = _only_key(client, "/get-token")
        key_label = key.label
        scoped = room_id is not None or peer_id is not None
        minted = _issue(client, key, MintRequest(
            permissions=DROPIN_PERMISSIONS,
            roles=DROPIN_ROLES if scoped else None,
            room_id=room_id,
            participant_id=peer_id,
            expires_in=DROPIN_LIFETIME,
        ), via="get-token", field_names=DROPIN_NAMES)
    except ApiProblem as error:
        _mint_refused(error, client, key_label, via="get-token")
        raise
    return jsonify(token=minted.token)


def _meeting_token(body: dict[str, Any]) -> str | None:
    """The `token` of a /create-meeting or /validate-meeting body; empty counts as absent."""
    value = body.get("token")
    if value is None or value == "":
        return None
    errors: FieldErrors = {}
    token = read_token(body, errors)
    if errors:
        raise validation_failed(errors)
    return token


def _region(body: dict[str, Any]) -> str | None:
    """The `region` of a /create-meeting body, such as sg001; empty counts as absent."""
    value = body.get("region")
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not videosdk_api.REGION.fullmatch(value):
        raise validation_failed({"region": [FieldError(
            FieldErrorCode.PATTERN if isinstance(value, str) else FieldErrorCode.TYPE,
            "region must be a VideoSDK region code such as sg001 or us002 (letters, digits, "
            "- and _, at most 32).")]})
    return value


def _server_api_token(client: ApiClient, via: str) -> MintedToken:
    """A 60 s crawler token from the client's only key, minted, recorded and audited."""
    key_label: str | None = None
    try:
        key = _only_key(client, f"/{via} without a token")
        key_label = key.label
        if key.sandbox:
            raise validation_failed({"token": [
                f"The client's only key '{key.label}' is this service's sandbox key, which "
                "VideoSDK does not know: store a real VideoSDK key, or send a token."]})
        return _issue(client, key, MintRequest(
            permissions=SERVER_API_PERMISSIONS,
            roles=SERVER_API_ROLES,
            expires_in=SERVER_API_LIFETIME,
        ), via=via)
    except ApiProblem as error:
        _mint_refused(error, client, key_label, via=via)
        raise


def _relay(client: ApiClient, call: videosdk_api.Call, given: str | None,
           via: str) -> ResponseReturnValue:
    """Send the call with the given token (diagnosed first) or a minted one; VideoSDK's answer.

    A given token VideoSDK would refuse for its server API (SPEC 3 with use: api) is a 422
    whose detail is the diagnosis's summary, and is not sent.
    """
    actor = _actor(client)
    fingerprint: str | None
    if given is None:
        minted = _server_api_token(client, via)
        token, source, fingerprint = minted.token, "minted", minted.fingerprint
    else:
        diagnosis = issuance.inspect(given, via=via, use="api", room_id=call.room_id,
                                     actor=actor, actor_kind="client")
        if diagnosis.verdict is Verdict.INVALID or not videosdk_api.sendable_token(
                diagnosis.cleaned):
            videosdk_api.refuse(call.route, call.room_id, diagnosis.summary, via=via,
                                actor=actor, actor_kind="client")
            raise ApiProblem(422, "validation_failed", "VideoSDK would refuse this token",
                             diagnosis.summary, errors={"token": [diagnosis.summary]})
        token, source, fingerprint = diagnosis.cleaned, "given", diagnosis.fingerprint
    try:
        answer = videosdk_api.send(call, token, via=via, actor=actor, actor_kind="client",
                                   origin=source, fingerprint=fingerprint)
    except videosdk_api.TimedOut as error:
        raise upstream_timeout(str(error)) from error
    except videosdk_api.Unavailable as error:
        raise upstream_unavailable(str(error)) from error
    response = jsonify(answer.body)
    response.status_code = answer.status
    return response


def _require_videosdk_api() -> None:
    if videosdk_api.endpoint() is None:
        raise not_offered("VideoSDK's REST API is turned off on this deployment "
                          "(VIDEOSDK_API_ENDPOINT is empty): create and validate rooms with "
                          "VideoSDK directly.")


@dropin.post("/create-meeting")
@dropin.post("/create-meeting/")
@client_required(MINT)
def create_meeting() -> ResponseReturnValue:
    """VideoSDK's example `/create-meeting/`: POST {endpoint}/rooms, its answer as it came."""
    _require_videosdk_api()
    body = form_or_json()
    call = videosdk_api.create_room(_region(body))
    return _relay(current_client(), call, _meeting_token(body), via="create-meeting")


@dropin.post("/validate-meeting/<path:meetingId>")
@client_required(MINT)
def validate_meeting(meetingId: str) -> ResponseReturnValue:  # noqa: N803 - the examples' name
    """VideoSDK's example `/validate-meeting/:meetingId`: GET {endpoint}/rooms/validate/<id>."""
    _require_videosdk_api()
    client = current_client()
    if not videosdk_api.valid_room_id(meetingId):
        reason = ("meetingId must be 1 to 64 letters, digits, - or _ (a VideoSDK room id such "
                  "as abcd-efgh-ijkl); it was not sent to VideoSDK.")
        videosdk_api.refuse("GET /rooms/validate", None, reason, via="validate-meeting",
                            actor=_actor(client), actor_kind="client")
        raise validation_failed({"meetingId": [FieldError(FieldErrorCode.PATTERN, reason)]})
    body = form_or_json()
    return _relay(client, videosdk_api.validate_room(meetingId), _meeting_token(body),
                  via="validate-meeting")
