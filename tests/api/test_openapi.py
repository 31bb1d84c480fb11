"""The OpenAPI 3.1 document: valid, complete, and true to the app (schemathesis)."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support import unavailable
from webapp.api.openapi import document
from webapp.extensions import db
from webapp.services.api_clients import create_client
from webapp.services.videosdk_keys import add_key

from .conftest import MAIN_APIKEY, MAIN_SECRET

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def test_the_document_is_public_json(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    served = response.get_json()
    assert served == document()
    assert served["openapi"] == "3.1.0"
    assert set(served["paths"]) == {"/api/v1/tokens", "/api/v1/tokens/inspect",
                                      "/api/v1/tokens/introspect", "/get-token",
                                      "/create-meeting", "/create-meeting/",
                                      "/validate-meeting/{meetingId}", "/api/v1/openapi.json"}


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
    routed = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method)
              for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith(("api.", "dropin."))
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == routed


def test_every_operation_documents_its_errors_as_problems(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path.endswith("openapi.json"):
                continue
            assert {"400", "401", "403", "413", "422", "429"} <= set(operation["responses"]), (
                path, method)
            for status in ("401", "403", "422", "429"):
                content = operation["responses"][status]["content"]
                assert list(content) == ["application/problem+json"]
            assert operation["security"], (path, method)
    assert document["components"]["securitySchemes"]["clientKey"] == {
        "type": "http", "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["clientKey"]["description"]}


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
    case.call_and_validate(app=app, headers=fuzz_headers, checks=CHECKS)
