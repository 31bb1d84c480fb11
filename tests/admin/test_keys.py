"""/admin/keys: add, edit, disable; the secret is write-only and encrypted at rest."""

from __future__ import annotations

import base64
import html

import pytest
from sqlalchemy import text

from tests.admin.conftest import OTHER_SECRET, SECRET
from webapp.extensions import db
from webapp.services import videosdk_keys


def new_key_form(**overrides: object) -> dict[str, object]:
    form: dict[str, object] = {
        "label": "staging", "apikey": "stage-api-key", "secret": SECRET,
        "max_lifetime": "2h", "permissions": ["allow_join", "allow_mod"], "roles": ["rtc"],
    }
    form.update(overrides)
    return {name: value for name, value in form.items() if value is not None}


def secret_forms(secret: str) -> list[bytes]:
    """The plaintext and the encodings a careless implementation might store instead."""
    raw = secret.encode()
    return [raw, base64.b64encode(raw), base64.urlsafe_b64encode(raw),
            base64.b64encode(raw).rstrip(b"="), raw.hex().encode()]


def test_adding_a_key_stores_it_and_shows_only_the_last_four(app, admin_client, audit_events):
    response = admin_client.post("/admin/keys/new", data=new_key_form())
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/keys"
    with app.app_context():
        key = videosdk_keys.key_by_label("staging")
        assert key is not None
        assert (key.apikey, key.secret_last4, key.max_lifetime) == ("stage-api-key", "beef", 7200)
        assert key.allowed_permissions == ["allow_join", "allow_mod"]
        assert key.allowed_roles == ["rtc"]
        assert (key.disabled, key.sandbox) == (False, False)
        assert videosdk_keys.decrypt_secret(key) == SECRET

    page = admin_client.get("/admin/keys").get_data(as_text=True)
    assert "Key &#39;staging&#39; added. Its secret is stored encrypted; from now on only its " \
        "last 4 characters are shown." in page
    assert "…beef" in page
    assert SECRET not in page and SECRET[:-4] not in page

    event = audit_events("key.created")[-1]
    assert (event.actor, event.target, event.outcome, event.address) == (
        admin_client.person.email, "staging", "success", "127.0.0.1")
    assert event.details == {"apikey": "stage-api-key", "maxLifetime": "2h",
                             "permissions": ["allow_join", "allow_mod"], "roles": ["rtc"]}


def test_the_stored_column_holds_no_plaintext(app, admin_client):
    admin_client.post("/admin/keys/new", data=new_key_form())
    with app.app_context():
        rows = db.session.execute(text(
            "SELECT secret_encrypted, secret_last4 FROM videosdk_keys WHERE label = 'staging'"
        )).all()
        audit_rows = db.session.execute(text("SELECT details FROM audit_events")).all()
    assert len(rows) == 1
    stored = bytes(rows[0][0])
    assert rows[0][1] == "beef"
    assert stored.startswith(b"gAAAAA")  # a Fernet token
    for form in secret_forms(SECRET):
        assert form not in stored
        assert all(form.decode() not in str(row[0]) for row in audit_rows)


def test_keys_json_masks_the_secret(admin_client, stored_key):
    response = admin_client.get("/admin/keys?format=json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {"keys": [{
        "label": "production", "apikey": "prod-api-key", "secret": "…beef",
        "maxLifetime": "1d", "allowedPermissions": ["allow_join", "ask_join", "allow_mod"],
        "allowedRoles": ["crawler", "rtc"], "disabled": False, "sandbox": False,
        "createdAt": response.get_json()["keys"][0]["createdAt"],
    }]}
    assert SECRET not in response.get_data(as_text=True)


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"secret": "too-short-secret"}, "secret",
     "Too short: a secret needs at least 32 bytes (this one has 16)."),
    ({"secret": "x" * 31}, "secret",
     "Too short: a secret needs at least 32 bytes (this one has 31)."),
    ({"secret": ""}, "secret", "This field is required."),
    ({"label": ""}, "label", "This field is required."),
    ({"label": "production"}, "label", "A key with this label exists already; choose another."),
    ({"apikey": "prod-api-key"}, "apikey", "This API key is stored already, as 'production'."),
    ({"apikey": "has space"}, "apikey", "An API key has no spaces"),
    ({"label": "prod\x1b[31m"}, "label",
     "The label holds a control character, U+001B, which would show as "
     "something it is not: remove it."),
    ({"label": "a\x07b"}, "label", "The label holds a control character, U+0007"),
    ({"label": "a\x00b"}, "label", "The label holds a control character, U+0000"),
    ({"label": "prod\u202e"}, "label", "The label holds an invisible format character, "
     "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ({"apikey": "key\x1b[2J"}, "apikey", "The API key holds a control character, U+001B"),
    ({"max_lifetime": "120"}, "max_lifetime", "milliseconds"),
    ({"max_lifetime": "31d"}, "max_lifetime", "At most 30d (MAX_TOKEN_LIFETIME)."),
    ({"max_lifetime": ""}, "max_lifetime", "Give a lifetime such as 24h."),
    ({"permissions": []}, "permissions", "Allow at least one permission"),
    ({"permissions": ["allow_everything"]}, "permissions", "not a valid choice"),
    ({"roles": ["superuser"]}, "roles", "not a valid choice"),
])
def test_a_refused_key_says_why_and_keeps_what_was_typed(app, admin_client, stored_key,
                                                         audit_events, overrides, field,
                                                         message):
    form = new_key_form(**overrides)
    response = admin_client.post("/admin/keys/new", data=form)
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    # The message sits beside its field: right after the field's input, marked invalid.
    field_at = body.index(f'name="{field}"')
    assert message in body[field_at:field_at + 1500]
    assert "is-invalid" in body[field_at - 200:field_at + 200]
    if field != "label":
        assert 'value="staging"' in body
    # The secret is never sent back, even when it was fine.
    assert SECRET not in body
    with app.app_context():
        assert [k.label for k in videosdk_keys.all_keys()] == ["production"]
    event = audit_events("key.created")[-1]
    assert (event.outcome, event.target) == ("refused", None)
    assert field in event.details["fields"]


