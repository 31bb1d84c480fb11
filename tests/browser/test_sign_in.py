"""Signing in through the real page in Chromium."""

from __future__ import annotations

from tests.browser.conftest import no_horizontal_scroll, screenshot, sign_in


def test_sign_in_page_then_the_console(page, live_server):
    page.goto(live_server.url + "/login")
    assert page.title() == "Sign in · Token Console"
    assert no_horizontal_scroll(page)
    screenshot(page, "login")

    sign_in(page, live_server, "developer")
    assert page.url == live_server.url + "/"
    assert page.get_by_text("developer@example.com").first.is_visible() or \
        page.width_name == "phone"
    assert no_horizontal_scroll(page)
    screenshot(page, "home")
    assert page.console_errors == []


def test_a_wrong_password_is_refused_on_the_page(page, live_server):
    page.goto(live_server.url + "/login")
    page.get_by_label("Email").fill("developer@example.com")
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong email or password."
    assert page.url == live_server.url + "/login"
    screenshot(page, "login-refused")
