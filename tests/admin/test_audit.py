"""/admin/audit: filters, pages and CSV export; no route edits or deletes the trail."""

from __future__ import annotations

import ast
import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.routing import BuildError

from tests.support import statements_run
from webapp.extensions import db
from webapp.models import AuditEvent

WRITE_METHODS = {"PUT", "PATCH", "DELETE"}


@pytest.fixture
def add_events(app):
    """Insert audit events with chosen times and values, as the services would."""

    def add(*events: dict[str, object]) -> None:
        with app.app_context():
            for values in events:
                db.session.add(AuditEvent(**{
                    "actor": "alice@example.com", "actor_kind": "person",
                    "action": "key.created", "outcome": "success", "target": None,
                    "address": "10.0.0.1", "details": {}, **values}))
            db.session.commit()

    return add


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2021, 3, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def trail(add_events):
    add_events(
        {"at": at(1), "actor": "alice@example.com", "action": "key.created", "target": "prod"},
        {"at": at(2, 0), "actor": "bob@example.com", "action": "user.created", "target": "x@y.z"},
        {"at": at(2, 23), "actor": "ALICE@example.com", "action": "user.disabled",
         "outcome": "refused"},
        {"at": at(3), "actor": "cli", "actor_kind": "cli", "action": "client.created"},
        {"at": at(5), "actor": "bob@example.com", "action": "key.created", "target": "stage"},
    )


def shown_events(body: str) -> list[str]:
    """The actions of the events in the page's table (the phone list repeats them), in order."""
    return re.findall(r"<code>([a-z_.]+)</code>", body)


def test_no_route_accepts_a_method_that_could_edit_or_delete(app):
    for rule in app.url_map.iter_rules():
        assert not (rule.methods & WRITE_METHODS), rule


