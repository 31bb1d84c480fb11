"""Each field error carries a machine code beside its message, and the schema refuses what the
server refuses (SPEC 5, issue 17).

`errors` stays {field: [message]}; `fieldErrors` is {field: [{code, message}]} with the same
messages in the same order, the codes drawn from FieldErrorCode.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from webapp.api.openapi import document
from webapp.tokens import FieldErrorCode

VOCABULARY = {code.value for code in FieldErrorCode}
PERMISSION = ["allow_join"]


def _expect(answer: Any, status: int, field: str, codes: list[str]) -> dict[str, Any]:
    assert answer.status_code == status, answer.get_json()
    body = answer.get_json()
    assert [e["code"] for e in body["fieldErrors"][field]] == codes
    # The messages are the ones `errors` has always had, in the same order, field by field.
    assert {f: [e["message"] for e in items] for f, items in body["fieldErrors"].items()} == \
        body["errors"]
    assert {e["code"] for items in body["fieldErrors"].values() for e in items} <= VOCABULARY
    return body


MINT_CASES = [
    ({"permissions": PERMISSION, "version": 2}, "version", ["unknown"]),
    ({}, "permissions", ["required"]),
    ({"permissions": None}, "permissions", ["required"]),
    ({"permissions": "allow_join"}, "permissions", ["type"]),
    ({"permissions": []}, "permissions", ["empty"]),
    ({"permissions": ["allow_everything"]}, "permissions", ["enum"]),
    ({"permissions": ["allow_join", "allow_join"]}, "permissions", ["duplicate"]),
    ({"permissions": ["ask_join", "allow_mod"]}, "permissions", ["conflict"]),
    ({"permissions": PERMISSION, "roles": []}, "roles", ["empty"]),
    ({"permissions": PERMISSION, "roles": ["admin"]}, "roles", ["enum"]),
    ({"permissions": PERMISSION, "roles": "rtc"}, "roles", ["type"]),
    ({"permissions": PERMISSION, "roomId": ""}, "roomId", ["empty"]),
    ({"permissions": PERMISSION, "roomId": 7}, "roomId", ["type"]),
    ({"permissions": PERMISSION, "roomId": "r\u0085"}, "roomId", ["pattern"]),
    ({"permissions": PERMISSION, "roomId": "r" * 256}, "roomId", ["too_long"]),
    ({"permissions": PERMISSION, "roomId": "moor\u202e"}, "roomId", ["pattern"]),
    ({"permissions": PERMISSION, "participantId": "al\u200bice"}, "participantId", ["pattern"]),
    ({"permissions": PERMISSION, "participantId": "a b"}, "participantId", ["pattern"]),
    ({"permissions": PERMISSION, "expiresIn": "120"}, "expiresIn", ["pattern"]),
    ({"permissions": PERMISSION, "expiresIn": "10 parsecs"}, "expiresIn", ["pattern"]),
    ({"permissions": PERMISSION, "expiresIn": ""}, "expiresIn", ["empty"]),
    ({"permissions": PERMISSION, "expiresIn": 0.5}, "expiresIn", ["range"]),
    ({"permissions": PERMISSION, "expiresIn": "-1h"}, "expiresIn", ["range"]),
    ({"permissions": PERMISSION, "expiresIn": "101y"}, "expiresIn", ["range"]),
    ({"permissions": PERMISSION, "expiresIn": True}, "expiresIn", ["type"]),
    ({"permissions": PERMISSION, "apikey": ""}, "apikey", ["empty"]),
    ({"permissions": PERMISSION, "apikey": 5}, "apikey", ["type"]),
]


@pytest.mark.parametrize(("body", "field", "codes"), MINT_CASES)
def test_mint_refusals_carry_a_code_per_message(api, caller, body, field, codes):
    _expect(api.post("/api/v1/tokens", json=body, headers=caller.headers), 422, field, codes)


def test_policy_refusals_are_coded_policy(api, caller):
    body = _expect(api.post("/api/v1/tokens", json={"permissions": PERMISSION,
                                                     "expiresIn": "30d"},
                            headers=caller.headers), 403, "expiresIn", ["policy"])
    assert body["code"] == "policy_violation"


def test_a_body_that_is_not_an_object_is_coded_type(api, caller):
    _expect(api.post("/api/v1/tokens", json=[1], headers=caller.headers), 422, "body", ["type"])


def test_several_keys_and_no_apikey_is_coded_key_choice(api, make_key, make_caller):
    make_key()
    make_key("other", "22222222-aaaa-4bbb-8ccc-000000000002", "b" * 64)
    caller = make_caller("two-keys")
    _expect(api.post("/api/v1/tokens", json={"permissions": PERMISSION},
                     headers=caller.headers), 422, "apikey", ["key_choice"])
    _expect(api.get("/get-token", headers=caller.headers), 422, "apikey", ["key_choice"])


INSPECT_CASES = [
    ({}, "token", ["required"]),
    ({"token": 5}, "token", ["type"]),
    ({"token": " \n"}, "token", ["empty"]),
    ({"token": "x" * 9000}, "token", ["too_long"]),
    ({"token": "t", "use": "watch"}, "use", ["enum"]),
    ({"token": "t", "at": "yesterday"}, "at", ["pattern"]),
    ({"token": "t", "at": 1700000000}, "at", ["type"]),
    ({"token": "t", "extra": 1}, "extra", ["unknown"]),
]


@pytest.mark.parametrize(("body", "field", "codes"), INSPECT_CASES)
def test_inspect_refusals_carry_a_code_per_message(api, caller, body, field, codes):
    _expect(api.post("/api/v1/tokens/inspect", json=body, headers=caller.headers), 422, field,
            codes)


def test_introspection_and_drop_in_refusals_carry_codes(api, caller):
    _expect(api.post("/api/v1/tokens/introspect", data={"token": ""}, headers=caller.headers),
            422, "token", ["empty"])
    _expect(api.post("/get-token", json={"roomId": 5}, headers=caller.headers), 422, "roomId",
            ["type"])
    # The drop-in names the domain's participantId as its callers do: peerId.
    _expect(api.get("/get-token?peerId=a%20b", headers=caller.headers), 422, "peerId",
            ["pattern"])


def test_the_vocabulary_is_documented_in_the_schema():
    known = document()["components"]["schemas"]["KnownFieldErrorCode"]
    assert known["enum"] == [code.value for code in FieldErrorCode]
    for code in FieldErrorCode:
        assert f"`{code.value}`" in known["description"]


# -- the schema is as strict as the server ----------------------------------------------------

def _validator(schema: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{schema}",
                                 "components": document()["components"]})


def _mint(fields: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """A mint body: permissions ["allow_join"] unless ``fields`` says otherwise."""
    return "MintRequest", "/api/v1/tokens", {"permissions": PERMISSION, **fields}


def _inspect(body: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    return "InspectRequest", "/api/v1/tokens/inspect", body


# The request shapes issue 17 found allowed by the schema and refused by the server, and more
# of each kind: every one must now be refused by both.
REFUSED_BY_BOTH = [
    _mint({"roomId": ""}),
    _mint({"participantId": ""}),
    _mint({"roomId": "a\u0001b"}),
    _mint({"roomId": "a\u009fb"}),
    _mint({"roomId": "r" * 256}),
    _mint({"roomId": "moor\u202e"}),
    _mint({"roomId": "a\ufeffb"}),
    _mint({"participantId": "a\u3000b"}),
    _mint({"participantId": "a\tb"}),
    _mint({"expiresIn": ""}),
    _mint({"expiresIn": "  "}),
    _mint({"expiresIn": 0.5}),
    _mint({"expiresIn": 0}),
    _mint({"expiresIn": "120"}),
    _mint({"expiresIn": "0s"}),
    _mint({"expiresIn": "999ms"}),
    _mint({"expiresIn": "0.01m"}),
    _mint({"expiresIn": "-1h"}),
    _mint({"expiresIn": "1e3s"}),
    _mint({"expiresIn": "101y"}),
    _mint({"expiresIn": 4e9}),
    _mint({"permissions": ["ask_join", "allow_mod"]}),
    _mint({"permissions": ["allow_join", "ask_join"]}),
    _mint({"permissions": ["allow_join", "allow_join"]}),
    _mint({"roles": []}),
    _mint({"apikey": ""}),
    _mint({"version": 2}),
    _inspect({"token": ""}),
    _inspect({"token": " \t\n"}),
    _inspect({"token": "x" * 8193}),
    _inspect({"token": "t", "use": "watch"}),
]


@pytest.mark.parametrize(("schema", "path", "body"), REFUSED_BY_BOTH)
def test_what_the_server_refuses_the_schema_refuses(api, caller, schema, path, body):
    assert not _validator(schema).is_valid(body)
    assert api.post(path, json=body, headers=caller.headers).status_code in (403, 422)


ACCEPTED_BY_BOTH = [
    {"permissions": ["ask_join"]},
    {"permissions": ["allow_join", "allow_mod"], "roles": ["rtc", "crawler"],
     "roomId": "room 1", "participantId": "alice", "expiresIn": " 90 Minutes "},
    {"permissions": PERMISSION, "expiresIn": "1000ms"},
    {"permissions": PERMISSION, "expiresIn": "0.0167m"},
    {"permissions": PERMISSION, "expiresIn": ".5h"},
    {"permissions": PERMISSION, "expiresIn": 1},
    {"permissions": PERMISSION, "expiresIn": None, "roles": None, "roomId": None},
]


@pytest.mark.parametrize("body", ACCEPTED_BY_BOTH)
def test_what_the_schema_allows_the_server_takes(api, caller, body):
    assert _validator("MintRequest").is_valid(body)
    answer = api.post("/api/v1/tokens", json=body, headers=caller.headers)
    assert answer.status_code == 201, answer.get_json()
