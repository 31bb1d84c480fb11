"""The OpenAPI 3.1 description of the API (SPEC 5), built on first use as a plain dict.

Written for the clients people generate from it (openapi-python-client, openapi-typescript):
one named schema per shape, shared enums and one `Problem` for every error, the request rules
of the domain as schema keywords (derived from its constants and predicates, never retyped),
examples on every operation and every header on the answers that carry it. tests/api checks
the app against it with schemathesis; tests/clients generates and uses the clients.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from webapp.api.bodies import INSPECT_FIELDS, MINT_FIELDS
from webapp.characters import is_refused_in_names, is_whitespace, regex_class
from webapp.config import defaults
from webapp.services import videosdk_api
from webapp.services.api_clients import KEY_PREFIX, SCOPES
from webapp.tokens import (
    FIELD_ERROR_MEANINGS,
    REASON_CODES,
    FieldError,
    FieldErrorCode,
    LifetimeError,
    Permission,
    Role,
    Severity,
    Use,
    Verdict,
    parse_lifetime,
    sign,
)
from webapp.tokens.lifetimes import (
    LONGEST_LIFETIME,
    MAX_LIFETIME_TEXT,
    SHORTEST_LIFETIME,
    lifetime_text_pattern,
)
from webapp.tokens.minting import MAX_ID_LENGTH
from webapp.tokens.signature_finding import SIGNATURE_STATUSES
from webapp.tokens.vocabulary import CLAIM_PURPOSES, CONFLICTS_WITH_ASK_JOIN, KNOWN_CLAIMS
from webapp.web.errors import PROBLEM_CODES

MINT_SCOPE, INSPECT_SCOPE = SCOPES
PROBLEM_MEDIA = "application/problem+json"
FORM_MEDIA = "application/x-www-form-urlencoded"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema or null: the server reads a null field as one left out."""
    return {"anyOf": [schema, {"type": "null"}]}


def _open(known: str, description: str) -> dict[str, Any]:
    """An open enum: one of the known values, or any other text the server may add later."""
    return {"description": description, "anyOf": [_ref(known), {"type": "string"}]}


def _enum(values: Any, description: str) -> dict[str, Any]:
    return {"type": "string", "enum": [str(value) for value in values],
            "description": description}


# -- the rules of the domain, as patterns ---------------------------------------------------

# The patterns list characters found by scanning the predicates over the BMP: built when the
# document is first asked for, never at import (every worker and CLI command imports this).


def _room_id_pattern() -> str:
    return f"^[^{regex_class(is_refused_in_names)}]*$"


def _participant_id_pattern() -> str:
    return f"^[^{regex_class(is_refused_in_names, is_whitespace)}]*$"


def _not_blank_pattern() -> str:
    """Something besides whitespace: the server strips it, and an empty paste is refused."""
    return f"[^{regex_class(is_whitespace)}]"


# Printable ASCII, as every VideoSDK API key is (SPEC 3: anything else is a damaged apikey).
_APIKEY_PATTERN = "^[!-~]+$"
_JWS_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
_MAX_TOKEN_BYTES = int(defaults("")["MAX_TOKEN_LENGTH"])  # the default; a deployment may lower it


def _id(description: str, *, whitespace: bool, min_length: int = 1) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": min_length,
        "maxLength": MAX_ID_LENGTH,
        "pattern": _room_id_pattern() if whitespace else _participant_id_pattern(),
        "description": description + " No control or format character (Unicode Cc, Cf: "
        "U+202E, U+200B, ...)"
        + ("" if whitespace else " and no whitespace (VideoSDK error 4004)")
        + f"; at most {MAX_ID_LENGTH} characters; valid Unicode. The pattern cannot say two "
        "of these: an unpaired surrogate, and the format characters beyond the Basic "
        "Multilingual Plane (U+E0001, the tags U+E0020-U+E007F and a few more): those are "
        "refused too.",
    }


_ASK_JOIN_CLASH = sorted(str(p) for p in CONFLICTS_WITH_ASK_JOIN)
_PERMISSIONS_REQUEST = {
    "type": "array",
    "items": _ref("Permission"),
    "minItems": 1,
    "uniqueItems": True,
    "description": f"Each value once. ask_join cannot go with {' or '.join(_ASK_JOIN_CLASH)} "
                   "(VideoSDK error 4008).",
    # ask_join together with a permission that lets the holder in or moderate: refused.
    "not": {"allOf": [{"contains": {"const": Permission.ASK_JOIN.value}},
                      {"contains": {"enum": _ASK_JOIN_CLASH}}]},
}
_ROLES_REQUEST = {
    "type": "array",
    "items": _ref("Role"),
    "minItems": 1,
    "uniqueItems": True,
    "description": "Each value once; leave the field out rather than send an empty list.",
}


def _expires_in() -> dict[str, Any]:
    return {
        "description": (
            f"Seconds (a number from {SHORTEST_LIFETIME:g} to {LONGEST_LIFETIME:.0f}), or "
            "node jsonwebtoken `expiresIn` text with a unit ('10m', '1.5h', '7 days'; units ms, s, "
            "m, h, d, w, y and their long forms, any letter case). Default 1h. Unitless text such "
            "as '120' is refused: jsonwebtoken would read it as milliseconds. The lifetime must be "
            f"at least {SHORTEST_LIFETIME:g} s and at most 100 years (the pattern is exact to six "
            "significant digits at the short end and stops at the largest power of ten of units at "
            "the long end); beyond the key's or the client's maximum it is 403 policy_violation."
        ),
        "anyOf": [
            {"type": "number", "minimum": SHORTEST_LIFETIME, "maximum": LONGEST_LIFETIME},
            {"type": "string", "maxLength": MAX_LIFETIME_TEXT, "pattern": lifetime_text_pattern()},
            {"type": "null"},
        ],
    }