def test_editing_a_key_changes_its_policy(app, admin_client, stored_key, audit_events):
    response = admin_client.post(f"/admin/keys/{stored_key['id']}", data={
        "max_lifetime": "7d", "permissions": ["ask_join"], "roles": []})
    assert (response.status_code, response.headers["Location"]) == (302, "/admin/keys")
    with app.app_context():
        key = videosdk_keys.key_by_label("production")
        assert (key.max_lifetime, key.allowed_permissions, key.allowed_roles) == (
            7 * 86400, ["ask_join"], [])
        assert videosdk_keys.decrypt_secret(key) == SECRET
    event = audit_events("key.updated")[-1]
    assert event.details == {"changes": {"maxLifetime": "7d", "permissions": ["ask_join"],
                                         "roles": []}}
    assert audit_events("key.secret_replaced") == []


def test_the_edit_page_starts_from_the_stored_policy(admin_client, stored_key):
    body = admin_client.get(f"/admin/keys/{stored_key['id']}").get_data(as_text=True)
    assert 'value="1d"' in body
    assert body.count("checked") == 5
    assert "…beef" in body and SECRET not in body


def test_replacing_the_secret(app, admin_client, stored_key, audit_events):
    response = admin_client.post(f"/admin/keys/{stored_key['id']}", data={
        "max_lifetime": "1d", "permissions": ["allow_join", "ask_join", "allow_mod"],
        "roles": ["crawler", "rtc"], "new_secret": OTHER_SECRET})
    assert response.status_code == 302
    with app.app_context():
        key = videosdk_keys.key_by_label("production")
        assert (videosdk_keys.decrypt_secret(key), key.secret_last4) == (OTHER_SECRET, "c0de")
    assert [e.target for e in audit_events("key.secret_replaced")] == ["production"]
    assert audit_events("key.updated") == []
    assert OTHER_SECRET not in str([e.details for e in audit_events()])


def test_a_short_new_secret_is_refused(app, admin_client, stored_key):
    response = admin_client.post(f"/admin/keys/{stored_key['id']}", data={
        "max_lifetime": "1d", "permissions": ["allow_join"], "new_secret": "short"})
    assert response.status_code == 400
    assert "Too short: a secret needs at least 32 bytes (this one has 5)." in \
        html.unescape(response.get_data(as_text=True))
    with app.app_context():
        key = videosdk_keys.key_by_label("production")
        assert (videosdk_keys.decrypt_secret(key), key.allowed_roles) == (
            SECRET, ["crawler", "rtc"])


def test_disabling_and_enabling_a_key(app, admin_client, stored_key, audit_events):
    response = admin_client.post(f"/admin/keys/{stored_key['id']}/disable")
    assert (response.status_code, response.headers["Location"]) == (302, "/admin/keys")
    with app.app_context():
        assert videosdk_keys.key_by_label("production").disabled is True
        assert videosdk_keys.active_keys() == []
    admin_client.post(f"/admin/keys/{stored_key['id']}/enable")
    with app.app_context():
        assert videosdk_keys.key_by_label("production").disabled is False
    assert [e.action for e in audit_events() if e.action.startswith("key.")] == [
        "key.disabled", "key.enabled"]


def test_an_unknown_key_is_404(admin_client):
    assert admin_client.get("/admin/keys/999").status_code == 404
    assert admin_client.post("/admin/keys/999/disable").status_code == 404


def test_the_sandbox_key_is_marked_as_useless_at_videosdk(app, admin_client):
    with app.app_context():
        videosdk_keys.seed_first_key()
        db.session.commit()
    body = admin_client.get("/admin/keys").get_data(as_text=True)
    assert "Sandbox key: VideoSDK will not accept its tokens" in body
    assert '<span class="badge text-bg-warning">sandbox</span>' in body


def test_no_sandbox_warning_for_real_keys(admin_client, stored_key):
    assert "will not accept" not in admin_client.get("/admin/keys").get_data(as_text=True)
