"""/admin/users: create, change role, disable, enable, reset password; one admin remains."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.support import login
from webapp.extensions import db
from webapp.models import User, UserSession

NEW_PASSWORD = "a brand new passphrase"


def stored(app, email: str) -> User:
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        db.session.expunge(user)
        return user


def open_sessions(app, user_id: int) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(UserSession)
                                  .where(UserSession.user_id == user_id)).scalar_one()


def shown_password(body: str) -> str:
    match = re.search(r'id="generated-password" value="([^"]+)"', body)
    assert match, "no password on the page"
    return html.unescape(match.group(1))


def test_creating_a_person_with_a_chosen_password(app, admin_client, audit_events):
    response = admin_client.post("/admin/users/new", data={
        "email": " Dev@Example.com ", "role": "developer", "password": PASSWORD})
    assert (response.status_code, response.headers["Location"]) == (302, "/admin/users")
    assert stored(app, "dev@example.com").role == "developer"
    assert login(app.test_client(), "dev@example.com", PASSWORD).status_code == 302
    event = audit_events("user.created")[-1]
    assert (event.actor, event.target, event.outcome) == (
        admin_client.person.email, "dev@example.com", "success")
    assert event.details == {"role": "developer", "passwordGenerated": False}
    assert PASSWORD not in str([e.details for e in audit_events()])


def test_a_generated_password_is_shown_once_on_the_answer_to_the_post(app, admin_client,
                                                                     audit_events):
    response = admin_client.post("/admin/users/new", data={
        "email": "support@example.com", "role": "support", "password": ""})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Location" not in response.headers
    password = shown_password(body)
    assert len(password) >= 20
    assert login(app.test_client(), "support@example.com", password).status_code == 302
    # Nowhere else: not in the next page, the flashes, the session or the audit trail.
    assert password not in admin_client.get("/admin/users").get_data(as_text=True)
    with admin_client.session_transaction() as session:
        assert password not in str(dict(session))
    assert password not in str([e.details for e in audit_events()])
    assert audit_events("user.created")[-1].details == {"role": "support",
                                                        "passwordGenerated": True}


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"email": "not-an-email"}, "email", "Enter an email address such as name@example.com."),
    ({"email": ""}, "email", "This field is required."),
    ({"email": "taken@example.com"}, "email", "taken@example.com already has an account."),
    ({"email": "TAKEN@example.com"}, "email", "taken@example.com already has an account."),
    ({"password": "short"}, "password", "At least 12 characters, or leave empty"),
    ({"password": " " * 14}, "password", "Spaces alone are no password"),
    ({"role": "owner"}, "role", "Not a valid choice."),
])
def test_a_refused_person_says_why(app, admin_client, make_user, audit_events, form, field,
                                   message):
    make_user("taken@example.com", "support")
    data = {"email": "new@example.com", "role": "support", "password": "", **form}
    response = admin_client.post("/admin/users/new", data=data)
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    field_at = body.index(f'name="{field}"')
    assert message in body[field_at:field_at + 1500]
    if field != "email":
        assert 'value="new@example.com"' in body
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 2
    # A form sent with every text box empty is refused but is not an event (issue 19).
    empty = not data["email"] and not data["password"]
    assert [e.outcome for e in audit_events("user.created")] == ([] if empty else ["refused"])


def test_changing_a_role(app, admin_client, make_user, audit_events):
    person = make_user("someone@example.com", "support")
    response = admin_client.post(f"/admin/users/{person.id}/role", data={"role": "developer"})
    assert (response.status_code, response.headers["Location"]) == (
        302, f"/admin/users/{person.id}")
    assert stored(app, person.email).role == "developer"
    event = audit_events("user.role_changed")[-1]
    assert (event.target, event.details) == (person.email, {"from": "support", "to": "developer"})


def test_the_last_admin_cannot_be_demoted(app, admin_client, audit_events):
    me = admin_client.person
    response = admin_client.post(f"/admin/users/{me.id}/role", data={"role": "developer"})
    assert response.status_code == 400
    assert f"{me.email} is the last active admin: make someone else admin first." in \
        response.get_data(as_text=True)
    assert stored(app, me.email).role == "admin"
    event = audit_events("user.role_changed")[-1]
    assert (event.outcome, event.target) == ("refused", me.email)


def test_the_last_admin_cannot_be_disabled(app, admin_client, audit_events):
    me = admin_client.person
    response = admin_client.post(f"/admin/users/{me.id}/disable")
    assert response.status_code == 400
    assert f"{me.email} is the last active admin" in response.get_data(as_text=True)
    assert stored(app, me.email).active is True
    assert admin_client.get("/admin/users").status_code == 200
    assert audit_events("user.disabled")[-1].outcome == "refused"


def test_a_second_admin_may_be_demoted_then_the_first_is_last(app, admin_client, make_user):
    other = make_user("other-admin@example.com", "admin")
    response = admin_client.post(f"/admin/users/{other.id}/role",
                                 data={"role": "support", "confirmed": "yes"})
    assert response.status_code == 302
    assert stored(app, other.email).role == "support"
    me = admin_client.person
    assert admin_client.post(f"/admin/users/{me.id}/role",
                             data={"role": "support"}).status_code == 400


def test_an_admin_demoting_themselves_lands_on_their_new_home(app, admin_client, make_user):
    make_user("other-admin@example.com", "admin")
    me = admin_client.person
    response = admin_client.post(f"/admin/users/{me.id}/role",
                                 data={"role": "support", "confirmed": "yes"})
    assert (response.status_code, response.headers["Location"]) == (302, "/inspect")
    assert admin_client.get("/admin/users").status_code == 403


def test_an_admin_cannot_disable_themselves_while_others_remain(app, admin_client, make_user):
    make_user("other-admin@example.com", "admin")
    me = admin_client.person
    response = admin_client.post(f"/admin/users/{me.id}/disable")
    assert response.status_code == 400
    assert "You cannot disable your own account; ask another admin." in \
        response.get_data(as_text=True)
    assert stored(app, me.email).active is True


def test_disabling_ends_open_sessions_at_the_next_request(app, admin_client, developer_client,
                                                        audit_events):
    person = developer_client.person
    assert developer_client.get("/").status_code == 200
    assert open_sessions(app, person.id) == 1
    response = admin_client.post(f"/admin/users/{person.id}/disable")
    assert (response.status_code, response.headers["Location"]) == (
        302, f"/admin/users/{person.id}")
    assert open_sessions(app, person.id) == 0
    after = developer_client.get("/")
    assert (after.status_code, after.headers["Location"]) == (302, "/login?next=%2F")
    assert login(app.test_client(), person.email, PASSWORD).status_code == 401
    assert audit_events("user.disabled")[-1].target == person.email


def test_enabling_lets_them_sign_in_again(app, admin_client, make_user, audit_events):
    person = make_user("sleeper@example.com", "developer", active=False)
    response = admin_client.post(f"/admin/users/{person.id}/enable")
    assert response.status_code == 302
    assert stored(app, person.email).active is True
    assert login(app.test_client(), person.email, PASSWORD).status_code == 302
    assert audit_events("user.enabled")[-1].target == person.email


def test_resetting_to_a_chosen_password_signs_them_out(app, admin_client, developer_client,
                                                      audit_events):
    person = developer_client.person
    response = admin_client.post(f"/admin/users/{person.id}/password",
                                 data={"password": NEW_PASSWORD})
    assert (response.status_code, response.headers["Location"]) == (
        302, f"/admin/users/{person.id}")
    assert developer_client.get("/").status_code == 302
    assert login(app.test_client(), person.email, PASSWORD).status_code == 401
    assert login(app.test_client(), person.email, NEW_PASSWORD).status_code == 302
    event = audit_events("user.password_reset")[-1]
    assert (event.target, event.details) == (person.email, {"passwordGenerated": False})
    assert NEW_PASSWORD not in str([e.details for e in audit_events()])


def test_resetting_to_a_generated_password_shows_it_once(app, admin_client, make_user):
    person = make_user("forgetful@example.com", "support")
    response = admin_client.post(f"/admin/users/{person.id}/password", data={"password": ""})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = shown_password(response.get_data(as_text=True))
    assert login(app.test_client(), person.email, password).status_code == 302


@pytest.mark.parametrize(("password", "message"), [
    ("short", "At least 12 characters, or leave empty to generate one."),
    (" ", "Spaces alone are no password: type one, or leave the field empty to generate one."),
    (" " * 12 + "\t", "Spaces alone are no password"),
])
def test_a_bad_reset_password_is_refused_beside_the_field(app, admin_client, make_user,
                                                          audit_events, password, message):
    person = make_user("forgetful@example.com", "support")
    response = admin_client.post(f"/admin/users/{person.id}/password",
                                 data={"password": password})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert login(app.test_client(), person.email, PASSWORD).status_code == 302
    event = audit_events("user.password_reset")[-1]
    assert (event.outcome, event.details) == ("refused", {"fields": ["password"]})


def test_the_people_page_lists_everyone(admin_client, make_user):
    make_user("quiet@example.com", "support", active=False)
    body = admin_client.get("/admin/users").get_data(as_text=True)
    assert "quiet@example.com" in body and admin_client.person.email in body
    assert '<span class="badge text-bg-secondary">disabled</span>' in body


def test_an_unknown_person_is_404(admin_client):
    assert admin_client.get("/admin/users/999").status_code == 404
    assert admin_client.post("/admin/users/999/disable").status_code == 404