# -- an example token, signed here with a made-up secret so that it is a real JWS ------------

_EXAMPLE_APIKEY = "b3f1c0de-0000-4000-8000-example0key1"
_EXAMPLE_CLAIMS: dict[str, object] = {
    "apikey": _EXAMPLE_APIKEY,
    "permissions": [Permission.ALLOW_JOIN.value],
    "version": 2,
    "roomId": "abcd-efgh-ijkl",
    "roles": [Role.RTC.value],
    "iat": 1767225600,
    "exp": 1767229200,
}
_EXAMPLE_TOKEN = sign(_EXAMPLE_CLAIMS, "an example secret, not a real one: 32+ bytes long")
# What the relays forward: a server-API token (role crawler, no room), valid until 2099, of
# a key not stored here, so the relay sends it on and VideoSDK decides (an rtc-only or
# expired one is refused before sending, which an example must not be).
_EXAMPLE_SERVER_CLAIMS: dict[str, object] = {
    "apikey": _EXAMPLE_APIKEY, "permissions": [Permission.ALLOW_JOIN.value], "version": 2,
    "roles": [Role.CRAWLER.value], "iat": 1767225600, "exp": 4070908800,
}
_EXAMPLE_SERVER_TOKEN = sign(_EXAMPLE_SERVER_CLAIMS,
                             "an example secret, not a real one: 32+ bytes long")
_EXAMPLE_CLIENT_KEY = KEY_PREFIX + "0" * 38

# -- named schemas --------------------------------------------------------------------------

_KNOWN_PROBLEM_CODES = sorted({*PROBLEM_CODES.values(), "policy_violation", "server_error",
                               "bad_request"})


