"""SPEC 4 `/tokens`: each row opens a detail page (claims, full fingerprint, issuer, times, its
audit lines) with "generate again with these settings"; the history exports CSV."""

from __future__ import annotations

import csv
import hashlib
import io
import re

from tests.console.conftest import token_from
from tests.console.pages import parse, value_of


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _mint(generate, client, **fields):  # type: ignore[no-untyped-def]
    response = generate(client, **fields)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return token_from(response.get_data(as_text=True))


def test_the_room_filter_matches_the_room_exactly(generate, developer_client):
    for room in ("room-1", "room-10", "room-19", "Room-1"):
        _mint(generate, developer_client, room=room)
    html = developer_client.get("/tokens?room=room-1").get_data(as_text=True)
    listed = [li.text() for li in parse(html).find_all("li") if "roomId" in li.text()]
    assert listed == ["roomId room-1"]


def test_a_row_opens_its_detail_page_with_claims_issuer_times_and_audit_lines(
        generate, developer_client, support_client):
    token = _mint(generate, developer_client, room="standup", participant="jane",
                  allow_mod="y", lifetime="24h")
    fingerprint = _fingerprint(token)
    history = developer_client.get("/tokens").get_data(as_text=True)
    assert f'href="/tokens/{fingerprint}"' in history
    support_client.post("/inspect", data={"token": token})  # someone else's inspection
    developer_client.post("/inspect", data={"token": token})

    response = developer_client.get(f"/tokens/{fingerprint}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert token not in html  # never the token itself
    page = parse(html)
    assert page.find_all("p", cls="full-fingerprint")[0].text() == fingerprint
    me = developer_client.person.email
    assert page.find_all("dd", cls="issuers")[0].text() == me
    claims = page.by_id("claims").text()
    assert '"standup"' in claims and '"jane"' in claims and "allow_mod" in claims
    events = [li.text() for li in page.find_all("li") if "token." in li.text()]
    # The developer sees their own lines: the mint and their inspection, with its verdict.
    assert len(events) == 2
    assert "token.minted" in events[0] and "token.inspected valid" in events[1]
    assert all(me in e for e in events)

    link = page.by_id("generate-again").attrs["href"]
    form = developer_client.get(link).get_data(as_text=True)
    assert value_of(form, "room") == "standup"
    assert value_of(form, "participant") == "jane"
    assert 'id="allow_mod" name="allow_mod" type="checkbox" value="y" checked' in form \
        or re.search(r'<input[^>]*checked[^>]*id="allow_mod"|<input[^>]*id="allow_mod"[^>]*checked',
                     form)
    assert re.search(r'<option[^>]*selected[^>]*value="24h"|<option[^>]*value="24h"[^>]*selected',
                     form)


def test_an_admin_sees_every_audit_line_of_a_token(generate, developer_client, support_client,
                                                   admin_client):
    token = _mint(generate, developer_client)
    support_client.post("/inspect", data={"token": token})
    html = admin_client.get(f"/tokens/{_fingerprint(token)}").get_data(as_text=True)
    events = [li.text() for li in parse(html).find_all("li") if "token." in li.text()]
    assert len(events) == 2 and support_client.person.email in events[1]


def test_another_persons_token_and_odd_fingerprints_are_not_found(
        generate, developer_client, admin_client):
    token = _mint(generate, admin_client)
    for path in ("/tokens/" + _fingerprint(token), "/tokens/" + "0" * 64,
                 "/tokens/" + _fingerprint(token).upper(), "/tokens/abc", "/tokens/" + "g" * 64):
        assert developer_client.get(path).status_code == 404, path
    assert admin_client.get("/tokens/" + _fingerprint(token)).status_code == 200


def test_the_history_exports_csv_with_the_filters(generate, developer_client):
    token_a = _mint(generate, developer_client, room="room-1")
    _mint(generate, developer_client, room="room-10")
    response = developer_client.get("/tokens?room=room-1&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="tokens-')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["issued_at", "expires_at", "key", "apikey", "issuer", "room_id",
                       "participant_id", "permissions", "roles", "fingerprint"]
    assert len(rows) == 2
    assert rows[1][2:] == ["default", "a1b2c3d4-0000-4000-8000-00000000d0d0",
                           developer_client.person.email, "room-1", "", "allow_join", "",
                           _fingerprint(token_a)]
    assert token_a not in response.get_data(as_text=True)
    html = developer_client.get("/tokens?room=room-1").get_data(as_text=True)
    assert 'href="/tokens?format=csv&amp;room=room-1"' in html
