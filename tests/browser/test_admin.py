"""An admin's first session in Chromium: a key, a person, an API client, then the audit trail."""

from __future__ import annotations

from tests.browser.conftest import no_horizontal_scroll, screenshot, sign_in

SECRET = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def look(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Every admin page fits the width and is kept as a screenshot."""
    assert no_horizontal_scroll(page), f"{name} scrolls sideways at {page.width_name} width"
    screenshot(page, name)


def go(page, role: str, name: str) -> None:  # type: ignore[no-untyped-def]
    """Click a link or button and wait until the next page has loaded, stylesheets included.

    Acting on a half-loaded page would compute styles before app.css arrives, and
    Bootstrap's own data: icons would then trip the CSP.
    """
    with page.expect_navigation(wait_until="load"):
        page.get_by_role(role, name=name).first.click()


def test_admin_adds_a_key_a_person_and_a_client_then_reads_the_trail(page, live_server):
    base = live_server.url
    sign_in(page, live_server, "admin")

    page.goto(base + "/admin/keys")
    look(page, "admin-keys-empty")
    go(page, "link", "Add a key")
    page.get_by_label("Label", exact=True).fill("production")
    page.get_by_label("API key", exact=True).fill("5e7f0b3c-4f7a-4a55-9d7c-2f0c2d9a1b11")
    page.get_by_label("Secret", exact=True).fill("too short")
    go(page, "button", "Add key")
    assert "Too short: a secret needs at least 32 bytes" in page.content()
    look(page, "admin-key-refused")
    page.get_by_label("Secret", exact=True).fill(SECRET)
    go(page, "button", "Add key")
    assert page.url == base + "/admin/keys"
    assert page.get_by_role("alert").first.inner_text().startswith("Key 'production' added")
    assert page.get_by_text("…0a08", exact=True).is_visible()
    assert SECRET not in page.content()
    look(page, "admin-keys")
    go(page, "link", "Edit production")
    look(page, "admin-key-edit")

    page.goto(base + "/admin/users/new")
    look(page, "admin-user-new")
    page.get_by_label("Email").fill("new-dev@example.com")
    page.get_by_label("Role").select_option("developer")
    go(page, "button", "Create person")
    password = page.get_by_label("Password").input_value()
    assert len(password) >= 20
    look(page, "admin-password-once")
    go(page, "link", "Done")
    look(page, "admin-user")
    page.goto(base + "/admin/users")
    assert page.get_by_role("link", name="Manage new-dev@example.com").is_visible()
    look(page, "admin-users")

    page.goto(base + "/admin/clients/new")
    page.get_by_label("Name").fill("meetings-backend")
    page.get_by_label("tokens:inspect").check()
    page.get_by_label("production").check()
    look(page, "admin-client-new")
    go(page, "button", "Create client")
    client_key = page.get_by_label("Client key").input_value()
    assert client_key.startswith("tck_")
    look(page, "admin-client-created")
    go(page, "link", "Done")
    assert client_key not in page.content()
    look(page, "admin-clients")
    go(page, "link", "Edit meetings-backend")
    look(page, "admin-client-edit")
    page.get_by_label("Rate limit").fill("60/minute")
    go(page, "button", "Save changes")
    assert page.get_by_role("alert").first.inner_text().startswith(
        "Client 'meetings-backend' saved")

    page.goto(base + "/admin/audit")
    # Phones list the events, wider screens tabulate them: read whichever is shown.
    events = page.locator(".audit-event:visible")
    for action, target in (("key.created", "production"), ("user.created", "new-dev@example.com"),
                           ("client.created", "meetings-backend"),
                           ("client.updated", "meetings-backend")):
        row = events.filter(has_text=action).filter(has_text=target)
        assert row.count() == 1, (action, events.all_inner_texts())
        assert "admin@example.com" in row.inner_text()
    assert SECRET not in page.content() and client_key not in page.content()
    assert password not in page.content()
    look(page, "admin-audit")

    page.get_by_label("Action").select_option("user.created")
    go(page, "button", "Filter")
    assert page.locator(".audit-event:visible").count() == 1
    look(page, "admin-audit-filtered")
    # Chromium logs the refused form's 400 answer; nothing else may fail.
    assert [e for e in page.console_errors if "400 (BAD REQUEST)" not in e] == []


def test_the_sandbox_key_is_flagged_clearly(page, live_app, live_server):
    from webapp.extensions import db
    from webapp.services import videosdk_keys

    with live_app.app_context():
        videosdk_keys.seed_first_key()
        db.session.commit()
    sign_in(page, live_server, "admin")
    page.goto(live_server.url + "/admin/keys")
    warning = page.get_by_role("alert").filter(has_text="Sandbox key")
    assert warning.inner_text().startswith("Sandbox key: VideoSDK will not accept its tokens")
    assert page.get_by_text("sandbox", exact=True).first.is_visible()
    look(page, "admin-keys-sandbox")