def _schemas() -> dict[str, Any]:
    return {
        "KnownProblemCode": _enum(_KNOWN_PROBLEM_CODES, "The machine codes of SPEC 5 today."),
        "KnownFieldErrorCode": {
            **_enum(FieldErrorCode, "Why a field is refused: "
                    + "; ".join(f"`{code.value}`: {meaning}"
                                for code, meaning in FIELD_ERROR_MEANINGS.items()) + "."),
        },
        "KnownReasonCode": _enum(REASON_CODES, "The diagnosis codes of SPEC 3 today."),
        "Permission": _enum(Permission, "A value of the permissions claim (SPEC 2)."),
        "Role": _enum(Role, "A value of the roles claim (SPEC 2)."),
        "Use": _enum(Use, "What the customer tried with the token: join a meeting or call the "
                          "server-side API."),
        "Severity": _enum(Severity, "How much a reason weighs: only errors make a token invalid."),
        "Verdict": _enum(Verdict, "invalid when any reason is an error; else valid when a secret "
                                  "verified the signature, else unverified."),
        "SignatureStatus": _enum(SIGNATURE_STATUSES, "verified: a stored or one-off secret "
                                 "verified it; mismatch: none did; unchecked: not checked."),
        "FieldError": {
            "type": "object",
            "description": "One refusal of one field.",
            "required": ["code", "message"],
            "additionalProperties": False,
            "properties": {
                "code": _open("KnownFieldErrorCode", "Why: a code from a small vocabulary; "
                              "new codes may be added."),
                "message": {"type": "string", "description": "What to send instead, in words."},
            },
        },
        "FieldMessages": {
            "type": "object",
            "description": "Each refused field's messages: {field: [message]}.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "FieldErrors": {
            "type": "object",
            "description": "Each refused field's errors with machine codes: "
                           "{field: [{code, message}]}, in the order of `errors`.",
            "additionalProperties": {"type": "array", "items": _ref("FieldError")},
        },
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details with the product's machine `code`. "
                           "A refusal of fields (422, and 403 policy_violation) adds `errors` and "
                           "`fieldErrors`.",
            "required": ["type", "title", "status", "detail", "code"],
            "properties": {
                "type": {"type": "string", "format": "uri"},
                "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string"},
                "code": _open("KnownProblemCode", "The machine code (SPEC 5); new codes may be "
                              "added, so keep a branch for others."),
                "errors": _ref("FieldMessages"),
                "fieldErrors": _ref("FieldErrors"),
            },
        },
        "Claims": {
            "type": "object",
            "description": "Exactly the claims this service signed: those asked for plus iat, exp "
                           "and, when roomId, participantId or roles is present, version 2.",
            "required": ["apikey", "permissions", "iat", "exp"],
            "additionalProperties": False,
            "properties": {
                "apikey": {"type": "string", "description": CLAIM_PURPOSES["apikey"]},
                "permissions": {"type": "array", "items": _ref("Permission"), "minItems": 1,
                                "description": CLAIM_PURPOSES["permissions"]},
                "version": {"type": "integer", "const": 2,
                            "description": CLAIM_PURPOSES["version"]},
                "roomId": {"type": "string", "description": CLAIM_PURPOSES["roomId"]},
                "participantId": {"type": "string", "description": CLAIM_PURPOSES["participantId"]},
                "roles": {"type": "array", "items": _ref("Role"),
                          "description": CLAIM_PURPOSES["roles"]},
                "iat": {"type": "integer", "description": CLAIM_PURPOSES["iat"] + ", in seconds "
                        "since 1970"},
                "exp": {"type": "integer", "description": CLAIM_PURPOSES["exp"] + ", in seconds "
                        "since 1970"},
            },
        },
        "Header": {
            "type": "object",
            "description": "The token's JOSE header as decoded, untrusted: any JSON value may "
                           "stand under any name. A token this service accepts has alg HS256.",
            "properties": {
                "alg": {"description": "The signing algorithm; VideoSDK needs HS256."},
                "typ": {"description": "Usually JWT."},
            },
            "additionalProperties": True,
        },
        "DecodedClaims": {
            "type": "object",
            "description": "The claims of a pasted token as decoded, untrusted: each may hold "
                           "any JSON value (the reasons say which are wrong). Numbers JSON "
                           "cannot carry are echoed as strings; text that is not UTF-8 is "
                           "escaped.",
            "properties": {name: {"description": CLAIM_PURPOSES[name]} for name in KNOWN_CLAIMS},
            "additionalProperties": True,
        },
        "Reason": {
            "type": "object",
            "description": "One finding of the diagnosis (SPEC 3).",
            "required": ["code", "severity", "message", "fix"],
            "additionalProperties": False,
            "properties": {
                "code": _open("KnownReasonCode", "The reason's code; SPEC 3 grows the list, so "
                              "keep a branch for codes not known yet."),
                "severity": _ref("Severity"),
                "message": {"type": "string"},
                "fix": {"type": "string"},
                "videosdkCode": {"type": "integer", "description": "VideoSDK's own error code, "
                                 "where it has one."},
            },
        },
        "Signature": {
            "type": "object",
            "required": ["status"],
            "additionalProperties": False,
            "properties": {
                "status": _ref("SignatureStatus"),
                "keyLabel": {"type": "string", "description": "The stored key whose secret matched "
                             "(or matches instead of the token's own)."},
            },
        },
        "Diagnosis": {
            "type": "object",
            "description": "Every reason VideoSDK would refuse the token, with fixes (SPEC 3).",
            "required": ["verdict", "summary", "reasons", "header", "claims", "signature",
                         "issuedAt", "expiresAt"],
            "additionalProperties": False,
            "properties": {
                "verdict": _ref("Verdict"),
                "summary": {"type": "string", "description": "One or two plain sentences for the "
                            "customer: the root cause and what to change (SPEC 3)."},
                "reasons": {"type": "array", "items": _ref("Reason"),
                            "description": "Errors first, then warnings, then infos."},
                "header": {**_nullable(_ref("Header")), "description": "null when the paste is "
                           "not a token or its header does not decode."},
                "claims": {**_nullable(_ref("DecodedClaims")), "description": "null when the "
                           "paste is not a token or its payload does not decode."},
                "signature": _ref("Signature"),
                "issuedAt": _nullable({"type": "string", "format": "date-time"}),
                "expiresAt": _nullable({"type": "string", "format": "date-time"}),
            },
        },
        "MintRequest": {
            "type": "object",
            "required": ["permissions"],
            "additionalProperties": False,
            "description": "version 2 is added when needed; any other field is refused.",
            "properties": {
                "apikey": _nullable({"type": "string", "minLength": 1, "pattern": _APIKEY_PATTERN,
                                     "description": "The VideoSDK API key to sign with; leave it "
                                     "out when the client may use exactly one key."}),
                "permissions": _PERMISSIONS_REQUEST,
                "roles": _nullable(_ROLES_REQUEST),
                "roomId": _nullable(_id("The only room the token opens.", whitespace=True)),
                "participantId": _nullable(_id("The only participant id the token may join as.",
                                               whitespace=False)),
                "expiresIn": _expires_in(),
            },
        },
        "MintedToken": {
            "type": "object",
            "required": ["token", "apikey", "claims", "issuedAt", "expiresAt", "expiresIn"],
            "additionalProperties": False,
            "properties": {
                "token": {"type": "string", "pattern": _JWS_PATTERN,
                          "description": "The HS256 JWT; shown once, never stored."},
                "apikey": {"type": "string"},
                "claims": _ref("Claims"),
                "issuedAt": {"type": "string", "format": "date-time"},
                "expiresAt": {"type": "string", "format": "date-time"},
                "expiresIn": {"type": "integer", "description": "Whole seconds."},
            },
        },
        "InspectRequest": {
            "type": "object",
            "required": ["token"],
            "additionalProperties": False,
            "properties": {
                "token": {"type": "string", "minLength": 1, "maxLength": _MAX_TOKEN_BYTES,
                          "pattern": _not_blank_pattern(),
                          "description": f"The pasted token, at most {_MAX_TOKEN_BYTES} bytes in "
                          "UTF-8 (a length in characters cannot say bytes); surrounding quotes, "
                          "whitespace and a Bearer prefix are cleaned off."},
                "roomId": _nullable({"type": "string", "description": "The room the customer "
                                     "tried; empty means none."}),
                "participantId": _nullable({"type": "string", "description": "The participant id "
                                            "the customer tried; empty means none."}),
                "use": _nullable(_ref("Use")),
                "at": _nullable({"type": "string", "format": "date-time",
                                 "description": "The moment of the attempt, ISO 8601; the server "
                                 "also takes one without an offset, as UTC. Default: now."}),
                "secret": _nullable({"type": "string", "writeOnly": True,
                                     "description": "A one-off secret for this check only; never "
                                     "stored or logged. Empty means none."}),
            },
        },
        "IntrospectionForm": {
            "type": "object",
            "description": "RFC 7662's request as a form (application/x-www-form-urlencoded). "
                           "Other fields are ignored.",
            "required": ["token"],
            "properties": {
                "token": {"type": "string", "minLength": 1, "maxLength": _MAX_TOKEN_BYTES,
                          "pattern": _not_blank_pattern(),
                          "description": f"The token, at most {_MAX_TOKEN_BYTES} bytes in UTF-8."},
                "token_type_hint": {"type": "string", "description": "Ignored (RFC 7662 section "
                                    "2.1)."},
            },
        },
        "ActiveIntrospection": {
            "type": "object",
            "description": "The token would be accepted now (its diagnosis is valid).",
            "required": ["active", "scope", "token_type"],
            "additionalProperties": False,
            "properties": {
                "active": {"type": "boolean", "const": True},
                "exp": {"type": "integer", "description": "Seconds since 1970, when whole."},
                "iat": {"type": "integer", "description": "Seconds since 1970, when whole."},
                "scope": {"type": "string", "description": "The permissions, joined by spaces."},
                "client_id": {"type": "string", "description": "The API client that minted it, "
                              "when one did."},
                "token_type": {"type": "string", "const": "videosdk"},
            },
        },
        "InactiveIntrospection": {
            "type": "object",
            "description": "Exactly {\"active\": false}: nothing more is said about a token that "
                           "would be refused (RFC 7662 section 2.2).",
            "required": ["active"],
            "additionalProperties": False,
            "properties": {"active": {"type": "boolean", "const": False}},
        },
        "Introspection": {
            "description": "RFC 7662: the details when the token would be accepted now, else "
                           "exactly {\"active\": false}. Tell them apart by `active`.",
            "oneOf": [_ref("ActiveIntrospection"), _ref("InactiveIntrospection")],
        },
        "DropInRequest": {
            "type": "object",
            "description": "As VideoSDK's example servers read it; a body value wins over the "
                           "query string's, an empty one counts as absent, other fields are "
                           "ignored.",
            "properties": {
                "roomId": _nullable(_id("The room.", whitespace=True, min_length=0)),
                "peerId": _nullable(_id("Becomes the participantId claim.", whitespace=False,
                                        min_length=0)),
            },
        },
        "OpenApiDocument": {
            "type": "object",
            "description": "An OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0).",
            "required": ["openapi", "info", "paths"],
            "properties": {"openapi": {"type": "string"},
                           "info": {"type": "object", "additionalProperties": True},
                           "paths": {"type": "object", "additionalProperties": True}},
            "additionalProperties": True,
        },
        "DropInForm": {
            "type": "object",
            "description": "DropInRequest as a form: its own schema, so that a generated client "
                           "tells the two bodies apart by type.",
            "properties": {
                "roomId": _id("The room.", whitespace=True, min_length=0),
                "peerId": _id("Becomes the participantId claim.", whitespace=False,
                              min_length=0),
            },
        },
        "DropInToken": {
            "type": "object",
            "required": ["token"],
            "additionalProperties": False,
            "properties": {"token": {"type": "string", "pattern": _JWS_PATTERN}},
        },
    }


