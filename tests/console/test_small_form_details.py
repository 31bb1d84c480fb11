"""Issue 19 items 6, 7 and 17: the moment box, the paste box's focus, password fields."""

from __future__ import annotations

import re

from tests.console.pages import parse


def _input(html: str, element_id: str) -> dict[str, str]:
    return parse(html).by_id(element_id).attrs  # type: ignore[no-any-return]


def test_the_login_page_focuses_the_email_box_and_names_its_autocomplete(client):
    html = client.get("/login").get_data(as_text=True)
    email, password = _input(html, "email"), _input(html, "password")
    assert (email["autocomplete"], "autofocus" in email) == ("username", True)
    assert password["autocomplete"] == "current-password"


def test_password_fields_say_which_password_they_hold(sign_in, admin_client):
    own = sign_in("developer").get("/account/password").get_data(as_text=True)
    assert [_input(own, i)["autocomplete"] for i in ("current_password", "new_password",
                                                     "confirm")] == [
        "current-password", "new-password", "new-password"]
    new_person = admin_client.get("/admin/users/new").get_data(as_text=True)
    assert _input(new_person, "password")["autocomplete"] == "new-password"
    new_key = admin_client.get("/admin/keys/new").get_data(as_text=True)
    assert _input(new_key, "secret")["autocomplete"] == "off"


def test_a_shown_once_password_is_spelled_out_digits_and_capitals_marked(admin_client):
    body = admin_client.post("/admin/users/new", data={
        "email": "new@example.com", "role": "support", "password": ""}).get_data(as_text=True)
    password = _input(body, "generated-password")["value"]
    spelled = re.findall(r'<span class="(ch-[a-z]+)">(.)</span>', body)
    assert "".join(ch for _, ch in spelled) == password
    assert all((kind == "ch-digit") == ch.isdigit() and (kind == "ch-upper") == ch.isupper()
               for kind, ch in spelled)


def test_the_inspector_focuses_the_paste_box_and_takes_a_moment_with_its_offset(
        support_client):
    html = support_client.get("/inspect").get_data(as_text=True)
    assert "autofocus" in _input(html, "token")
    at = _input(html, "at")
    assert at.get("type", "text") == "text"  # not a picker of local time read as UTC
    assert "offset" in parse(html).by_id("at-help").text()
    response = support_client.post("/inspect", data={
        "token": "not.a.token", "at": "2025-03-01T14:30+05:30"})
    assert response.status_code == 200
    assert "Checked at 2025-03-01 09:00:00 UTC (the moment given)" in \
        response.get_data(as_text=True)
    after = response.get_data(as_text=True)
    assert "autofocus" not in _input(after, "token")  # the verdict keeps the first screen
