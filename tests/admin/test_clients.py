"""/admin/clients: the key is shown once and stored as a hash; revoking stops it."""

from __future__ import annotations

import hashlib
import html
import re

import pytest
from sqlalchemy import select, text

from webapp.extensions import db
from webapp.models import ApiClient
from webapp.services import api_clients


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
    assert api_clients.looks_like_client_key(key)
    with app.app_context():
        client = db.session.execute(select(ApiClient)).scalar_one()
        assert (client.name, client.scopes, [k.label for k in client.keys]) == (
            "meetings-backend", ["tokens:mint", "tokens:inspect"], ["production"])
        assert (client.max_lifetime, client.rate_limit) == (7200, "100/minute")
        assert client.key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert api_clients.authenticate(key).id == client.id
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
        assert [k.label for k in api_clients.usable_keys(client)] == ["production"]


# What a client may do is checked alike when it is created and when it is changed.
POLICY_REFUSALS = [
    ({"scopes": []}, "scopes", "Choose at least one scope."),
    ({"scopes": ["tokens:everything"]}, "scopes", "not a valid choice"),
    ({"keys": ["no-such-key"]}, "keys", "not a valid choice"),
    ({"max_lifetime": "forever"}, "max_lifetime", "forever"),
    ({"max_lifetime": "90d"}, "max_lifetime", "At most 30d (MAX_TOKEN_LIFETIME)."),
    ({"rate_limit": "lots"}, "rate_limit", "Write a limit such as 600/minute"),
    ({"rate_limit": "0/minute"}, "rate_limit",
     "A limit of 0 refuses every request: revoke the client instead."),
    ({"rate_limit": ""}, "rate_limit", "This field is required."),
]


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"name": ""}, "name", "This field is required."),
    ({"name": "backend"}, "name", "A client with this name exists already; choose another."),
    *POLICY_REFUSALS,
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
        assert api_clients.authenticate(api_client["key"]) is not None
    response = admin_client.post(f"/admin/clients/{api_client['id']}/revoke")
    assert (response.status_code, response.headers["Location"]) == (302, "/admin/clients")
    with app.app_context():
        assert api_clients.authenticate(api_client["key"]) is None
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


def bearer(api_client: dict[str, object]) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_client['key']}"}


