"""The OpenAPI 3.1 description of the API (SPEC 5), built once as a plain dict.

Kept next to the views it describes; tests/api checks the app against it with schemathesis.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from webapp.tokens import REASON_CODES, Permission, Role
from webapp.web.errors import PROBLEM_CODES

_PROBLEM = {"$ref": "#/components/schemas/Problem"}
_TEXT = {"type": "string"}
_OPTIONAL_TEXT = {"type": ["string", "null"]}
_INSTANT = {"type": "string", "format": "date-time",
            "description": "ISO 8601 in UTC with Z, such as 2025-01-31T09:30:00Z."}
_PERMISSION = {"type": "string", "enum": [p.value for p in Permission]}
_ROLE = {"type": "string", "enum": [r.value for r in Role]}

_ERRORS: dict[str, tuple[str, str]] = {
    "400": ("The body is not JSON (or not a form, where a form is accepted).",
            "validation_failed"),
    "401": ("No, unknown or revoked client key. Carries WWW-Authenticate: Bearer.", "unauthorized"),
    "403": ("The client lacks the scope or the key asked for.", "forbidden"),
    "413": ("The body is over 64 KiB.", "payload_too_large"),
    "422": ("A field is missing, of the wrong type, unknown, or breaks a VideoSDK rule; "
            "`errors` maps each field to its messages.", "validation_failed"),
    "429": ("Over the client's rate limit. Carries Retry-After.", "rate_limited"),
    "503": ("Nothing was done: storage cannot be reached or written right now (database "
            "unreachable, locked, disk full or read-only; retry after Retry-After), or a stored "
            "key cannot be used because its secret does not decrypt with ENCRYPTION_KEYS (an "
            "operator must fix the setting; the console says the same).",
            "service_unavailable"),
}

_RATE_HEADERS = {
    "X-RateLimit-Limit": {"description": "Requests allowed in the window.",
                          "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in the window.",
                              "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "When the window resets, in seconds since 1970.",
                          "schema": {"type": "integer"}},
}


def _problem_response(description: str, codes: tuple[str, ...],
                      headers: dict[str, Any] | None = None) -> dict[str, Any]:
    schema = {"allOf": [_PROBLEM, {"properties": {"code": {"enum": list(codes)}}}]}
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/problem+json": {"schema": schema}},
    }
    if headers:
        response["headers"] = headers
    return response


def _errors(*statuses: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status in statuses:
        description, code = _ERRORS[status]
        headers: dict[str, Any] | None = None
        codes: tuple[str, ...] = (code,)
        if status == "401":
            headers = {"WWW-Authenticate": {"required": True, "schema": _TEXT,
                                            "description": 'Bearer, or Bearer error="invalid_token"'
                                            " when a key was presented."}}
        elif status == "403":
            codes = ("forbidden", "policy_violation")
        elif status == "429":
            headers = {"Retry-After": {"required": True, "schema": {"type": "integer"},
                                       "description": "Seconds to wait."}, **_RATE_HEADERS}
        elif status == "503":
            headers = {"Retry-After": {"required": False, "schema": {"type": "integer"},
                                       "description": "Seconds to wait, when storage failed."}}
        out[status] = _problem_response(description, codes, headers)
    return out


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


_CLAIMS = {
    "type": "object",
    "description": "Exactly the claims signed: those asked for plus iat, exp and, when needed, "
                   "version 2.",
    "required": ["apikey", "permissions", "iat", "exp"],
    "properties": {
        "apikey": _TEXT,
        "permissions": {"type": "array", "items": _PERMISSION, "minItems": 1},
        "version": {"const": 2},
        "roomId": _TEXT,
        "participantId": _TEXT,
        "roles": {"type": "array", "items": _ROLE},
        "iat": {"type": "integer"},
        "exp": {"type": "integer"},
    },
    "additionalProperties": False,
}

_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details with the product's machine code.",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": _TEXT,
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": _TEXT,
            "code": {"type": "string",
                     "enum": sorted({*PROBLEM_CODES.values(), "policy_violation",
                                     "server_error", "bad_request"})},
            "errors": {"type": "object",
                       "description": "Each field's messages.",
                       "additionalProperties": {"type": "array", "items": _TEXT}},
        },
    },
    "MintRequest": {
        "type": "object",
        "required": ["permissions"],
        "additionalProperties": False,
        "properties": {
            "apikey": {**_OPTIONAL_TEXT, "description": "The VideoSDK API key to sign with; may "
                       "be left out when the client may use exactly one key."},
            "permissions": {"type": "array", "items": _PERMISSION, "minItems": 1,
                            "uniqueItems": True,
                            "description": "ask_join cannot go with allow_join or allow_mod; "
                                           "each value once."},
            "roles": {"type": ["array", "null"], "items": _ROLE, "minItems": 1,
                      "uniqueItems": True, "description": "Leave it out rather than empty; "
                                                          "each value once."},
            "roomId": _OPTIONAL_TEXT,
            "participantId": {**_OPTIONAL_TEXT, "description": "No whitespace."},
            "expiresIn": {
                "description": "Seconds, or jsonwebtoken expiresIn text with a unit ('10m', "
                               "'1.5h', '7 days'); default 1h. Unitless text is refused.",
                "oneOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string"},
                          {"type": "null"}],
            },
        },
    },
    "MintedToken": {
        "type": "object",
        "required": ["token", "apikey", "claims", "issuedAt", "expiresAt", "expiresIn"],
        "additionalProperties": False,
        "properties": {
            "token": {**_TEXT, "description": "The HS256 JWT; shown once, never stored."},
            "apikey": _TEXT,
            "claims": _CLAIMS,
            "issuedAt": _INSTANT,
            "expiresAt": _INSTANT,
            "expiresIn": {"type": "integer", "description": "Whole seconds."},
        },
    },
    "InspectRequest": {
        "type": "object",
        "required": ["token"],
        "additionalProperties": False,
        "properties": {
            "token": {**_TEXT, "description": "The pasted token, at most 8 KiB; surrounding "
                      "quotes, whitespace and a Bearer prefix are cleaned off."},
            "roomId": _OPTIONAL_TEXT,
            "participantId": _OPTIONAL_TEXT,
            "use": {"type": ["string", "null"], "enum": ["join", "api", None]},
            "at": {"type": ["string", "null"], "format": "date-time",
                   "description": "The moment of the attempt, ISO 8601; without an offset it is "
                                  "UTC. Default: now."},
            "secret": {**_OPTIONAL_TEXT, "writeOnly": True,
                       "description": "A one-off secret for this check only; never stored or "
                                      "logged."},
        },
    },
    "Reason": {
        "type": "object",
        "required": ["code", "severity", "message", "fix"],
        "additionalProperties": False,
        "properties": {
            "code": {"type": "string", "enum": list(REASON_CODES)},
            "severity": {"type": "string", "enum": ["error", "warning", "info"]},
            "message": _TEXT,
            "fix": _TEXT,
            "videosdkCode": {"type": "integer"},
        },
    },
    "Diagnosis": {
        "type": "object",
        "required": ["verdict", "summary", "reasons", "header", "claims", "signature",
                     "issuedAt", "expiresAt"],
        "additionalProperties": False,
        "properties": {
            "verdict": {"type": "string", "enum": ["valid", "invalid", "unverified"]},
            "summary": {"type": "string", "description": "One or two plain sentences for the "
                        "customer: the root cause and what to change (SPEC 3)."},
            "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}},
            "header": {"type": ["object", "null"]},
            "claims": {"type": ["object", "null"]},
            "signature": {
                "type": "object",
                "required": ["status"],
                "additionalProperties": False,
                "properties": {
                    "status": {"type": "string", "enum": ["verified", "mismatch", "unchecked"]},
                    "keyLabel": _TEXT,
                },
            },
            "issuedAt": {"type": ["string", "null"], "format": "date-time"},
            "expiresAt": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "IntrospectRequest": {
        "type": "object",
        "required": ["token"],
        "properties": {
            "token": _TEXT,
            "token_type_hint": {**_TEXT, "description": "Ignored (RFC 7662)."},
        },
    },
    "Introspection": {
        "description": "RFC 7662: the details when the token would be accepted now, else "
                       "exactly {\"active\": false}.",
        "oneOf": [
            {
                "type": "object",
                "required": ["active", "scope", "token_type"],
                "additionalProperties": False,
                "properties": {
                    "active": {"const": True},
                    "exp": {"type": "integer"},
                    "iat": {"type": "integer"},
                    "scope": {**_TEXT, "description": "The permissions, joined by spaces."},
                    "client_id": {**_TEXT, "description": "The API client that minted it, "
                                  "when one did."},
                    "token_type": {"const": "videosdk"},
                },
            },
            {
                "type": "object",
                "required": ["active"],
                "additionalProperties": False,
                "properties": {"active": {"const": False}},
            },
        ],
    },
    "DropInRequest": {
        "type": "object",
        "properties": {"roomId": _OPTIONAL_TEXT, "peerId": _OPTIONAL_TEXT},
    },
    "DropInToken": {
        "type": "object",
        "required": ["token"],
        "additionalProperties": False,
        "properties": {"token": _TEXT},
    },
}


def _ok(description: str, schema: str, status: str = "200") -> dict[str, Any]:
    return {status: {"description": description, "headers": _RATE_HEADERS,
                     "content": _json({"$ref": f"#/components/schemas/{schema}"})}}


_DROPIN_DESCRIPTION = (
    "Stands in for VideoSDK's example token servers: their client apps work by changing only "
    "the base URL and adding the Authorization header. Signs with the client's only key "
    "(422 when it may use none or several): permissions allow_join and allow_mod, lifetime 10m; "
    "with a roomId or peerId also version 2, roles [\"rtc\"], roomId and participantId = peerId. "
    "Other names are ignored, as the examples ignore them, except those that mean roomId or "
    "peerId in another letter case or spelling (roomid, peerID, participantId, meetingId, "
    "room_id): 422 validation_failed, \"did you mean roomId?\", named as sent."
)


def _dropin_operation(operation_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": "Fetch a token as VideoSDK's example servers answer it",
        "description": _DROPIN_DESCRIPTION,
        "security": [{"clientKey": ["tokens:mint"]}],
        "tags": ["drop-in"],
        **extra,
        "responses": {**_ok("The token.", "DropInToken"),
                      **_errors("400", "401", "403", "413", "422", "429", "503")},
    }


@cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every endpoint, body, answer and error."""
    dropin_query = [
        {"name": "roomId", "in": "query", "required": False, "schema": _TEXT},
        {"name": "peerId", "in": "query", "required": False, "schema": _TEXT,
         "description": "Becomes the participantId claim."},
    ]
    return _with_meetings({
        "openapi": "3.1.0",
        "info": {
            "title": "Token Console API",
            "version": "1",
            "description": "Mint and check VideoSDK access tokens under the team's keys and "
                           "policy. Errors are application/problem+json (RFC 9457) with a "
                           "machine `code`; an unknown route under /api/ is 404 not_found and a "
                           "wrong method 405 method_not_allowed with Allow. Times are ISO 8601 "
                           "UTC with Z; expiresIn is whole seconds.",
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": "tokens"}, {"name": "drop-in"}, {"name": "meta"}],
        "paths": {
            "/api/v1/tokens": {
                "post": {
                    "operationId": "mintToken",
                    "summary": "Mint a token",
                    "description": "Signs exactly the claims asked for plus iat, exp and, when "
                                   "needed, version 2, under the key's and the client's policy. "
                                   "A request beyond the policy is refused whole "
                                   "(policy_violation), never trimmed.",
                    "tags": ["tokens"],
                    "security": [{"clientKey": ["tokens:mint"]}],
                    "requestBody": {"required": True, "content": _json(
                        {"$ref": "#/components/schemas/MintRequest"})},
                    "responses": {**_ok("The signed token.", "MintedToken", "201"),
                                  **_errors("400", "401", "403", "413", "422", "429", "503")},
                },
            },
            "/api/v1/tokens/inspect": {
                "post": {
                    "operationId": "inspectToken",
                    "summary": "Diagnose a token",
                    "description": "Every reason VideoSDK would refuse the token, with fixes.",
                    "tags": ["tokens"],
                    "security": [{"clientKey": ["tokens:inspect"]}],
                    "requestBody": {"required": True, "content": _json(
                        {"$ref": "#/components/schemas/InspectRequest"})},
                    "responses": {**_ok("The diagnosis.", "Diagnosis"),
                                  **_errors("400", "401", "403", "413", "422", "429", "503")},
                },
            },
            "/api/v1/tokens/introspect": {
                "post": {
                    "operationId": "introspectToken",
                    "summary": "RFC 7662 token introspection",
                    "tags": ["tokens"],
                    "security": [{"clientKey": ["tokens:inspect"]}],
                    "requestBody": {"required": True, "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {"$ref": "#/components/schemas/IntrospectRequest"}},
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/IntrospectRequest"}},
                    }},
                    "responses": {**_ok("Active with details, or exactly {\"active\": false}.",
                                        "Introspection"),
                                  **_errors("400", "401", "403", "413", "422", "429", "503")},
                },
            },
            "/get-token": {
                "get": _dropin_operation("getTokenDropIn", parameters=dropin_query),
                "post": _dropin_operation("postTokenDropIn", parameters=dropin_query,
                                          requestBody={"required": False, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/DropInRequest"}},
                    "application/x-www-form-urlencoded": {
                        "schema": {"$ref": "#/components/schemas/DropInRequest"}},
                }}),
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "tags": ["meta"],
                    "security": [],
                    "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                                          "content": _json({"type": "object"})}},
                },
            },
        },
        "components": {
            "schemas": _SCHEMAS,
            # Answers of any path under /api/, not of one operation.
            "responses": {
                "NotFound": _problem_response("No such route under /api/.", ("not_found",)),
                "MethodNotAllowed": _problem_response(
                    "Wrong method for this route; Allow lists the right ones.",
                    ("method_not_allowed",),
                    {"Allow": {"required": True, "schema": _TEXT}}),
            },
            "securitySchemes": {
                "clientKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Authorization: Bearer <client key>. Keys are shown once "
                                   "when an admin creates the client; a session cookie never "
                                   "authenticates the API.",
                },
            },
        },
        "security": [{"clientKey": []}],
    })


