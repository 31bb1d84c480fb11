"""/admin/clients: the key is shown once and stored as a hash; revoking stops it."""

from __future__ import annotations

import hashlib
import html
import re

import pytest
from sqlalchemy import select, text

from webapp import clients
from webapp.extensions import db
from webapp.models import ApiClient


def created_key(body: str) -> str:
    match = re.search(r'id="client-key" value="([^"]+)"', body)
    assert match, "no client key on the page"
    return match.group(1)


def test_creating_a_client_shows_its_key_once(app, admin_client, stored_key, audit_events):
    response = admin_client.post("/admin/clients/new", data={
        "name": "meetings-backend", "scopes": ["tokens:mint", "tokens:inspect"],
        "keys": ["production"], "max_lifetime": "2h", "rate_limit": "100/minute"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Location" not in response.headers
    key = created_key(body)
    assert clients.looks_like_client_key(key)
    with app.app_context():
        client = db.session.execute(select(ApiClient)).scalar_one()
        assert (client.name, client.scopes, [k.label for k in client.keys]) == (
            "meetings-backend", ["tokens:mint", "tokens:inspect"], ["production"])
        assert (client.max_lifetime, client.rate_limit) == (7200, "100/minute")
        assert client.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert clients.authenticate(key).id == client.id
        # Only the hash and a short prefix are stored.
        row = db.session.execute(text("SELECT * FROM api_clients")).one()
        assert key not in str(tuple(row))
        assert client.key_prefix == key[:8]
    # Never again: not on the list, not in a flash, the session or the audit trail.
    listing = admin_client.get("/admin/clients").get_data(as_text=True)
    assert key not in listing and f"{key[:8]}…" in listing
    with admin_client.session_transaction() as session:
        assert key not in str(dict(session))
    event = audit_events("client.created")[-1]
    assert (event.actor, event.target, event.outcome) == (
        admin_client.person.email, "meetings-backend", "success")
    assert event.details == {"scopes": ["tokens:mint", "tokens:inspect"], "keys": ["production"],
                             "maxLifetime": "2h", "rateLimit": "100/minute",
                             "keyPrefix": key[:8]}
    assert key[8:] not in str([e.details for e in audit_events()])


def test_a_client_without_keys_may_use_every_active_key_and_gets_the_default_limit(
        app, admin_client, stored_key):
    form = admin_client.get("/admin/clients/new").get_data(as_text=True)
    assert 'value="600/minute"' in form
    response = admin_client.post("/admin/clients/new", data={
        "name": "any-key", "scopes": ["tokens:inspect"], "rate_limit": "600/minute"})
    assert response.status_code == 200
    with app.app_context():
        client = db.session.execute(select(ApiClient)).scalar_one()
        assert (client.keys, client.max_lifetime, client.rate_limit) == ([], None, "600/minute")
        assert [k.label for k in clients.usable_keys(client)] == ["production"]


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"name": ""}, "name", "This field is required."),
    ({"name": "backend"}, "name", "A client with this name exists already; choose another."),
    ({"scopes": []}, "scopes", "Choose at least one scope."),
    ({"scopes": ["tokens:everything"]}, "scopes", "not a valid choice"),
    ({"keys": ["no-such-key"]}, "keys", "not a valid choice"),
    ({"max_lifetime": "forever"}, "max_lifetime", "forever"),
    ({"max_lifetime": "90d"}, "max_lifetime", "At most 30d (MAX_TOKEN_LIFETIME)."),
    ({"rate_limit": "lots"}, "rate_limit", "Write a limit such as 600/minute"),
    ({"rate_limit": ""}, "rate_limit", "This field is required."),
])
def test_a_refused_client_says_why(app, admin_client, api_client, audit_events, form, field,
                                   message):
    data = {"name": "new-client", "scopes": ["tokens:mint"], "rate_limit": "10/second", **form}
    response = admin_client.post("/admin/clients/new", data=data)
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "no-store" in response.headers["Cache-Control"]
    field_at = body.index(f'name="{field}"')
    assert message in body[field_at:field_at + 2000]
    assert 'id="client-key"' not in body
    with app.app_context():
        assert [c.name for c in db.session.execute(select(ApiClient)).scalars()] == ["backend"]
    assert audit_events("client.created")[-1].outcome == "refused"


def test_revoking_stops_the_key_at_the_next_request(app, admin_client, api_client, audit_events):
    with app.app_context():
        assert clients.authenticate(api_client["key"]) is not None
    response = admin_client.post(f"/admin/clients/{api_client['id']}/revoke")
    assert (response.status_code, response.headers["Location"]) == (302, "/admin/clients")
    with app.app_context():
        assert clients.authenticate(api_client["key"]) is None
        assert db.session.get(ApiClient, api_client["id"]).revoked_at is not None
    event = audit_events("client.revoked")[-1]
    assert (event.target, event.outcome, event.actor) == (
        "backend", "success", admin_client.person.email)
    listing = admin_client.get("/admin/clients").get_data(as_text=True)
    assert "revoked" in listing and "Revoke<span" not in listing

    again = admin_client.post(f"/admin/clients/{api_client['id']}/revoke")
    assert again.status_code == 302
    assert len(audit_events("client.revoked")) == 1


def test_an_unknown_client_is_404(admin_client):
    assert admin_client.post("/admin/clients/999/revoke").status_code == 404