def test_the_edit_page_shows_what_the_client_may_do(admin_client, api_client):
    response = admin_client.get(f"/admin/clients/{api_client['id']}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'<input[^>]*checked[^>]*value="tokens:mint"', body)
    assert not re.search(r'<input[^>]*checked[^>]*value="tokens:inspect"', body)
    assert re.search(r'<input[^>]*checked[^>]*value="production"', body)
    assert re.search(r'name="rate_limit"[^>]*value="600/minute"', body)
    assert re.search(r'name="max_lifetime"[^>]*value=""', body)
    assert f"{api_client['key'][:8]}…" in body
    assert api_client["key"][8:] not in body
    assert "Save changes" in body and "Revoke client" in body
    listing = admin_client.get("/admin/clients").get_data(as_text=True)
    assert f'href="/admin/clients/{api_client["id"]}"' in listing


def test_an_edit_holds_from_the_clients_next_request(app, admin_client, api_client,
                                                     audit_events):
    api = app.test_client()
    minted = api.post("/api/v1/tokens", json={"permissions": ["allow_join"]},
                      headers=bearer(api_client))
    assert (minted.status_code, minted.headers["X-RateLimit-Limit"]) == (201, "600")

    response = admin_client.post(f"/admin/clients/{api_client['id']}", data={
        "scopes": ["tokens:mint", "tokens:inspect"], "keys": [], "max_lifetime": "30m",
        "rate_limit": "7/minute"})
    assert (response.status_code, response.headers["Location"]) == (302, "/admin/clients")
    listing = html.unescape(admin_client.get("/admin/clients").get_data(as_text=True))
    assert "Client 'backend' saved: the change holds from its next request." in listing
    with app.app_context():
        stored = db.session.get(ApiClient, api_client["id"])
        assert (stored.scopes, stored.keys, stored.max_lifetime, stored.rate_limit) == (
            ["tokens:mint", "tokens:inspect"], [], 1800, "7/minute")
    event = audit_events("client.updated")[-1]
    assert (event.actor, event.target, event.outcome) == (
        admin_client.person.email, "backend", "success")
    assert event.details == {"changes": {"scopes": ["tokens:mint", "tokens:inspect"],
                                         "keys": [], "maxLifetime": "30m",
                                         "rateLimit": "7/minute"}}

    # The same key, now under the new policy: its new limit, its new ceiling, its new scope.
    again = api.post("/api/v1/tokens", json={"permissions": ["allow_join"], "expiresIn": "30m"},
                     headers=bearer(api_client))
    assert (again.status_code, again.headers["X-RateLimit-Limit"]) == (201, "7")
    assert again.get_json()["expiresIn"] == 1800
    too_long = api.post("/api/v1/tokens", json={"permissions": ["allow_join"], "expiresIn": "1h"},
                        headers=bearer(api_client))
    assert (too_long.status_code, too_long.get_json()["code"]) == (403, "policy_violation")
    inspected = api.post("/api/v1/tokens/inspect", json={"token": "a.b.c"},
                         headers=bearer(api_client))
    assert inspected.status_code == 200


def test_taking_a_scope_away_refuses_the_next_request(app, admin_client, api_client):
    response = admin_client.post(f"/admin/clients/{api_client['id']}", data={
        "scopes": ["tokens:inspect"], "keys": ["production"], "rate_limit": "600/minute"})
    assert response.status_code == 302
    refused = app.test_client().post("/api/v1/tokens", json={"permissions": ["allow_join"]},
                                     headers=bearer(api_client))
    assert (refused.status_code, refused.get_json()["code"]) == (403, "forbidden")


def test_saving_without_a_change_records_nothing(app, admin_client, api_client, audit_events):
    response = admin_client.post(f"/admin/clients/{api_client['id']}", data={
        "scopes": ["tokens:mint"], "keys": ["production"], "max_lifetime": "",
        "rate_limit": "600/minute"})
    assert response.status_code == 302
    listing = html.unescape(admin_client.get("/admin/clients").get_data(as_text=True))
    assert "Nothing to change in client 'backend'." in listing
    assert audit_events("client.updated") == []


@pytest.mark.parametrize(("form", "field", "message"), POLICY_REFUSALS)
def test_a_refused_edit_says_why_and_changes_nothing(app, admin_client, api_client,
                                                     audit_events, form, field, message):
    data = {"scopes": ["tokens:inspect"], "keys": [], "max_lifetime": "1h",
            "rate_limit": "10/second", **form}
    response = admin_client.post(f"/admin/clients/{api_client['id']}", data=data)
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    field_at = body.index(f'name="{field}"')
    assert message in body[field_at:field_at + 2000]
    with app.app_context():
        stored = db.session.get(ApiClient, api_client["id"])
        assert (stored.scopes, [k.label for k in stored.keys], stored.max_lifetime,
                stored.rate_limit) == (["tokens:mint"], ["production"], None, "600/minute")
    event = audit_events("client.updated")[-1]
    assert (event.target, event.outcome, event.details) == (
        "backend", "refused", {"fields": [field]})


def test_a_revoked_client_is_shown_but_cannot_change(app, admin_client, api_client,
                                                     audit_events):
    assert admin_client.post(f"/admin/clients/{api_client['id']}/revoke").status_code == 302
    page = admin_client.get(f"/admin/clients/{api_client['id']}").get_data(as_text=True)
    assert "Revoked" in page and "<fieldset class=\"card-body\" disabled>" in page
    assert "Save changes" not in page and "Revoke client" not in page

    response = admin_client.post(f"/admin/clients/{api_client['id']}", data={
        "scopes": ["tokens:inspect"], "rate_limit": "600/minute"})
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "Client 'backend' is revoked; a revoked client cannot change." in body
    with app.app_context():
        assert db.session.get(ApiClient, api_client["id"]).scopes == ["tokens:mint"]
    event = audit_events("client.updated")[-1]
    assert (event.outcome, event.details) == (
        "refused", {"fields": [],
                    "reason": "Client 'backend' is revoked; a revoked client cannot change."})


def test_an_unknown_client_has_no_edit_page(admin_client):
    assert admin_client.get("/admin/clients/999").status_code == 404
    assert admin_client.post("/admin/clients/999", data={"scopes": ["tokens:mint"]}
                             ).status_code == 404


@pytest.mark.parametrize(("name", "named"), [
    ("app\x1b[31m", "a control character, U+001B"), ("bell\x07", "a control character, U+0007"),
    ("nul\x00", "a control character, U+0000"), ("c1\x9b", "a control character, U+009B"),
    ("app\u200b", "an invisible format character, U+200B (ZERO WIDTH SPACE)")])
def test_a_name_with_a_control_or_format_character_is_refused(app, admin_client, stored_key,
                                                              name, named):
    response = admin_client.post("/admin/clients/new", data={
        "name": name, "scopes": ["tokens:inspect"], "rate_limit": "600/minute"})
    assert response.status_code == 400
    assert f"The name holds {named}" in html.unescape(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.execute(select(ApiClient)).first() is None