# --- The relay to VideoSDK's REST API: /create-meeting and /validate-meeting (SPEC 5) ---
# Kept whole in this block: its paths, schemas and the two upstream problem codes.

_UPSTREAM_CODES = ("upstream_unavailable", "upstream_timeout")
_MEETING_DESCRIPTION = (
    "Stands in for VideoSDK's example servers: forwards to VideoSDK's REST API at "
    "VIDEOSDK_API_ENDPOINT with the token given (diagnosed first with use: api; one VideoSDK "
    "would refuse is a 422 whose detail is the diagnosis's summary, and is not sent) or, when "
    "none is given, one minted for 60 s with the client's only key (version 2, roles "
    "[\"crawler\"]) under the usual policy. Only the token and region reach VideoSDK. "
    "VideoSDK's status and JSON body come back as they came, its 4xx refusals included "
    "(application/json, such as 401 {\"message\": \"Token is invalid or expired\"}). 404 "
    "when VIDEOSDK_API_ENDPOINT is empty (turned off)."
)
_MEETING_SCHEMAS: dict[str, Any] = {
    "MeetingRequest": {
        "type": "object",
        "description": "As the example servers read it; other fields are ignored, never sent.",
        "properties": {
            "token": {**_OPTIONAL_TEXT, "description": "A VideoSDK token for its server API; "
                      "left out or empty: one is minted."},
            "region": {"type": ["string", "null"], "pattern": "^[A-Za-z0-9_-]{0,32}$",
                       "description": "VideoSDK's region code, such as sg001 (create only)."},
        },
    },
    "VideoSDKAnswer": {
        "type": "object",
        "description": "VideoSDK's JSON body, as it came.",
        "properties": {"roomId": _TEXT},
        "additionalProperties": True,
    },
}