# -- headers and answers --------------------------------------------------------------------

_HEADERS: dict[str, Any] = {
    "WWW-Authenticate": {
        "description": "The bearer challenge (RFC 6750): `Bearer`, or `Bearer "
                       "error=\"invalid_token\"` when a key was presented.",
        "schema": {"type": "string"}, "example": 'Bearer error="invalid_token"'},
    "Retry-After": {"description": "Seconds to wait before trying again.",
                    "schema": {"type": "integer", "minimum": 0}, "example": 42},
    "X-RateLimit-Limit": {"description": "Requests the client may make in the window.",
                          "schema": {"type": "integer", "minimum": 0}, "example": 600},
    "X-RateLimit-Remaining": {"description": "Requests left in the window.",
                              "schema": {"type": "integer", "minimum": 0}, "example": 599},
    "X-RateLimit-Reset": {"description": "When the window resets, in seconds since 1970.",
                          "schema": {"type": "integer", "minimum": 0}, "example": 1767225660},
    "Cache-Control": {"description": "Always no-store: answers carry tokens and claims.",
                      "schema": {"type": "string", "const": "no-store"}},
    "Allow": {"description": "On a 405: the methods the route takes.",
              "schema": {"type": "string"}, "example": "GET, POST"},
}
_RATE_LIMIT = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def _header(name: str, *, required: bool, as_name: str | None = None) -> dict[str, Any]:
    return {as_name or name: {**_HEADERS[name], "required": required}}