def test_no_route_changes_or_removes_an_audit_event(app, admin_client, make_user, stored_key,
                                                    api_client, trail, audit_events):
    ids = {"user_id": make_user("someone@example.com", "support").id,
           "key_id": stored_key["id"], "client_id": api_client["id"]}
    before = [(e.id, e.at, e.actor, e.action, e.target, e.outcome, e.address, e.details)
              for e in audit_events()]
    adapter = app.url_map.bind("localhost")
    # Signing out last, so that every other route is tried by a signed-in admin.
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint == "auth.logout")
    for rule in rules:
        if rule.endpoint == "auth.logout":
            assert admin_client.get("/admin/audit").status_code == 200
        try:
            url = adapter.build(rule.endpoint, {n: ids.get(n, "x") for n in rule.arguments})
        except BuildError:  # an integer argument of another blueprint
            url = adapter.build(rule.endpoint, {n: ids.get(n, 1) for n in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            status = admin_client.open(url, method=method, data={}).status_code
            assert status < 500, (method, url)
    after = [(e.id, e.at, e.actor, e.action, e.target, e.outcome, e.address, e.details)
             for e in audit_events()]
    assert after[:len(before)] == before
    assert len(after) > len(before)


def test_the_trail_lists_newest_first(admin_client, trail):
    body = admin_client.get("/admin/audit").get_data(as_text=True)
    # The admin signed in just now, after every planted event of 2021.
    assert shown_events(body) == ["auth.login", "key.created", "client.created",
                                  "user.disabled", "user.created", "key.created"]
    assert "10.0.0.1" in body and "refused" in body


@pytest.mark.parametrize(("query", "expected"), [
    ("actor=alice", ["user.disabled", "key.created"]),
    ("actor=bob%40example.com", ["key.created", "user.created"]),
    ("actor=cli", ["client.created"]),
    ("actor=%25", []),
    ("action=key.created", ["key.created", "key.created"]),
    ("outcome=refused", ["user.disabled"]),
    ("since=2021-03-02&until=2021-03-02", ["user.disabled", "user.created"]),
    ("since=2021-03-03", ["key.created", "client.created"]),
    ("until=2021-03-01", ["key.created"]),
    ("actor=bob&action=key.created&since=2021-03-04", ["key.created"]),
])
def test_filters(admin_client, trail, query, expected):
    response = admin_client.get("/admin/audit?" + query)
    assert response.status_code == 200
    listed = [a for a in shown_events(response.get_data(as_text=True)) if a != "auth.login"]
    assert listed == expected


@pytest.mark.parametrize(("query", "message"), [
    ("since=yesterday", "Not a valid date value."),
    ("since=2021-03-05&until=2021-03-01", "The end date is before the start date."),
    ("action=no.such.action", "Not a valid choice."),
])
def test_bad_filters_are_refused_beside_the_field(admin_client, trail, query, message):
    response = admin_client.get("/admin/audit?" + query)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert admin_client.get("/admin/audit.csv?" + query).status_code == 400


def test_pages_of_fifty_keep_the_filters(admin_client, add_events):
    add_events(*[{"at": at(1, 0).replace(minute=i), "action": "token.minted",
                  "target": f"t{i:02d}"} for i in range(60)])
    first = admin_client.get("/admin/audit?action=token.minted").get_data(as_text=True)
    assert first.count("<code>token.minted</code>") == 50
    assert "page 1 of 2" in first
    assert 'href="/admin/audit?page=2&amp;action=token.minted"' in first
    second = admin_client.get("/admin/audit?action=token.minted&page=2").get_data(as_text=True)
    assert second.count("<code>token.minted</code>") == 10
    assert "<code>token.minted</code> t09<" in second
    assert "<code>token.minted</code> t59<" not in second


def test_a_long_trail_is_counted_only_as_far_as_one_can_page_ahead(app, admin_client, add_events,
                                                                   monkeypatch):
    from webapp.web.pagination import BoundedPagination

    monkeypatch.setattr(BoundedPagination, "COUNT_AHEAD", 60)
    add_events(*[{"at": at(1, 0).replace(minute=i % 60, second=i // 60), "action": "token.minted",
                  "target": f"t{i:03d}"} for i in range(130)])
    with statements_run(app) as statements:
        first = admin_client.get("/admin/audit?action=token.minted").get_data(as_text=True)
    # 130 lines, but the count stops 60 rows past the first page's start.
    assert "More than 60 events match these filters · page 1 of 2+." in first
    assert 'href="/admin/audit?page=2&amp;action=token.minted"' in first
    counts = [s for s in statements if "count(" in s.lower() and "audit_events" in s]
    assert len(counts) == 1 and "LIMIT" in counts[0].upper(), counts
    second = admin_client.get("/admin/audit?action=token.minted&page=2").get_data(as_text=True)
    assert "More than 110 events match these filters · page 2 of 3+." in second
    third = admin_client.get("/admin/audit?action=token.minted&page=3").get_data(as_text=True)
    assert "130 events match these filters · page 3 of 3." in third
    assert third.count("<code>token.minted</code>") == 30


def read_csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_export_has_every_column_and_the_same_filters(admin_client, trail, audit_events):
    response = admin_client.get("/admin/audit.csv?actor=bob")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_data(as_text=True).startswith(
        '"at","actor","actor_kind","action","target","outcome","address","details"\r\n')
    assert read_csv(response) == [
        {"at": "2021-03-05T12:00:00Z", "actor": "bob@example.com", "actor_kind": "person",
         "action": "key.created", "target": "stage", "outcome": "success",
         "address": "10.0.0.1", "details": "{}"},
        {"at": "2021-03-02T00:00:00Z", "actor": "bob@example.com", "actor_kind": "person",
         "action": "user.created", "target": "x@y.z", "outcome": "success",
         "address": "10.0.0.1", "details": "{}"},
    ]
    same = admin_client.get("/admin/audit?format=csv&actor=bob")
    assert same.mimetype == "text/csv" and read_csv(same) == read_csv(response)
    exported = audit_events("audit.exported")
    assert [(e.actor, e.details) for e in exported] == [
        (admin_client.person.email, {"filters": {"actor": "bob"}})] * 2


def test_csv_cells_cannot_run_as_formulas(admin_client, add_events):
    add_events({"at": at(1), "actor": "=HYPERLINK(\"http://evil\")", "action": "auth.login",
                "target": "+1+1", "outcome": "failure", "details": {"x": "-2"}},
               {"at": at(2), "actor": "@SUM(A1)", "action": "auth.login", "target": "-3",
                "outcome": "failure", "address": "\tx"})
    rows = read_csv(admin_client.get("/admin/audit.csv?outcome=failure"))
    assert [(r["actor"], r["target"]) for r in rows] == [("'@SUM(A1)", "'-3"),
                                                          ("'=HYPERLINK(\"http://evil\")", "'+1+1")]
    assert rows[0]["address"] == "'\tx"
    assert rows[1]["details"] == '{"x":"-2"}'


def test_every_csv_field_is_quoted(admin_client, add_events):
    add_events({"at": at(1), "actor": "plain", "action": "auth.login", "outcome": "failure"})
    lines = admin_client.get("/admin/audit.csv?outcome=failure").get_data(as_text=True)
    header, row = lines.split("\r\n")[:2]
    assert header == '"at","actor","actor_kind","action","target","outcome","address","details"'
    assert row == '"2021-03-01T12:00:00Z","plain","person","auth.login","","failure",' \
        '"10.0.0.1","{}"'


@pytest.mark.parametrize(("typed", "safe"), [
    (";=HYPERLINK(\"http://evil\");@x.co", ";'=HYPERLINK(\"http://evil\");'@x.co"),
    ("a,=1+1", "a,'=1+1"),
    ("a|+1", "a|'+1"),
    ("a\t-1", "a\t'-1"),
    ("a; =cmd|' /C calc'!A0", "a;' =cmd|' /C calc'!A0"),
    ("a\n@SUM(1)", "a\n'@SUM(1)"),
    ("\r=1", "'\r'=1"),
    ("a-b=c@d.example", "a-b=c@d.example"),
])
def test_no_cell_starts_a_formula_whatever_separator_splits_it(admin_client, add_events, typed,
                                                                safe):
    """Excel in many locales splits on `;`, some on `|` or tabs: no split may start a cell
    with a formula (OWASP CSV Injection)."""
    add_events({"at": at(1), "actor": typed, "action": "auth.login", "target": typed,
                "outcome": "failure"})
    [row] = read_csv(admin_client.get("/admin/audit.csv?outcome=failure"))
    assert row["actor"] == row["target"] == safe
    for separator in ",;|\t\r\n":
        for cell in safe.split(separator):
            assert not cell.lstrip(" ").startswith(tuple("=+-@")), (separator, cell)


def test_the_page_links_to_the_csv_with_its_filters(admin_client, trail):
    body = admin_client.get("/admin/audit?actor=bob&action=key.created").get_data(as_text=True)
    assert 'href="/admin/audit.csv?actor=bob&amp;action=key.created"' in body


def test_admin_actions_land_in_the_trail_with_who_where_and_outcome(app, admin_client,
                                                                     audit_events):
    admin_client.post("/admin/keys/new", data={
        "label": "k", "apikey": "a", "secret": "s" * 40, "max_lifetime": "1h",
        "permissions": ["allow_join"]})
    admin_client.post("/admin/users/new", data={"email": "d@example.com", "role": "developer"})
    admin_client.post("/admin/clients/new", data={"name": "c", "scopes": ["tokens:mint"],
                                                  "rate_limit": "5/second"})
    with app.app_context():
        rows = db.session.execute(select(AuditEvent).where(AuditEvent.action.in_(
            ["key.created", "user.created", "client.created"])).order_by(AuditEvent.id)).scalars()
        seen = [(e.action, e.target, e.actor, e.actor_kind, e.address, e.outcome) for e in rows]
    who = admin_client.person.email
    assert seen == [("key.created", "k", who, "person", "127.0.0.1", "success"),
                    ("user.created", "d@example.com", who, "person", "127.0.0.1", "success"),
                    ("client.created", "c", who, "person", "127.0.0.1", "success")]
    body = admin_client.get("/admin/audit").get_data(as_text=True)
    assert shown_events(body)[:3] == ["client.created", "user.created", "key.created"]


def test_the_orm_refuses_to_change_or_delete_an_audit_line(app):
    from webapp.models import AuditTrailIsAppendOnly
    from webapp.services import audit

    with app.app_context():
        event = audit.record("key.updated", target="x")
        event.outcome = "tampered"
        with pytest.raises(AuditTrailIsAppendOnly):
            db.session.commit()
        db.session.rollback()
        stored = db.session.get(AuditEvent, event.id)
        assert stored.outcome == "success"
        db.session.delete(stored)
        with pytest.raises(AuditTrailIsAppendOnly):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(AuditEvent, event.id) is not None


def test_the_filter_menus_come_from_the_vocabulary_not_from_a_scan_of_the_trail(
        app, admin_client, trail):
    from webapp.services import audit

    with statements_run(app) as statements:
        body = admin_client.get("/admin/audit").get_data(as_text=True)
    # Every action is offered, including ones the trail holds no line of yet.
    assert re.findall(r'<option value="([^"]*)"', body) == ["", *audit.ACTIONS,
                                                              "", *audit.OUTCOMES]
    trail_reads = [s for s in statements if "audit_events" in s and s.lstrip().startswith("SELECT")]
    # The page of lines and its count; nothing that reads the whole trail for its values.
    assert len(trail_reads) == 2, trail_reads
    assert not any("DISTINCT" in s.upper() for s in statements)


@pytest.mark.parametrize(("action", "outcome"), [("key.deleted", "success"),
                                                 ("key.created", "tampered")])
def test_the_trail_records_only_its_own_actions_and_outcomes(app, action, outcome):
    from webapp.services import audit

    with app.app_context(), pytest.raises(ValueError, match="not an audit action"):
        audit.record(action, outcome=outcome)
    with app.app_context():
        assert db.session.execute(select(AuditEvent)).first() is None


def _literal_actions(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _literal_actions(node.body) | _literal_actions(node.orelse)
    return set()


def test_every_action_the_code_records_is_in_the_vocabulary_and_no_other():
    """The filter menu offers exactly what some code path can record."""
    import webapp
    from webapp.services import audit

    recorders = {"record", "entry", "refused", "_refused_on_user_page"}
    recorded: set[str] = set()
    for path in Path(webapp.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and node.args:
                name = getattr(node.func, "attr", getattr(node.func, "id", None))
                if name in recorders:
                    recorded |= _literal_actions(node.args[0])
            elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "action" for t in node.targets):
                recorded |= _literal_actions(node.value)
    assert recorded == set(audit.ACTIONS)


def test_stored_values_show_control_and_format_characters_escaped(admin_client, add_events):
    add_events({"at": at(1), "actor": "eve\u202e@example.com", "action": "token.minted",
                "target": "room\x1b[31m", "details": {"roomId": "abc\u202edef",
                                                     "roles": ["r\u200b"]}})
    body = admin_client.get("/admin/audit").get_data(as_text=True)
    for shown in ("eve\\u202e@example.com", "room\\x1b[31m", "abc\\u202edef", "r\\u200b"):
        assert shown in body
    for raw in ("\u202e", "\x1b", "\u200b"):
        assert raw not in body


def test_a_row_per_event_an_inspection_shows_its_verdict_and_a_mint_links_its_token(
        admin_client, add_events):
    """Issue 19: compact rows, details folded, verdicts, fingerprints opening the token."""
    fingerprint = "ab" * 32
    add_events({"at": at(1, 0), "action": "token.inspected",
                "details": {"via": "console", "verdict": "invalid", "fingerprint": "cd" * 32}},
               {"at": at(1, 1), "action": "token.minted", "target": "default",
                "details": {"via": "api", "fingerprint": fingerprint}})
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    table = html[html.index('<table class="table table-sm align-middle mb-0 audit-table">'):]
    rows = table.split('<tr class="audit-event">')[1:]
    inspected = next(r for r in rows if "token.inspected" in r)
    minted = next(r for r in rows if "token.minted" in r)
    assert '<span class="badge text-bg-danger">invalid</span>' in inspected
    assert ">success<" not in inspected
    assert "<details>" in inspected and "<summary>4 details</summary>" in inspected
    assert f'<a href="/tokens/{fingerprint}" class="font-monospace">abababababab…</a>' in minted
    assert "/tokens/" + "cd" * 32 not in inspected  # an inspected token may not be ours


@pytest.mark.parametrize(("path", "action", "filled"), [
    ("/admin/keys/new", "key.created", {"label": "x"}),
    ("/admin/users/new", "user.created", {"email": "x"}),
    ("/admin/clients/new", "client.created", {"name": "x"}),
])
def test_a_refused_empty_form_is_not_an_event(admin_client, audit_events, path, action, filled):
    """An empty form changes nothing and says nothing: refused, but not audited."""
    assert admin_client.post(path, data={}).status_code == 400
    assert audit_events(action) == []
    assert admin_client.post(path, data=filled).status_code == 400
    assert [e.outcome for e in audit_events(action)] == ["refused"]


# One row per mint (migration 0006): a successful mint's line is its issued-token row, read
# into the trail beside audit_events by every filter, the pages and the CSV.

@pytest.fixture
def minted(app, trail, api_client, monkeypatch):
    """A mint by the API client `backend` from 198.51.100.4 on 2021-03-04 at noon (between
    the trail's events of the 3rd and the 5th); the token's fingerprint."""
    monkeypatch.setattr("webapp.services.issuance.utcnow", lambda: at(4))
    response = app.test_client().post(
        "/api/v1/tokens", json={"permissions": ["allow_join"], "roomId": "r-1"},
        headers={"Authorization": f"Bearer {api_client['key']}"},
        environ_base={"REMOTE_ADDR": "198.51.100.4"})
    assert response.status_code == 201, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "token.minted")).first() is None  # no second row
    return str(response.get_json()["token"]), response.get_json()["claims"]


def test_a_mint_line_kept_on_its_row_takes_its_place_in_the_trail(admin_client, minted):
    token, claims = minted
    body = admin_client.get("/admin/audit").get_data(as_text=True)
    assert shown_events(body) == ["auth.login", "key.created", "token.minted", "client.created",
                                  "user.disabled", "user.created", "key.created"]
    table = body[body.index('<table class="table table-sm align-middle mb-0 audit-table">'):]
    (row,) = [r for r in table.split('<tr class="audit-event">')[1:] if "token.minted" in r]
    assert "client backend" in row and "· client" in row and "198.51.100.4" in row
    assert '<time datetime="2021-03-04T12:00:00Z">' in row
    assert "expiresAt:" in row and "via:" in row and "production" in row
    assert token not in body and token.split(".")[2] not in body


@pytest.mark.parametrize(("query", "expected"), [
    ("action=token.minted", ["token.minted"]),
    ("action=key.created", ["key.created", "key.created"]),
    ("outcome=success", ["key.created", "token.minted", "client.created", "user.created",
                         "key.created"]),
    ("outcome=refused", ["user.disabled"]),
    ("actor=BACKEND", ["token.minted"]),
    ("actor=client%20b", ["token.minted"]),
    ("actor=alice", ["user.disabled", "key.created"]),
    ("since=2021-03-04&until=2021-03-04", ["token.minted"]),
    ("since=2021-03-05", ["key.created"]),
    ("until=2021-03-03", ["client.created", "user.disabled", "user.created", "key.created"]),
])
def test_every_filter_reads_the_mint_lines_too(admin_client, minted, query, expected):
    response = admin_client.get("/admin/audit?" + query)
    assert response.status_code == 200
    listed = [a for a in shown_events(response.get_data(as_text=True)) if a != "auth.login"]
    assert listed == expected


def test_the_csv_holds_the_mint_line_as_the_mint_wrote_it(admin_client, minted):
    token, claims = minted
    response = admin_client.get("/admin/audit.csv?action=token.minted")
    (line,) = read_csv(response)
    details = json.loads(line.pop("details"))
    assert line == {"at": "2021-03-04T12:00:00Z", "actor": "client backend",
                    "actor_kind": "client", "action": "token.minted", "target": "production",
                    "outcome": "success", "address": "198.51.100.4"}
    assert details == {"via": "api", "key": "production", "claims": claims,
                       "fingerprint": details["fingerprint"],
                       "expiresAt": "2021-03-04T13:00:00Z"}
    assert re.fullmatch(r"[0-9a-f]{64}", details["fingerprint"])
    assert token not in response.get_data(as_text=True)


def test_the_orm_refuses_to_change_or_delete_an_issued_token_row(app, minted):
    from webapp.models import AuditTrailIsAppendOnly, IssuedToken

    with app.app_context():
        row = db.session.execute(select(IssuedToken)).scalar_one()
        row.via = "console"
        with pytest.raises(AuditTrailIsAppendOnly):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.execute(select(IssuedToken)).scalar_one())
        with pytest.raises(AuditTrailIsAppendOnly):
            db.session.commit()
        db.session.rollback()
        assert db.session.execute(select(IssuedToken.via)).scalar_one() == "api"
