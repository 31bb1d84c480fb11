"""With CSRF protection on, as in production: every admin form carries its token."""

from __future__ import annotations

import pytest

from tests.admin.conftest import SECRET
from tests.conftest import csrf_token_from
from tests.support import login

pytestmark = pytest.mark.app_config(WTF_CSRF_ENABLED=True)

# (page holding the form, where it posts, what it posts, the status of a good post)
FORMS = [
    ("/admin/keys/new", "/admin/keys/new",
     {"label": "k", "apikey": "a", "secret": SECRET, "max_lifetime": "1h",
      "permissions": "allow_join"}, 302),
    ("/admin/keys/{key}", "/admin/keys/{key}",
     {"max_lifetime": "2h", "permissions": "allow_join"}, 302),
    ("/admin/keys/{key}", "/admin/keys/{key}/disable", {}, 302),
    ("/admin/users/new", "/admin/users/new", {"email": "n@example.com", "role": "support"}, 200),
    ("/admin/users/{user}", "/admin/users/{user}/role", {"role": "developer"}, 302),
    ("/admin/users/{user}", "/admin/users/{user}/password", {"password": ""}, 200),
    ("/admin/users/{user}", "/admin/users/{user}/disable", {}, 302),
    ("/admin/clients/new", "/admin/clients/new",
     {"name": "c", "scopes": "tokens:mint", "rate_limit": "1/second"}, 200),
    ("/admin/clients/{client}", "/admin/clients/{client}",
     {"scopes": "tokens:inspect", "rate_limit": "5/second"}, 302),
    ("/admin/clients", "/admin/clients/{client}/revoke", {}, 302),
]


@pytest.fixture
def ids(make_user, stored_key, api_client):
    return {"key": stored_key["id"], "user": make_user("t@example.com", "support").id,
            "client": api_client["id"]}


def signed_in_admin(app, make_user):
    person = make_user("csrf-admin@example.com", "admin")
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    response = login(browser, person.email, person.password,
                     csrf_token=csrf_token_from(page))
    assert response.status_code == 302
    return browser


@pytest.mark.parametrize(("page", "target", "data", "status"), FORMS,
                         ids=[f[1] for f in FORMS])
def test_each_form_posts_with_the_token_its_page_carries(app, make_user, ids, page, target,
                                                         data, status):
    browser = signed_in_admin(app, make_user)
    html = browser.get(page.format(**ids)).get_data(as_text=True)
    refused = browser.post(target.format(**ids), data=data)
    assert refused.status_code == 400
    accepted = browser.post(target.format(**ids),
                            data={**data, "csrf_token": csrf_token_from(html)})
    assert accepted.status_code == status, accepted.get_data(as_text=True)[:800]


def test_the_audit_filters_need_no_token(app, make_user):
    browser = signed_in_admin(app, make_user)
    assert browser.get("/admin/audit?actor=csrf&outcome=success").status_code == 200
    assert browser.get("/admin/audit.csv?actor=csrf").status_code == 200