def _rate_headers(*, required: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _RATE_LIMIT:
        out.update(_header(name, required=required))
    return out


_COUNTED = ("Sent on every answer that counted against the client's rate limit (the request "
            "was authenticated and had the scope) while rate limits are on; per worker when "
            "the limits live in memory.")


def _problem_example(status: int, code: str, title: str, detail: str,
                     **extra: object) -> dict[str, Any]:
    return {"type": f"https://token-console.invalid/problems/{code}", "title": title,
            "status": status, "detail": detail, "code": code, **extra}


def _problem_response(description: str, example: dict[str, Any],
                      headers: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "headers": headers,
        "content": {PROBLEM_MEDIA: {"schema": _ref("Problem"), "example": example}},
    }


def _lifetime_refusal(text: str) -> FieldError:
    """The domain's own refusal of a lifetime, for an example that cannot drift from it."""
    try:
        parse_lifetime(text)
    except LifetimeError as error:
        return FieldError(error.code, str(error))
    raise ValueError(f"{text!r} is a lifetime")


_UNITLESS = _lifetime_refusal("120")

_RESPONSES: dict[str, Any] = {
    "BadRequest": _problem_response(
        "validation_failed: the body is not JSON at all (or, where a form is accepted, not a "
        f"form either), or holds a value the database cannot store. {_COUNTED}",
        _problem_example(400, "validation_failed", "Bad request",
                         "The body is not JSON: send a JSON object."),
        {**_header("Cache-Control", required=False), **_rate_headers(required=False)}),
    "Unauthorized": _problem_response(
        "unauthorized: no, unknown or revoked client key.",
        _problem_example(401, "unauthorized", "Unauthorized",
                         "The client key is unknown or revoked."),
        {**_header("WWW-Authenticate", required=True), **_header("Cache-Control",
                                                                 required=False)}),
    "Forbidden": _problem_response(
        "forbidden: the client lacks the scope or the apikey asked for; or "
        "policy_violation: VideoSDK would allow the request but the key's or the client's "
        "policy does not, with `errors` and "
        f"`fieldErrors` (codes `policy`). {_COUNTED}",
        _problem_example(403, "policy_violation", "Policy violation",
                         "The request goes beyond the policy of the key or of this client: see "
                         "errors.",
                         errors={"expiresIn": ["A lifetime of 30d is beyond the maximum "
                                               "allowed here, 24h: ask for 24h or less."]},
                         fieldErrors={"expiresIn": [{
                             "code": "policy",
                             "message": "A lifetime of 30d is beyond the maximum allowed here, "
                                        "24h: ask for 24h or less."}]}),
        {**_header("Cache-Control", required=False), **_rate_headers(required=False)}),
    "PayloadTooLarge": _problem_response(
        "payload_too_large: the body is over 64 KiB.",
        _problem_example(413, "payload_too_large", "Request Entity Too Large",
                         "The data value transmitted exceeds the capacity limit."),
        {**_header("Cache-Control", required=False), **_rate_headers(required=False)}),
    "ValidationFailed": _problem_response(
        "validation_failed: a field is missing, of the wrong type, unknown, or breaks a rule "
        "of SPEC 2. `errors` maps each field to its messages; `fieldErrors` to the same with a "
        f"machine code each. {_COUNTED}",
        _problem_example(422, "validation_failed", "Validation failed",
                         "The request has invalid fields: see errors.",
                         errors={"expiresIn": [_UNITLESS.message]},
                         fieldErrors={"expiresIn": [_UNITLESS.as_dict()]}),
        {**_header("Cache-Control", required=False), **_rate_headers(required=False)}),
    "RateLimited": _problem_response(
        "rate_limited: over the client's own rate limit; retry after Retry-After seconds.",
        _problem_example(429, "rate_limited", "Too Many Requests",
                         "Over this client's rate limit of 600/minute: retry after "
                         "Retry-After."),
        {**_header("Retry-After", required=True), **_rate_headers(required=True),
         **_header("Cache-Control", required=False)}),
    "ServiceUnavailable": _problem_response(
        "service_unavailable: storage cannot be reached or written, or a stored key's secret "
        "does not decrypt with ENCRYPTION_KEYS (an operator must fix the setting); nothing "
        "was done.",
        _problem_example(503, "service_unavailable", "Service unavailable",
                         "The stored secret of key 'main' cannot be decrypted."),
        {**_header("Retry-After", required=False), **_header("Cache-Control", required=False),
         **_rate_headers(required=False)}),
    "MethodNotAllowed": _problem_response(
        "method_not_allowed: the route does not take this method; Allow lists those it does.",
        _problem_example(405, "method_not_allowed", "Method Not Allowed",
                         "The method is not allowed for the requested URL."),
        _header("Allow", required=True)),
    "OtherProblem": _problem_response(
        "Any other answer, as a problem: 404 not_found (unknown route under /api/), 405 "
        "method_not_allowed (with Allow), 500 server_error, and codes added later.",
        _problem_example(405, "method_not_allowed", "Method Not Allowed",
                         "The method is not allowed for the requested URL."),
        {**_header("Allow", required=False), **_header("Cache-Control", required=False)}),
}

_ERROR_RESPONSES = {
    "400": "BadRequest", "401": "Unauthorized", "403": "Forbidden", "413": "PayloadTooLarge",
    "422": "ValidationFailed", "429": "RateLimited", "503": "ServiceUnavailable",
    "default": "OtherProblem",
}


def _errors() -> dict[str, Any]:
    return {status: {"$ref": f"#/components/responses/{name}"}
            for status, name in _ERROR_RESPONSES.items()}


def _ok(status: str, description: str, schema: str, examples: dict[str, Any]) -> dict[str, Any]:
    return {status: {
        "description": description,
        "headers": {**_header("Cache-Control", required=True), **_rate_headers(required=False)},
        "content": {"application/json": _media(schema, examples)},
    }}


def _example(summary: str, value: object) -> dict[str, Any]:
    return {"summary": summary, "value": value}


def _media(schema: str, examples: dict[str, Any]) -> dict[str, Any]:
    """One media type of a body: the component schema it follows, with named examples."""
    return {"schema": _ref(schema), "examples": examples}


def _token_operation(operation_id: str, summary: str, description: str, scope: str,
                     content: dict[str, Any], ok: dict[str, Any]) -> dict[str, Any]:
    """A POST under /api/v1/tokens: a body (``content``, by media type) is required, the
    client key needs ``scope``; answers ``ok`` (an :func:`_ok`) or one of the API's problems."""
    return {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "tags": ["tokens"],
        "security": [{"clientKey": [scope]}],
        "requestBody": {"required": True, "content": content},
        "responses": {**ok, **_errors()},
    }


# -- examples of each operation -------------------------------------------------------------

_MINTED_EXAMPLE = {
    "token": _EXAMPLE_TOKEN, "apikey": _EXAMPLE_APIKEY, "claims": _EXAMPLE_CLAIMS,
    "issuedAt": "2026-01-01T00:00:00Z", "expiresAt": "2026-01-01T01:00:00Z", "expiresIn": 3600,
}
_DIAGNOSIS_EXAMPLE = {
    "verdict": "invalid",
    "summary": "The token expired 2 h 5 min ago: mint a new one for each meeting join.",
    "reasons": [{"code": "expired", "severity": "error",
                 "message": "The token expired at 2026-01-01T01:00:00Z, 2 h 5 min ago.",
                 "fix": "Mint a new token for each join.", "videosdkCode": 4002}],
    "header": {"alg": "HS256", "typ": "JWT"},
    "claims": _EXAMPLE_CLAIMS,
    "signature": {"status": "verified", "keyLabel": "main"},
    "issuedAt": "2026-01-01T00:00:00Z",
    "expiresAt": "2026-01-01T01:00:00Z",
}

_DROPIN_DESCRIPTION = (
    "Stands in for VideoSDK's example token servers: their client apps work by changing only "
    "the base URL and adding the Authorization header. Signs with the client's only key "
    "(422 key_choice when it may use none or several): permissions allow_join and allow_mod, "
    "lifetime 10m; with a roomId or peerId also version 2, roles [\"rtc\"], roomId and "
    "participantId = peerId. An empty value counts as absent. Other names are ignored, as the "
    "examples ignore them, except roomId or peerId in another letter case (roomid, peerID) "
    "and participantId in any case: 422 validation_failed, "
    "fieldErrors code unknown, \"did you mean roomId?\", named as sent (a schema cannot "
    "list every such spelling)."
)


def _dropin_query() -> list[dict[str, Any]]:
    return [
        {"name": "roomId", "in": "query", "required": False,
         "schema": _id("The room.", whitespace=True, min_length=0), "example": "abcd-efgh"},
        {"name": "peerId", "in": "query", "required": False,
         "schema": _id("Becomes the participantId claim.", whitespace=False, min_length=0),
         "example": "alice"},
    ]


def _dropin_operation(operation_id: str, summary: str, description: str,
                      **extra: Any) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": summary,
        "description": _DROPIN_DESCRIPTION + description,
        "security": [{"clientKey": [MINT_SCOPE]}],
        "tags": ["drop-in"],
        **extra,
        "responses": {**_ok("200", "The token.", "DropInToken",
                            {"token": _example("A token for one room and peer",
                                               {"token": _EXAMPLE_TOKEN})}),
                      **_errors()},
    }


