"""Who may reach each admin route: admins only; others 403; visitors go to sign in."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

# (endpoint, method, path with {key}/{user}/{client} placeholders, status an admin gets
# from a bare request: forms without data are refused with 400, actions redirect).
ROUTES = [
    ("admin.keys", "GET", "/admin/keys", 200),
    ("admin.keys", "GET", "/admin/keys?format=json", 200),
    ("admin.new_key", "GET", "/admin/keys/new", 200),
    ("admin.new_key", "POST", "/admin/keys/new", 400),
    ("admin.edit_key", "GET", "/admin/keys/{key}", 200),
    ("admin.edit_key", "POST", "/admin/keys/{key}", 302),
    ("admin.disable_key", "GET", "/admin/keys/{key}/disable", 200),
    ("admin.disable_key", "POST", "/admin/keys/{key}/disable", 302),
    ("admin.enable_key", "POST", "/admin/keys/{key}/enable", 302),
    ("admin.users", "GET", "/admin/users", 200),
    ("admin.new_user", "GET", "/admin/users/new", 200),
    ("admin.new_user", "POST", "/admin/users/new", 400),
    ("admin.user", "GET", "/admin/users/{user}", 200),
    ("admin.user_role", "POST", "/admin/users/{user}/role", 400),
    ("admin.disable_user", "GET", "/admin/users/{user}/disable", 200),
    ("admin.disable_user", "POST", "/admin/users/{user}/disable", 302),
    ("admin.enable_user", "POST", "/admin/users/{user}/enable", 302),
    ("admin.reset_password", "POST", "/admin/users/{user}/password", 200),
    ("admin.clients", "GET", "/admin/clients", 200),
    ("admin.new_client", "GET", "/admin/clients/new", 200),
    ("admin.new_client", "POST", "/admin/clients/new", 400),
    ("admin.edit_client", "GET", "/admin/clients/{client}", 200),
    ("admin.edit_client", "POST", "/admin/clients/{client}", 302),
    ("admin.revoke_client", "GET", "/admin/clients/{client}/revoke", 200),
    ("admin.revoke_client", "POST", "/admin/clients/{client}/revoke", 302),
    ("admin.audit", "GET", "/admin/audit", 200),
    ("admin.audit", "GET", "/admin/audit?format=csv", 200),
    ("admin.audit_csv", "GET", "/admin/audit.csv", 200),
]
IDS = [f"{method} {path}" for _, method, path, _ in ROUTES]


@pytest.fixture
def targets(make_user, stored_key, api_client):
    """Ids to fill the placeholders: a key, a support person, an API client."""
    person = make_user("target@example.com", "support")
    return {"key": stored_key["id"], "user": person.id, "client": api_client["id"]}


def test_the_matrix_covers_every_admin_route(app):
    registered = {(rule.endpoint, method)
                  for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")
                  for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert {(endpoint, method) for endpoint, method, _, _ in ROUTES} == registered


@pytest.mark.parametrize(("endpoint", "method", "path", "status"), ROUTES, ids=IDS)
def test_admins_reach_every_route(admin_client, targets, endpoint, method, path, status):
    response = admin_client.open(path.format(**targets), method=method)
    assert response.status_code == status, response.get_data(as_text=True)[:500]


@pytest.mark.parametrize("role", ["developer", "support"])
@pytest.mark.parametrize(("endpoint", "method", "path", "status"), ROUTES, ids=IDS)
def test_developers_and_support_are_refused(sign_in, targets, audit_events, role, endpoint,
                                            method, path, status):
    before = len(audit_events())
    response = sign_in(role).open(path.format(**targets), method=method)
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)
    # Only their own sign-in was recorded: the refused request changed nothing.
    assert [e.action for e in audit_events()[before:]] == ["auth.login"]


@pytest.mark.parametrize(("endpoint", "method", "path", "status"), ROUTES, ids=IDS)
def test_visitors_are_sent_to_sign_in_with_next(client, targets, endpoint, method, path, status):
    concrete = path.format(**targets)
    response = client.open(concrete, method=method)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?" + urlencode({"next": concrete})
