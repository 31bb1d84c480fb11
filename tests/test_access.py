"""Every endpoint states who may reach it."""

from __future__ import annotations

import pytest

ROLES = ("admin", "developer", "support")


def test_every_endpoint_is_role_guarded_or_marked_public(app):
    unmarked = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, "access", None) is None:
            unmarked.append(rule.endpoint)
    assert unmarked == []


def test_the_public_endpoints_are_exactly_the_expected_ones(app):
    public = sorted(
        rule.endpoint for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "access", None) == "public"
    )
    allowed = {"auth.login", "auth.logout", "health.healthz", "health.readyz", "api.openapi"}
    assert set(public) <= allowed


@pytest.mark.parametrize(("role", "path", "status"), [
    ("admin", "/", 200), ("developer", "/", 200), ("support", "/", 403),
    ("admin", "/inspect", 200), ("developer", "/inspect", 200), ("support", "/inspect", 200),
])
def test_console_pages_by_role(sign_in, role, path, status):
    assert sign_in(role).get(path).status_code == status


def test_forbidden_page_reveals_nothing(sign_in):
    response = sign_in("support").get("/")
    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Not allowed" in body
    assert "Traceback" not in body
