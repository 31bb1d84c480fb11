"""SPEC 4 `/admin/clients`: the client-created page shows example calls that work for that
client as configured; each is run here against the app, as a backend would."""

from __future__ import annotations

import html as html_lib
import json
import re

import pytest

from tests.admin.conftest import SECRET
from webapp.extensions import db
from webapp.services import videosdk_keys


def _calls(body: str) -> list[tuple[str, str, dict[str, object] | None]]:
    """Each example curl on the page as (path, bearer key, JSON body or None)."""
    found = []
    for block in re.findall(r'<pre class="snippet[^>]*><code>(.*?)</code></pre>', body, re.S):
        text = html_lib.unescape(block)
        url = re.search(r"-X POST (\S+)", text)
        bearer = re.search(r"Authorization: Bearer (\S+)\"", text)
        data = re.search(r"-d '(.*)'", text)
        assert url and bearer, text
        path = re.sub(r"^https?://[^/]+", "", url.group(1))
        found.append((path, bearer.group(1), json.loads(data.group(1)) if data else None))
    return found


def _run(app, calls):  # type: ignore[no-untyped-def]
    """POST each call as a backend would; their statuses."""
    backend = app.test_client()
    return [backend.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
            .status_code if body is not None else
            backend.post(path, headers={"Authorization": f"Bearer {key}"}).status_code
            for path, key, body in calls]


@pytest.fixture
def two_keys(app, stored_key):  # type: ignore[no-untyped-def]
    with app.app_context():
        videosdk_keys.add_key("staging", "staging-api-key", SECRET[::-1])
        db.session.commit()


def test_a_client_with_one_key_gets_a_mint_and_get_token_that_work(app, admin_client, two_keys):
    response = admin_client.post("/admin/clients/new", data={
        "name": "one-key", "scopes": ["tokens:mint"], "keys": ["production"],
        "rate_limit": "600/minute"})
    body = response.get_data(as_text=True)
    calls = _calls(body)
    assert [path for path, _, _ in calls] == ["/api/v1/tokens", "/get-token"]
    assert "apikey" not in calls[0][2]
    assert 'class="small mb-0 no-dropin"' not in body
    assert _run(app, calls) == [201, 200]


def test_a_client_with_several_keys_names_apikey_and_is_told_why_no_get_token(
        app, admin_client, two_keys):
    body = admin_client.post("/admin/clients/new", data={
        "name": "any-key", "scopes": ["tokens:mint", "tokens:inspect"],
        "rate_limit": "600/minute"}).get_data(as_text=True)
    calls = _calls(body)
    assert [path for path, _, _ in calls] == ["/api/v1/tokens", "/api/v1/tokens/inspect"]
    assert calls[0][2]["apikey"] in ("prod-api-key", "staging-api-key")
    assert ("/get-token is not offered: it signs with the client's only key, and this client "
            "may use 2.") in html_lib.unescape(body)
    assert _run(app, calls) == [201, 200]


def test_a_short_client_maximum_is_asked_for_not_the_default_hour(app, admin_client, stored_key):
    body = admin_client.post("/admin/clients/new", data={
        "name": "short", "scopes": ["tokens:mint"], "max_lifetime": "5m",
        "rate_limit": "600/minute"}).get_data(as_text=True)
    calls = _calls(body)
    assert calls[0][2]["expiresIn"] == "5m"
    assert [path for path, _, _ in calls] == ["/api/v1/tokens"]
    assert "beyond this client's or key's max lifetime" in html_lib.unescape(body)
    assert _run(app, calls) == [201]
