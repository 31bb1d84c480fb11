"""SPEC 4: revoking a client, disabling a key or a person, demoting an admin ask first.

A GET of the action names what it acts on and changes nothing; the POST it holds (with its
CSRF token in the real app) performs the action.
"""

from __future__ import annotations

import re

from webapp.extensions import db
from webapp.models import ApiClient, User, VideoSDKKey


def _form(body: str) -> tuple[str, dict[str, str]]:
    """The confirmation form's action and hidden fields."""
    action = re.search(r'<form method="post" action="([^"]+)"[^>]*id="confirmation"', body)
    assert action is not None, body
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))
    return action.group(1), fields


def test_revoking_a_client_asks_naming_it_then_revokes(app, admin_client, api_client,
                                                      audit_events):
    url = f"/admin/clients/{api_client['id']}/revoke"
    response = admin_client.get(url)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Revoke this API client?" in body
    assert '<p class="fs-5 fw-semibold text-break mb-3 confirm-subject">backend</p>' in body
    assert ">Revoke backend</button>" in body
    assert _form(body)[0] == url
    with app.app_context():
        assert db.session.get(ApiClient, api_client["id"]).revoked_at is None
    assert audit_events("client.revoked") == []
    # The list offers the confirmation page, never a one-click POST.
    listing = admin_client.get("/admin/clients").get_data(as_text=True)
    assert f'href="{url}"' in listing and f'action="{url}"' not in listing

    assert admin_client.post(url, data=_form(body)[1]).status_code == 302
    with app.app_context():
        assert db.session.get(ApiClient, api_client["id"]).revoked_at is not None
    assert [e.target for e in audit_events("client.revoked")] == ["backend"]


def test_disabling_a_key_asks_naming_label_and_api_key(app, admin_client, stored_key):
    url = f"/admin/keys/{stored_key['id']}/disable"
    body = admin_client.get(url).get_data(as_text=True)
    assert "Disable this VideoSDK key?" in body
    assert "production (prod-api-key)" in body
    assert ">Disable production</button>" in body
    with app.app_context():
        assert db.session.get(VideoSDKKey, stored_key["id"]).disabled is False
    edit = admin_client.get(f"/admin/keys/{stored_key['id']}").get_data(as_text=True)
    assert f'href="{url}"' in edit and f'action="{url}"' not in edit
    assert admin_client.post(url, data=_form(body)[1]).status_code == 302
    with app.app_context():
        assert db.session.get(VideoSDKKey, stored_key["id"]).disabled is True


def test_disabling_a_person_asks_naming_them(app, admin_client, make_user):
    person = make_user("dev@example.com", "developer")
    url = f"/admin/users/{person.id}/disable"
    body = admin_client.get(url).get_data(as_text=True)
    assert "Disable this person?" in body and ">Disable dev@example.com</button>" in body
    with app.app_context():
        assert db.session.get(User, person.id).active is True
    assert admin_client.post(url, data=_form(body)[1]).status_code == 302
    with app.app_context():
        assert db.session.get(User, person.id).active is False


def test_demoting_an_admin_asks_then_the_confirmation_demotes(app, admin_client, make_user,
                                                             audit_events):
    other = make_user("other-admin@example.com", "admin")
    url = f"/admin/users/{other.id}/role"
    response = admin_client.post(url, data={"role": "support"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Take admin rights away?" in body
    assert ">Make other-admin@example.com support</button>" in body
    action, fields = _form(body)
    assert (action, fields["role"], fields["confirmed"]) == (url, "support", "yes")
    with app.app_context():
        assert db.session.get(User, other.id).role == "admin"
    assert audit_events("user.role_changed") == []

    assert admin_client.post(action, data=fields).status_code == 302
    with app.app_context():
        assert db.session.get(User, other.id).role == "support"


def test_promoting_or_changing_a_non_admin_does_not_ask(app, admin_client, make_user):
    person = make_user("sup@example.com", "support")
    response = admin_client.post(f"/admin/users/{person.id}/role", data={"role": "admin"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, person.id).role == "admin"


def test_a_head_request_of_a_confirmation_page_acts_on_nothing(app, admin_client, api_client,
                                                               stored_key, make_user,
                                                               audit_events):
    # Link prefetchers send HEAD, which Flask routes to the GET view: it must not be taken
    # for the POST that acts (nor write a "refused" line to the trail).
    person = make_user("dev@example.com", "developer")
    urls = [f"/admin/clients/{api_client['id']}/revoke",
            f"/admin/keys/{stored_key['id']}/disable",
            f"/admin/users/{person.id}/disable"]
    before = len(audit_events())
    assert [admin_client.head(url).status_code for url in urls] == [200, 200, 200]
    assert len(audit_events()) == before
    with app.app_context():
        assert db.session.get(ApiClient, api_client["id"]).revoked_at is None
        assert db.session.get(VideoSDKKey, stored_key["id"]).disabled is False
        assert db.session.get(User, person.id).active is True
