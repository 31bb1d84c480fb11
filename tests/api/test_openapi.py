"""The OpenAPI 3.1 document: valid, complete, and true to the app (schemathesis)."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks

from tests.support import unavailable
from webapp.api.openapi import document
from webapp.extensions import db
from webapp.services.api_clients import create_client
from webapp.services.videosdk_keys import add_key

from .conftest import MAIN_APIKEY, MAIN_SECRET

# Every check schemathesis has (`--checks all`): besides the four of SPEC 5, that the server
# accepts every request the schema allows and refuses every one it does not, that documented
# headers are sent, that an undocumented method gets 405 with Allow, and that auth is enforced.
load_all_checks()
ALL_CHECKS = CHECKS.get_all()


def test_the_document_is_public_json(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    served = response.get_json()
    assert served == document()
    assert served["openapi"] == "3.1.0"
    assert set(served["paths"]) == {"/api/v1/tokens", "/api/v1/tokens/inspect",
                                      "/api/v1/tokens/introspect", "/get-token",
                                      "/create-meeting", "/validate-meeting/{meetingId}",
                                      "/api/v1/openapi.json"}


def test_the_document_is_valid_openapi_3_1(client):
    try:
        from openapi_spec_validator import OpenAPIV31SpecValidator
    except ImportError:
        unavailable("openapi-spec-validator is not installed (pip install -e '.[dev]')")
        return
    errors = list(OpenAPIV31SpecValidator(client.get("/api/v1/openapi.json").get_json())
                  .iter_errors())
    assert errors == []


def test_every_route_of_the_app_is_described(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    described = {(path, method.upper()) for path, item in document["paths"].items()
                 for method in item}
    # Werkzeug's <converter:name> is OpenAPI's {name}.
    # The example servers' "/create-meeting/" is served as an alias and described in words
    # on /create-meeting: Redocly's recommended ruleset refuses a path with a trailing slash.
    aliases = {"/create-meeting/": "/create-meeting"}
    routed = {(aliases.get(rule.rule, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)), method)
              for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith(("api.", "dropin."))
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == routed
    create = document["paths"]["/create-meeting"]["post"]["description"]
    assert "POST /create-meeting/ is the same route" in create


def _resolve(document, item):  # type: ignore[no-untyped-def]
    while "$ref" in item:
        *_, kind, name = item["$ref"].split("/")
        item = document["components"][kind][name]
    return item


def test_every_operation_documents_its_errors_as_one_problem_schema(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert "default" in operation["responses"], (path, method)
            if path.endswith("openapi.json"):
                continue
            assert {"400", "401", "403", "413", "422", "429", "503", "default"} <= set(
                operation["responses"]), (path, method)
            for status, answer in operation["responses"].items():
                answer = _resolve(document, answer)
                if status.startswith("2"):
                    assert answer["headers"]["Cache-Control"]["required"] is True
                    continue
                content = dict(answer["content"])
                if status == "4XX":  # VideoSDK's other refusals, on the relay routes only
                    assert path.startswith(("/create-meeting", "/validate-meeting"))
                    continue
                assert content.pop("application/problem+json")["schema"] == {
                    "$ref": "#/components/schemas/Problem"}, (path, method, status)
                if path.startswith(("/create-meeting", "/validate-meeting")):
                    # VideoSDK's own refusals, passed on as they came.
                    content.pop("application/json", None)
                assert content == {}, (path, method, status)
            assert operation["security"], (path, method)
    scheme = document["components"]["securitySchemes"]["clientKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert scheme["bearerFormat"].startswith("Token Console client key (tck_")


def test_headers_are_documented_on_the_answers_that_carry_them(client):
    document = client.get("/api/v1/openapi.json").get_json()
    responses = document["components"]["responses"]
    assert responses["Unauthorized"]["headers"]["WWW-Authenticate"]["required"] is True
    limited = responses["RateLimited"]["headers"]
    assert {name: limited[name]["required"] for name in (
        "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")} == {
        "Retry-After": True, "X-RateLimit-Limit": True, "X-RateLimit-Remaining": True,
        "X-RateLimit-Reset": True}
    assert "Retry-After" in responses["ServiceUnavailable"]["headers"]
    # Retry-After only on 429 and 503 (SPEC 5).
    with_retry = {name for name, answer in responses.items() if "Retry-After" in answer["headers"]}
    assert with_retry == {"RateLimited", "ServiceUnavailable"}
    mint = document["paths"]["/api/v1/tokens"]["post"]["responses"]["201"]["headers"]
    assert set(mint) == {"Cache-Control", "X-RateLimit-Limit", "X-RateLimit-Remaining",
                         "X-RateLimit-Reset"}
    # The server sends no challenge on a 403 (issue 17): the document promises none.
    assert "WWW-Authenticate" not in responses["Forbidden"]["headers"]


def test_the_names_are_the_ones_generated_clients_use(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation_ids = {operation["operationId"] for item in document["paths"].values()
                     for operation in item.values()}
    assert {"mintToken", "inspectToken", "introspectToken", "getTokenDropIn"} <= operation_ids
    schemas = document["components"]["schemas"]
    assert {"Problem", "Claims", "Header", "Reason", "Diagnosis", "Introspection",
            "ActiveIntrospection", "InactiveIntrospection", "IntrospectionForm",
            "Permission", "Role", "Use", "FieldError"} <= set(schemas)
    assert "summary" in schemas["Diagnosis"]["required"]
    # Open where the server grows them: a code not known today still reads.
    for schema, field in (("Problem", "code"), ("Reason", "code"), ("FieldError", "code")):
        assert {"type": "string"} in schemas[schema]["properties"][field]["anyOf"]
    # One enum for requests and answers: a minted token's claims can be sent again.
    assert schemas["MintRequest"]["properties"]["permissions"]["items"] == \
        schemas["Claims"]["properties"]["permissions"]["items"] == {
            "$ref": "#/components/schemas/Permission"}
    for name in ("tags",):
        assert all(tag["description"] for tag in document[name])
    assert document["info"]["license"]["name"] and document["info"]["contact"]["name"]


def test_every_operation_has_examples(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                assert content["examples"], (path, method)
            for status, answer in operation["responses"].items():
                for content in _resolve(document, answer).get("content", {}).values():
                    assert content.get("examples") or content.get("example"), (
                        path, method, status)


@pytest.fixture
def fuzz_headers(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A client with every scope, one key, and a rate limit far above the run."""
    with app.app_context():
        add_key("main", MAIN_APIKEY, MAIN_SECRET)
        _, plaintext = create_client("schemathesis", ["tokens:mint", "tokens:inspect"],
                                     rate_limit="100000/minute")
        db.session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


# Loaded from the same dict the app serves (the lazy fixture loader of schemathesis 4.32 does
# not run under pytest 9); the calls below go to each test's own app over WSGI.
schema = schemathesis.openapi.from_dict(document())
schema.config.generation.update(max_examples=30, with_security_parameters=False,
                                deterministic=True)


@schema.parametrize()
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_the_app_keeps_the_promises_of_its_document(app, case, fuzz_headers):
    # Checks that send probes of their own (ignored_auth) find the app on the operation.
    case.operation.app = case.operation.schema.app = app
    case.call_and_validate(app=app, headers=fuzz_headers, checks=ALL_CHECKS)