# -- the relay to VideoSDK's REST API: /create-meeting and /validate-meeting (SPEC 5) ------------

_MEETING_DESCRIPTION = (
    "Stands in for VideoSDK's example servers: forwards to VideoSDK's REST API at "
    "VIDEOSDK_API_ENDPOINT with the token given (diagnosed first with use: api; one VideoSDK "
    "would refuse is a 422 whose detail is the diagnosis's summary, and is not sent) or, when "
    "none is given, one minted for 60 s with the client's only key (version 2, roles "
    "[\"crawler\"]) under the usual policy. Only the token and region reach VideoSDK. "
    "VideoSDK's status and JSON body come back as they came, its 4xx refusals included "
    "(application/json, such as 401 {\"message\": \"Token is invalid or expired\"}); a 5xx "
    "of VideoSDK's is 502. 404 not_found when VIDEOSDK_API_ENDPOINT is empty (turned off)."
)


def _meeting_schemas() -> dict[str, Any]:
    token = {"type": "string", "maxLength": _MAX_TOKEN_BYTES,
             "pattern": f"^$|{_not_blank_pattern()}",
             "description": "A VideoSDK token for its server API, at most "
                            f"{_MAX_TOKEN_BYTES} bytes in UTF-8; empty or left out: one is "
                            "minted."}
    region = {"type": "string", "pattern": f"^$|^{videosdk_api.REGION.pattern}$",
              "description": "VideoSDK's region code, such as sg001 (create only); empty or "
                             "left out: VideoSDK's default."}
    return {
        "MeetingRequest": {
            "type": "object",
            "description": "As the example servers read it; other fields are ignored, never "
                           "sent.",
            "properties": {"token": _nullable(token), "region": _nullable(region)},
        },
        "MeetingForm": {
            "type": "object",
            "description": "MeetingRequest as a form: its own schema, so that a generated "
                           "client tells the two bodies apart by type.",
            "properties": {"token": token, "region": region},
        },
        "VideoSDKAnswer": {
            "type": "object",
            "description": "VideoSDK's JSON body, as it came.",
            "properties": {"roomId": {"type": "string"}},
            "additionalProperties": True,
        },
    }


