"""Who may open the console's pages."""

from __future__ import annotations

import pytest

MATRIX = [
    ("admin", "GET", "/", 200), ("developer", "GET", "/", 200), ("support", "GET", "/", 403),
    ("admin", "POST", "/", 400), ("developer", "POST", "/", 400), ("support", "POST", "/", 403),
    ("admin", "GET", "/inspect", 200), ("developer", "GET", "/inspect", 200),
    ("support", "GET", "/inspect", 200),
    ("admin", "POST", "/inspect", 400), ("developer", "POST", "/inspect", 400),
    ("support", "POST", "/inspect", 400),
    ("admin", "GET", "/tokens", 200), ("developer", "GET", "/tokens", 200),
    ("support", "GET", "/tokens", 403),
]


@pytest.mark.parametrize(("role", "method", "path", "status"), MATRIX)
def test_console_pages_by_role(app, sign_in, keys, role, method, path, status):
    # An empty POST is a 400 for those who may use the page, a 403 for those who may not.
    response = sign_in(role).open(path, method=method, data={})
    assert response.status_code == status


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/"), ("POST", "/"), ("GET", "/inspect"), ("POST", "/inspect"), ("GET", "/tokens"),
])
def test_anonymous_visitors_are_sent_to_sign_in(client, method, path):
    response = client.open(path, method=method, data={"token": "abc"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert "abc" not in response.headers["Location"]


def test_support_lands_on_the_inspector_and_sees_no_generator_in_the_menu(app, make_user):
    from tests.support import login

    person = make_user("help@example.com", "support")
    browser = app.test_client()
    assert login(browser, person.email, person.password).headers["Location"] == "/inspect"
    html = browser.get("/inspect").get_data(as_text=True)
    assert 'href="/inspect"' in html
    assert 'href="/tokens"' not in html
    assert '>Generate<' not in html


def test_the_menu_offers_a_developer_all_three_pages(developer_client):
    html = developer_client.get("/tokens").get_data(as_text=True)
    for label, href in (("Generate", "/"), ("Inspect", "/inspect"), ("Tokens", "/tokens")):
        assert f'href="{href}">{label}</a>' in html
