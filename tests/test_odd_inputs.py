"""Odd inputs get a clear answer, never a 500: surrogates, huge numbers, far dates, huge ids."""

from __future__ import annotations

import html

import pytest

from webapp.extensions import db
from webapp.services import api_clients, videosdk_keys

SECRET = "a" * 64


@pytest.fixture
def client_key(app):
    with app.app_context():
        videosdk_keys.add_key("alpha", "AK1", SECRET)
        _, plaintext = api_clients.create_client("odd", ["tokens:mint", "tokens:inspect"],
                                             key_labels=["alpha"])
        db.session.commit()
    return plaintext


@pytest.fixture(autouse=True)
def no_propagation(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False


@pytest.mark.parametrize(("path", "body", "status", "field"), [
    ("/api/v1/tokens", b'{"permissions":["allow_join"],"roomId":"\\ud800"}', 422, "roomId"),
    ("/api/v1/tokens", b'{"permissions":["allow_join"],"participantId":"p\\udc00"}', 422,
     "participantId"),
    ("/get-token", b'{"roomId":"\\ud800"}', 422, "roomId"),
    ("/api/v1/tokens", b'{"permissions":["allow_join"],"expiresIn":' + b"9" * 5000 + b"}", 422,
     "expiresIn"),
])
def test_api_refuses_unencodable_or_huge_values_as_validation(client, client_key, path, body,
                                                              status, field):
    response = client.post(path, data=body, content_type="application/json",
                           headers={"Authorization": f"Bearer {client_key}"})
    assert response.status_code == status
    assert response.get_json()["code"] == "validation_failed"
    assert list(response.get_json()["errors"]) == [field]


@pytest.mark.parametrize("path", ["/api/v1/tokens/inspect", "/api/v1/tokens/introspect"])
def test_a_lone_surrogate_in_a_pasted_token_is_still_diagnosed(client, client_key, path):
    response = client.post(path, data=b'{"token": "abc\\ud800"}', content_type="application/json",
                           headers={"Authorization": f"Bearer {client_key}"})
    assert response.status_code == 200
    body = response.get_json()
    assert body == {"active": False} if path.endswith("introspect") else \
        body["verdict"] == "invalid"


@pytest.mark.parametrize("path", [
    "/tokens?page=999999999999999999999999999999", "/tokens?page=4611686018427387904",
    "/tokens?page=-3", "/tokens?page=junk",
    "/tokens?issued_from=9999-12-31&issued_to=9999-12-31",
    "/admin/audit?page=288230376151711744", "/admin/audit?since=9999-12-31&until=9999-12-31",
])
def test_list_pages_take_far_pages_and_dates(admin_client, path):
    assert admin_client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/admin/keys/1180591620717411303424",
                                  "/admin/users/1180591620717411303424"])
def test_ids_beyond_64_bits_are_not_found(admin_client, path):
    assert admin_client.get(path).status_code == 404


@pytest.mark.parametrize("moment", ["0001-01-01T00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_the_inspector_refuses_moments_outside_the_calendar(support_client, moment):
    response = support_client.post("/inspect", data={"token": "a.b.c", "at": moment})
    assert response.status_code == 400
    assert "outside the calendar" in response.get_data(as_text=True)


def test_the_cli_calls_an_overflowing_moment_a_usage_error(runner):
    result = runner.invoke(args=["token", "inspect", "a.b.c", "--at", "0001-01-01T00:00+01:00"])
    assert result.exit_code == 2
    assert "ISO 8601" in result.output


# A NUL character (U+0000) is text SQLite stores and PostgreSQL refuses even to look up.
@pytest.mark.parametrize(("method", "path", "data"), [
    ("GET", "/tokens?room=%00", None),
    ("GET", "/tokens?key=a%00", None),
    ("GET", "/tokens?person=a%00", None),
    ("GET", "/admin/audit?actor=%00", None),
])
def test_a_nul_character_is_a_400_never_a_500(app, admin_client, method, path, data):
    response = admin_client.open(path, method=method, data=data)
    if app.config["DATABASE_URL"].startswith("sqlite"):
        # SQLite holds it: the page answers as for any other odd text.
        assert response.status_code in (200, 302, 400)
        return
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "cannot be stored or looked up: a NUL character (U+0000)" in page


# A name to be stored is refused beside its field before any database sees it (issue 13.11).
@pytest.mark.parametrize(("path", "data"), [
    ("/admin/keys/new", {"label": "a\x00", "apikey": "k", "secret": SECRET,
                         "max_lifetime": "24h", "permissions": "allow_join"}),
    ("/admin/clients/new", {"name": "a\x00", "scopes": "tokens:mint",
                            "rate_limit": "1/second"}),
])
def test_a_nul_character_in_a_name_is_refused_beside_its_field(admin_client, path, data):
    response = admin_client.post(path, data=data)
    assert response.status_code == 400
    page = html.unescape(response.get_data(as_text=True))
    assert "holds a control character, U+0000, which would show as something it is not" in page


def test_a_value_the_database_refuses_under_the_api_is_a_400_problem(client, client_key,
                                                                    monkeypatch):
    from sqlalchemy.exc import DataError

    def refused(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise DataError("INSERT INTO issued_tokens ...", {}, ValueError("value too long"))

    monkeypatch.setattr("webapp.api.views.issuance.issue", refused)
    response = client.post("/api/v1/tokens", json={"permissions": ["allow_join"]},
                           headers={"Authorization": f"Bearer {client_key}"})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert (body["code"], body["status"]) == ("validation_failed", 400)
    assert body["detail"].startswith("Something in the request cannot be stored or looked up")