def _meeting_operation(operation_id: str, summary: str, **extra: Any) -> dict[str, Any]:
    form_or_json = {media: {"schema": {"$ref": "#/components/schemas/MeetingRequest"}}
                    for media in ("application/json", "application/x-www-form-urlencoded")}
    return {
        "operationId": operation_id,
        "summary": summary,
        "description": _MEETING_DESCRIPTION,
        "security": [{"clientKey": ["tokens:mint"]}],
        "tags": ["drop-in"],
        **extra,
        "requestBody": {"required": False, "content": form_or_json},
        "responses": {
            "200": {"description": "VideoSDK's answer (its roomId included).",
                    "headers": _RATE_HEADERS,
                    "content": _json({"$ref": "#/components/schemas/VideoSDKAnswer"})},
            "4XX": {"description": "VideoSDK's own refusal, passed on with its status and body.",
                    "content": _json({"$ref": "#/components/schemas/VideoSDKAnswer"})},
            **_errors("400", "401", "403", "413", "422", "429", "503"),
            "404": _problem_response("VIDEOSDK_API_ENDPOINT is empty: the relay is off.",
                                     ("not_found",)),
            "502": _problem_response("VideoSDK's REST API cannot be reached, failed (5xx), or "
                                     "answered no JSON.", ("upstream_unavailable",)),
            "504": _problem_response("VideoSDK's REST API did not answer within "
                                     "VIDEOSDK_API_TIMEOUT seconds (5).", ("upstream_timeout",)),
        },
    }


def _with_meetings(document: dict[str, Any]) -> dict[str, Any]:
    """The document with the two relay routes, their schemas and the upstream problem codes."""
    create = _meeting_operation("createMeetingDropIn",
                                "Create a room with VideoSDK, as the example servers do")
    meeting_id = {"name": "meetingId", "in": "path", "required": True,
                  "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                  "description": "A VideoSDK room id; anything else is 422 and never sent."}
    document["paths"].update({
        "/create-meeting": {"post": create},
        "/create-meeting/": {"post": {**create, "operationId": "createMeetingDropInSlash"}},
        "/validate-meeting/{meetingId}": {"post": _meeting_operation(
            "validateMeetingDropIn", "Validate a room with VideoSDK, as the example servers do",
            parameters=[meeting_id])},
    })
    schemas = document["components"]["schemas"]
    schemas.update(_MEETING_SCHEMAS)
    codes = schemas["Problem"]["properties"]["code"]
    codes["enum"] = sorted({*codes["enum"], *_UPSTREAM_CODES})
    return document
