"""What an app team writes against the client openapi-python-client generates from the document.

Run by tests/clients/test_generated_clients.py against a live server, after `mypy --strict`
has checked it with the generated package `token_console_client` on its path. Arguments:
BASE_URL CLIENT_KEY LIMITED_CLIENT_KEY. Prints one JSON object of what it saw.
"""

from __future__ import annotations

import json
import sys

from token_console_client import AuthenticatedClient
from token_console_client.api.drop_in import get_token_drop_in, post_token_drop_in
from token_console_client.api.tokens import inspect_token, introspect_token, mint_token
from token_console_client.models import (
    ActiveIntrospection,
    Diagnosis,
    DropInForm,
    DropInRequest,
    DropInToken,
    InactiveIntrospection,
    InspectRequest,
    IntrospectionForm,
    KnownFieldErrorCode,
    KnownProblemCode,
    MintedToken,
    MintRequest,
    Permission,
    Problem,
    Role,
    Use,
    Verdict,
)
from token_console_client.types import UNSET


def problem_of(answer: object) -> Problem:
    """The Problem a refusal parsed to; anything else is a broken client."""
    if not isinstance(answer, Problem):
        raise AssertionError(f"expected a Problem, got {answer!r}")
    return answer


def main(base_url: str, key: str, limited_key: str) -> dict[str, object]:
    """Mint, inspect, introspect, then meet a 401, a 422 and a 429; what each answer held."""
    seen: dict[str, object] = {}
    client = AuthenticatedClient(base_url=base_url, token=key)

    minted = mint_token.sync_detailed(client=client, body=MintRequest(
        permissions=[Permission.ALLOW_JOIN], roles=[Role.RTC], room_id="standup-42",
        expires_in="10m"))
    if not isinstance(minted.parsed, MintedToken):
        raise AssertionError(f"mint: {minted.status_code} {minted.content!r}")
    token = minted.parsed
    seen["mint"] = {"status": int(minted.status_code), "expiresIn": token.expires_in,
                    "permissions": [p.value for p in token.claims.permissions],
                    "rateLimit": minted.headers.get("X-RateLimit-Limit")}

    # The claims of a minted token, sent again as a request: the enums are the same types.
    again = MintRequest(permissions=token.claims.permissions,
                        roles=token.claims.roles or UNSET, room_id=token.claims.room_id)
    seen["again"] = int(mint_token.sync_detailed(client=client, body=again).status_code)

    inspected = inspect_token.sync_detailed(client=client, body=InspectRequest(
        token=token.token, room_id="standup-42", use=Use.JOIN))
    diagnosis = inspected.parsed
    if not isinstance(diagnosis, Diagnosis):
        raise AssertionError(f"inspect: {inspected.status_code} {inspected.content!r}")
    claims = diagnosis.claims
    seen["inspect"] = {"verdict": diagnosis.verdict.value,
                       "valid": diagnosis.verdict is Verdict.VALID,
                       "summary": bool(diagnosis.summary),
                       "roomId": None if claims is None else claims.room_id,
                       "reasons": [str(reason.code) for reason in diagnosis.reasons]}

    active = introspect_token.sync_detailed(client=client, body=IntrospectionForm(
        token=token.token)).parsed
    inactive = introspect_token.sync_detailed(client=client, body=IntrospectionForm(
        token="not-a-token")).parsed
    if not isinstance(active, ActiveIntrospection):
        raise AssertionError(f"introspect: {active!r}")
    if not isinstance(inactive, InactiveIntrospection):
        raise AssertionError(f"introspect: {inactive!r}")
    seen["introspect"] = {"scope": active.scope, "token_type": active.token_type,
                          "inactive": inactive.to_dict()}

    # VideoSDK's example-server route, by query string, JSON body and form body.
    drop_ins = [get_token_drop_in.sync(client=client, room_id="standup-42", peer_id="alice"),
                post_token_drop_in.sync(client=client, body=DropInRequest(room_id="standup-42")),
                post_token_drop_in.sync(client=client, body=DropInForm(peer_id="alice"))]
    seen["dropIn"] = [isinstance(answer, DropInToken) and answer.token.count(".") == 2
                      for answer in drop_ins]

    stranger = AuthenticatedClient(base_url=base_url, token="tck_" + "0" * 38)
    refused = mint_token.sync_detailed(client=stranger, body=MintRequest(
        permissions=[Permission.ALLOW_JOIN]))
    problem = problem_of(refused.parsed)
    seen["401"] = {"status": int(refused.status_code),
                   "code": problem.code == KnownProblemCode.UNAUTHORIZED,
                   "challenge": refused.headers.get("WWW-Authenticate")}

    unitless = mint_token.sync_detailed(client=client, body=MintRequest(
        permissions=[Permission.ALLOW_JOIN], expires_in="120"))
    problem = problem_of(unitless.parsed)
    field_errors = problem.field_errors
    codes = [] if not field_errors else [str(e.code) for e in field_errors["expiresIn"]]
    seen["422"] = {"status": int(unitless.status_code),
                   "code": problem.code == KnownProblemCode.VALIDATION_FAILED,
                   "fieldCodes": codes,
                   "pattern": codes == [KnownFieldErrorCode.PATTERN.value]}

    limited = AuthenticatedClient(base_url=base_url, token=limited_key)
    statuses = []
    for _ in range(5):
        answer = introspect_token.sync_detailed(client=limited, body=IntrospectionForm(
            token=token.token))
        statuses.append(int(answer.status_code))
        if answer.status_code == 429:
            problem = problem_of(answer.parsed)
            seen["429"] = {"code": problem.code == KnownProblemCode.RATE_LIMITED,
                           "retryAfter": answer.headers.get("Retry-After"),
                           "remaining": answer.headers.get("X-RateLimit-Remaining")}
            break
    seen["statuses"] = statuses
    return seen


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