def _relayed(name: str) -> dict[str, Any]:
    """One of this service's refusals, or VideoSDK's own with the same status, passed on."""
    ours = _RESPONSES[name]
    # VideoSDK's own refusal carries none of our headers (no bearer challenge of ours);
    # the rate-limit headers come on it as on any answer that counted.
    headers = {header: {**value, "required": False}
               for header, value in {**ours.get("headers", {}),
                                     **_rate_headers(required=False)}.items()}
    return {**ours, "headers": headers,
            "description": ours["description"] + " Or VideoSDK's own refusal with this "
                           "status, passed on as application/json.",
            "content": {**ours["content"], "application/json": {
                "schema": _ref("VideoSDKAnswer"),
                "example": {"message": "Token is invalid or expired"}}}}


def _meeting_operation(operation_id: str, summary: str, **extra: Any) -> dict[str, Any]:
    example = _example("A token of the caller's own", {"token": _EXAMPLE_SERVER_TOKEN})
    upstream = {status: _problem_response(
        description, _problem_example(int(status), code, title, detail),
        {**_header("Cache-Control", required=False), **_rate_headers(required=False)})
        for status, code, title, description, detail in (
            ("502", "upstream_unavailable", "VideoSDK unavailable",
             "upstream_unavailable: VideoSDK's REST API cannot be reached, failed (5xx), or "
             "answered no JSON.", "VideoSDK's REST API cannot be reached."),
            ("504", "upstream_timeout", "VideoSDK timed out",
             "upstream_timeout: VideoSDK's REST API did not answer within "
             "VIDEOSDK_API_TIMEOUT seconds (5).", "VideoSDK did not answer within 5 s."))}
    not_offered = _problem_response(
        "not_found: VIDEOSDK_API_ENDPOINT is empty, so the relay is off.",
        _problem_example(404, "not_found", "Not found", "VideoSDK's REST API is turned off on "
                         "this deployment."),
        {**_header("Cache-Control", required=False)})
    return {
        "operationId": operation_id,
        "summary": summary,
        "description": _MEETING_DESCRIPTION,
        "security": [{"clientKey": [MINT_SCOPE]}],
        "tags": ["drop-in"],
        **extra,
        "requestBody": {"required": False, "content": {
            "application/json": _media("MeetingRequest", {"token": example}),
            FORM_MEDIA: _media("MeetingForm", {"token": example}),
        }},
        "responses": {
            **_ok("200", "VideoSDK's answer (its roomId included).", "VideoSDKAnswer",
                  {"room": _example("A room", {"roomId": "abcd-efgh-ijkl"})}),
            **{status: _relayed(name) for status, name in _ERROR_RESPONSES.items()
               if status.startswith("4")},
            "404": {**not_offered, "content": {**not_offered["content"],
                                               **_relayed("BadRequest")["content"]}},
            "4XX": {"description": "VideoSDK's other refusals, passed on with their status "
                                   "and body.",
                    "content": {"application/json": {
                        "schema": _ref("VideoSDKAnswer"),
                        "example": {"message": "Token is invalid or expired"}}}},
            "503": {"$ref": "#/components/responses/ServiceUnavailable"},
            **upstream,
            "default": {"$ref": "#/components/responses/OtherProblem"},
        },
    }


def _meeting_paths() -> dict[str, Any]:
    create = _meeting_operation("createMeetingDropIn",
                                "Create a room with VideoSDK, as the example servers do")
    meeting_id = {"name": "meetingId", "in": "path", "required": True,
                  "schema": {"type": "string", "pattern": f"^{videosdk_api.ROOM_ID.pattern}$"},
                  "example": "abcd-efgh-ijkl",
                  "description": "A VideoSDK room id; anything else is 422 and never sent."}
    # The examples' own spelling, "/create-meeting/", is the same route, said in words:
    # Redocly's recommended ruleset refuses a path with a trailing slash.
    create["description"] += (" POST /create-meeting/ is the same route, as the example "
                              "servers spell it.")
    return {
        "/create-meeting": {"post": create},
        "/validate-meeting/{meetingId}": {"post": _meeting_operation(
            "validateMeetingDropIn", "Validate a room with VideoSDK, as the example servers do",
            parameters=[meeting_id])},
    }


@cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every endpoint, body, answer, header and error."""
    a_room_and_peer = _example("A room and a peer", {"roomId": "abcd-efgh", "peerId": "alice"})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Token Console API",
            "version": "1",
            "summary": "Mint and check VideoSDK access tokens under the team's keys and policy.",
            "description": "Errors are application/problem+json (RFC 9457) with a machine "
                           "`code` (an open list: keep a branch for codes added later); field "
                           "refusals carry `errors` ({field: [message]}) and `fieldErrors` "
                           "({field: [{code, message}]}). Times are ISO 8601 UTC with Z; "
                           "expiresIn in answers is whole seconds. Every answer is "
                           "Cache-Control: no-store.",
            "contact": {"name": "The admins of this Token Console (Admin > API clients)"},
            "license": {"name": "Proprietary: for the team that runs this Token Console",
                        "url": "https://token-console.invalid/license"},
        },
        "servers": [{"url": "/", "description": "The Token Console serving this document."}],
        "tags": [
            {"name": "tokens", "description": "Mint VideoSDK tokens and check them: the "
                                              "diagnosis of SPEC 3 and RFC 7662 introspection."},
            {"name": "drop-in", "description": "Routes of VideoSDK's example token servers, "
                                               "so their client apps work unchanged."},
            {"name": "meta", "description": "This document."},
        ],
        "paths": {
            "/api/v1/tokens": {"post": _token_operation(
                "mintToken", "Mint a token",
                "Signs exactly the claims asked for plus iat, exp and, when needed, version 2, "
                "under the key's and the client's policy. A request beyond the policy is "
                "refused whole (policy_violation), never trimmed. Fields: "
                f"{', '.join(MINT_FIELDS)}.",
                MINT_SCOPE,
                {"application/json": _media("MintRequest", {
                    "room": _example("A token for one room, for an hour",
                                     {"permissions": ["allow_join"], "roles": ["rtc"],
                                      "roomId": "abcd-efgh-ijkl", "expiresIn": "1h"}),
                    "waitingRoom": _example("Ask to join, ten minutes",
                                            {"permissions": ["ask_join"], "expiresIn": 600}),
                })},
                _ok("201", "The signed token.", "MintedToken",
                    {"room": _example("The room token", _MINTED_EXAMPLE)}))},
            "/api/v1/tokens/inspect": {"post": _token_operation(
                "inspectToken", "Diagnose a token",
                "Every reason VideoSDK would refuse the token, with fixes, at a chosen moment "
                "and use, optionally with a one-off secret. Fields: "
                f"{', '.join(INSPECT_FIELDS)}.",
                INSPECT_SCOPE,
                {"application/json": _media("InspectRequest", {"join": _example(
                    "Why could this customer not join?",
                    {"token": _EXAMPLE_TOKEN, "roomId": "abcd-efgh-ijkl", "use": "join",
                     "at": "2026-01-01T03:05:00Z"})})},
                _ok("200", "The diagnosis.", "Diagnosis",
                    {"expired": _example("An expired token", _DIAGNOSIS_EXAMPLE)}))},
            "/api/v1/tokens/introspect": {"post": _token_operation(
                "introspectToken", "RFC 7662 token introspection",
                "Whether the token would be accepted now. The body is RFC 7662's form; the "
                "server also reads a JSON object {\"token\": \"...\"} sent as "
                "application/json. That second content type is left out of this document: "
                "openapi-python-client 0.29 writes a client that does not import for an "
                "operation with two (its body annotation names Unset without importing it).",
                INSPECT_SCOPE,
                {FORM_MEDIA: _media("IntrospectionForm", {"form": _example(
                    "As an RFC 7662 form", {"token": _EXAMPLE_TOKEN})})},
                _ok("200", "Active with details, or exactly {\"active\": false}.",
                    "Introspection",
                    {"active": _example("Would be accepted now", {
                        "active": True, "scope": "allow_join", "token_type": "videosdk",
                        "iat": 1767225600, "exp": 1767229200, "client_id": "backend"}),
                     "inactive": _example("Would be refused", {"active": False})}))},
            "/get-token": {
                "get": _dropin_operation("getTokenDropIn", "Fetch a token as VideoSDK's "
                                         "example servers answer it", "",
                                         parameters=_dropin_query()),
                "post": _dropin_operation(
                    "postTokenDropIn", "Fetch a token as VideoSDK's example servers answer "
                    "it, the fields in a body",
                    # Described without the query string: a body value wins over it, which a
                    # schema cannot say, so the parameters would promise refusals never made.
                    " The server also reads roomId and peerId from the query string when the "
                    "body does not hold them, as the example servers do.",
                    requestBody={"required": False, "content": {
                        "application/json": _media("DropInRequest", {"json": a_room_and_peer}),
                        FORM_MEDIA: _media("DropInForm", {"form": a_room_and_peer}),
                    }}),
            },
            **_meeting_paths(),
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenApiDocument",
                    "summary": "This document",
                    "tags": ["meta"],
                    "security": [],
                    "responses": {
                        "200": {"description": "The OpenAPI 3.1 document.",
                                "content": {"application/json": {
                                    "schema": _ref("OpenApiDocument"),
                                    "example": {"openapi": "3.1.0", "info": {
                                        "title": "Token Console API", "version": "1"},
                                        "paths": {}}}}},
                        "405": {"$ref": "#/components/responses/MethodNotAllowed"},
                        "default": {"$ref": "#/components/responses/OtherProblem"},
                    },
                },
            },
        },
        "components": {
            "schemas": {**_schemas(), **_meeting_schemas()},
            "responses": _RESPONSES,
            "securitySchemes": {
                "clientKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": f"Token Console client key ({KEY_PREFIX}...)",
                    "description": "Authorization: Bearer <client key>, such as "
                                   f"`{_EXAMPLE_CLIENT_KEY}`. Keys are shown once when an "
                                   "admin creates the client; a session cookie never "
                                   "authenticates the API. Scopes: "
                                   f"{', '.join(SCOPES)}.",
                },
            },
        },
        "security": [{"clientKey": []}],
    }
