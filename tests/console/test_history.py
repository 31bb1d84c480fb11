"""The history of tokens issued here: who sees what, the filters, the pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.console.pages import all_errors, errors_beside, parse, value_of
from tests.support import statements_run
from webapp.extensions import db
from webapp.models import ApiClient, IssuedToken, User


def _issue(app, *, user_email: str | None, key: str = "default", room: str | None = None,
           issued_at: datetime, lifetime: int = 3600, fingerprint: str,
           client_name: str | None = None) -> None:
    """A row of the history as issuance.issue writes it, with a chosen issue time."""
    with app.app_context():
        user = db.session.query(User).filter_by(email=user_email).one() if user_email else None
        client = None
        if client_name:
            client = ApiClient(name=client_name, key_hash=fingerprint[::-1], key_prefix="tc_",
                               scopes=["tokens:mint"], rate_limit="600/minute")
            db.session.add(client)
            db.session.flush()
        claims: dict[str, object] = {"apikey": f"api-{key}", "permissions": ["allow_join"]}
        if room:
            claims.update(version=2, roomId=room)
        claims.update(iat=int(issued_at.timestamp()), exp=int(issued_at.timestamp()) + lifetime)
        db.session.add(IssuedToken(
            fingerprint=fingerprint, key_label=key, apikey=f"api-{key}", claims=claims,
            room_id=room, issued_at=issued_at, expires_at=issued_at + timedelta(seconds=lifetime),
            user_id=user.id if user else None, client_id=client.id if client else None,
            issuer=user.email if user else f"client {client_name}",
        ))
        db.session.commit()


def rows(html: str) -> list[str]:
    """The fingerprints listed, in order (full value from the title)."""
    return [code.attrs["title"] for code in parse(html).find_all("code", cls="fingerprint")]


@pytest.fixture
def issued(app, developer_client, admin_client, make_user):
    """Tokens by the signed-in developer, another developer, the admin and an API client."""
    other = make_user("other@example.com", "developer")
    mine = developer_client.person.email
    _issue(app, user_email=mine, room="standup", issued_at=datetime(2025, 3, 1, 9, tzinfo=UTC),
           fingerprint="a" * 64)
    _issue(app, user_email=mine, key="long", room="retro",
           issued_at=datetime(2025, 3, 2, 23, 59, tzinfo=UTC), fingerprint="b" * 64)
    _issue(app, user_email=mine, issued_at=datetime.now(UTC) - timedelta(minutes=5),
           fingerprint="c" * 64)
    _issue(app, user_email=other.email, room="standup",
           issued_at=datetime(2025, 3, 1, 10, tzinfo=UTC), fingerprint="d" * 64)
    _issue(app, user_email=admin_client.person.email, key="long",
           issued_at=datetime(2025, 3, 3, 0, 0, tzinfo=UTC), fingerprint="e" * 64)
    _issue(app, user_email=None, client_name="backend", issued_at=datetime(2025, 2, 27,
           tzinfo=UTC), fingerprint="f" * 64)
    return {"mine": mine, "other": other.email, "admin": admin_client.person.email}


def test_a_developer_sees_only_their_own_newest_first(developer_client, issued):
    html = developer_client.get("/tokens").get_data(as_text=True)
    assert rows(html) == ["c" * 64, "b" * 64, "a" * 64]
    assert "3 tokens." in html
    assert 'id="person"' not in html  # the person filter is the admin's


def test_an_admin_sees_every_token_with_its_issuer(admin_client, issued):
    html = admin_client.get("/tokens").get_data(as_text=True)
    assert rows(html) == ["c" * 64, "e" * 64, "b" * 64, "d" * 64, "a" * 64, "f" * 64]
    assert "client backend" in html
    people = [o.attrs["value"] for o in parse(html).by_id("person").find_all("option")]
    # Everyone who may mint (people, then API clients, then the command line), whether or not
    # they have yet: the menu is read from those tables, never from the history.
    assert people == ["", *sorted([issued["admin"], issued["mine"], issued["other"]]),
                      "client backend", "cli"]


def test_the_filter_menus_never_read_the_whole_history(app, admin_client, issued):
    from webapp.services import videosdk_keys

    with app.app_context():
        videosdk_keys.add_key("production", "prod-api-key", "s" * 40)
        db.session.commit()
    with statements_run(app) as statements:
        html = admin_client.get("/tokens?key=long").get_data(as_text=True)
    keys = [o.attrs["value"] for o in parse(html).by_id("key").find_all("option")]
    # The stored key, and the label asked for in the URL though no stored key has it now.
    assert keys == ["", "long", "production"]
    assert value_of(html, "key") == "long"
    assert not any("DISTINCT" in statement.upper() for statement in statements)
    history_reads = [s for s in statements if "FROM issued_tokens" in s]
    assert len(history_reads) == 2, history_reads  # the page of rows and its count


def test_a_row_shows_claims_times_and_a_short_fingerprint_never_a_token(developer_client,
                                                                        issued):
    html = developer_client.get("/tokens").get_data(as_text=True)
    page = parse(html)
    table_rows = page.find_all("tbody")[0].find_all("tr")
    fresh, old = table_rows[0].text(), table_rows[2].text()
    assert "UTC valid valid for 5" in fresh and "more minutes" in fresh
    assert "expired" in old and "2025-03-01 09:00 UTC" in old
    assert "roomId standup" in old and "permissions allow_join" in old
    assert "aaaaaaaaaaaa…" in old and "a" * 13 not in table_rows[2].find_all("code",
                                                                             cls="fingerprint")[0].text()
    assert "eyJ" not in html


@pytest.mark.parametrize(("query", "expected"), [
    ("?key=long", ["e", "b"]),
    # The exact roomId, as VideoSDK compares it: no part, no other letter case.
    ("?room=standup", ["d", "a"]),
    ("?room=stand", []),
    ("?room=STANDUP", []),
    ("?room=%25", []),
    ("?person=other@example.com", ["d"]),
    ("?person=client+backend", ["f"]),
    ("?issued_from=2025-03-01&issued_to=2025-03-02", ["b", "d", "a"]),
    ("?issued_from=2025-03-03", ["c", "e"]),
    ("?issued_to=2025-02-28", ["f"]),
    ("?key=default&room=standup&issued_from=2025-03-01&issued_to=2025-03-01", ["d", "a"]),
])
def test_an_admin_filters_by_key_room_person_and_dates(admin_client, issued, query, expected):
    response = admin_client.get("/tokens" + query)
    assert response.status_code == 200
    assert rows(response.get_data(as_text=True)) == [c * 64 for c in expected]


def test_a_developers_filters_stay_within_their_own(developer_client, issued):
    html = developer_client.get("/tokens?room=standup").get_data(as_text=True)
    assert rows(html) == ["a" * 64]
    # A person filter sent by hand is ignored for a developer.
    html = developer_client.get("/tokens?person=other@example.com").get_data(as_text=True)
    assert rows(html) == ["c" * 64, "b" * 64, "a" * 64]


def test_filters_are_kept_in_the_form(admin_client, issued):
    html = admin_client.get("/tokens?key=long&room=re&issued_from=2025-03-01").get_data(
        as_text=True)
    assert value_of(html, "key") == "long"
    assert value_of(html, "room") == "re"
    assert value_of(html, "issued_from") == "2025-03-01"
    assert "Clear filters" in html


@pytest.mark.parametrize(("query", "field_id", "message"), [
    ("?issued_from=March", "issued_from", "Write the date as YYYY-MM-DD."),
    ("?issued_from=2025-03-02&issued_to=2025-03-01", "issued_to",
     "The end of the range is before its start."),
])
def test_a_bad_filter_is_a_400_beside_its_field(admin_client, issued, query, field_id, message):
    response = admin_client.get("/tokens" + query)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert errors_beside(html, field_id) == [message]
    assert all_errors(html) == [message]


def test_fifty_a_page_with_filters_kept_in_the_links(app, developer_client):
    mine = developer_client.person.email
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for n in range(53):
        _issue(app, user_email=mine, room="standup", issued_at=start + timedelta(minutes=n),
               fingerprint=f"{n:064x}")
    first = developer_client.get("/tokens?room=standup").get_data(as_text=True)
    assert len(rows(first)) == 50
    assert rows(first)[0] == f"{52:064x}"
    assert "53 tokens match; page 1 of 2." in first
    older = [a.attrs["href"] for a in parse(first).find_all("a", cls="page-link")
             if a.text() == "Older"]
    assert older == ["/tokens?page=2&room=standup"]
    second = developer_client.get(older[0]).get_data(as_text=True)
    assert rows(second) == [f"{n:064x}" for n in (2, 1, 0)]
    beyond = developer_client.get("/tokens?page=9").get_data(as_text=True)
    assert rows(beyond) == [] and "No token" in beyond
    # Only the filters travel on: other names in the URL never reach the links' url_for.
    odd = developer_client.get("/tokens?room=standup&endpoint=x&_method=POST&_external=1"
                               "&_anchor=top&person=someone-else")
    assert odd.status_code == 200
    assert [a.attrs["href"] for a in parse(odd.get_data(as_text=True)).find_all(
        "a", cls="page-link") if a.text() == "Older"] == ["/tokens?page=2&room=standup"]


def test_an_empty_history_invites_to_generate(developer_client):
    html = developer_client.get("/tokens").get_data(as_text=True)
    assert "No token issued yet." in html


def test_a_long_history_is_counted_only_as_far_as_one_can_page_ahead(admin_client, issued,
                                                                     monkeypatch):
    from webapp.web.pagination import BoundedPagination

    monkeypatch.setattr(BoundedPagination, "COUNT_AHEAD", 4)
    html = admin_client.get("/tokens").get_data(as_text=True)
    assert parse(html).by_id("history-count").text().strip() == "More than 4 tokens."
    assert len(rows(html)) == 6
    monkeypatch.setattr(BoundedPagination, "COUNT_AHEAD", 6)
    html = admin_client.get("/tokens").get_data(as_text=True)
    assert parse(html).by_id("history-count").text().strip() == "6 tokens."


def test_the_same_token_signed_by_two_people_in_one_second_is_in_both_histories(
        app, developer_client, admin_client, generate, monkeypatch):
    moment = datetime.now(UTC).replace(microsecond=0)
    monkeypatch.setattr("webapp.services.issuance.utcnow", lambda: moment)
    assert generate(admin_client).status_code == 200
    assert generate(developer_client).status_code == 200
    with app.app_context():
        fingerprints = db.session.execute(select(IssuedToken.fingerprint)).scalars().all()
    assert len(fingerprints) == 2 and fingerprints[0] == fingerprints[1]
    assert rows(developer_client.get("/tokens").get_data(as_text=True)) == fingerprints[:1]
    assert rows(admin_client.get("/tokens").get_data(as_text=True)) == fingerprints


def test_ids_stored_before_the_rule_show_their_invisible_characters_escaped(app,
                                                                          developer_client):
    """A room id holding U+202E (stored before it was refused) would show reversed."""
    _issue(app, user_email=developer_client.person.email, room="abc\u202edef\u200b",
           issued_at=datetime.now(UTC) - timedelta(minutes=1), fingerprint="9" * 64)
    body = developer_client.get("/tokens").get_data(as_text=True)
    assert "abc\\u202edef\\u200b" in body
    assert "\u202e" not in body and "\u200b" not in body


def test_a_key_label_and_issuer_stored_before_the_rule_show_escaped_everywhere(app,
                                                                             admin_client):
    """The detail page, the filters' menus, the generator's key menu and the clients list
    show a label or issuer holding ESC or U+202E (stored before names refused them) escaped."""
    from webapp.services import api_clients, videosdk_keys

    odd = "old\x1b[31mkey\u202eRLO"
    with app.app_context():
        key = videosdk_keys.add_key("oldkey", "api-oldkey", "s" * 40)
        key.label = odd
        db.session.commit()
        api_clients.create_client("backend", ["tokens:mint"], key_labels=[odd])
        db.session.commit()
    _issue(app, user_email=admin_client.person.email, key=odd,
           issued_at=datetime.now(UTC) - timedelta(minutes=1), fingerprint="8" * 64)
    with app.app_context():
        # Stored so by an older version: the ORM refuses to change a row of the trail.
        db.session.execute(update(IssuedToken).values(issuer="dev\u202e@example.com"))
        db.session.commit()
    shown = "old\\x1b[31mkey\\u202eRLO"
    for path in ("/tokens/" + "8" * 64, "/tokens", "/", "/admin/clients"):
        body = admin_client.get(path).get_data(as_text=True)
        assert shown in body, path
        # A form's option value carries the label as stored, so that choosing it finds it;
        # what is shown must not.
        displayed = re.sub(r'value="[^"]*"', "", body)
        assert "\x1b" not in displayed and "\u202e" not in displayed, path
