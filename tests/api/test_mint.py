"""POST /api/v1/tokens: the 201 shape, exact claims, key choice, validation and policy (SPEC 5)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select

from tests.api.conftest import MAIN_APIKEY, OTHER_APIKEY, OTHER_SECRET, header_of, payload_of
from tests.support import trail_lines
from webapp.extensions import db
from webapp.models import AuditEvent, IssuedToken

ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def mint(api, caller, body, **kwargs):  # type: ignore[no-untyped-def]
    return api.post("/api/v1/tokens", json=body, headers=caller.headers, **kwargs)


def issued_count(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(IssuedToken))


def test_mint_answers_201_with_exactly_the_spec_shape(api, caller):
    before = int(datetime.now(UTC).timestamp())
    response = mint(api, caller, {"permissions": ["allow_join"], "expiresIn": "10m"})
    after = int(datetime.now(UTC).timestamp())
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"token", "apikey", "claims", "issuedAt", "expiresAt", "expiresIn"}
    assert body["apikey"] == MAIN_APIKEY
    assert body["expiresIn"] == 600
    assert ISO_Z.fullmatch(body["issuedAt"]) and ISO_Z.fullmatch(body["expiresAt"])
    claims = payload_of(body["token"])
    assert header_of(body["token"]) == {"alg": "HS256", "typ": "JWT"}
    assert claims == body["claims"]
    assert set(claims) == {"apikey", "permissions", "iat", "exp"}
    assert claims["apikey"] == MAIN_APIKEY and claims["permissions"] == ["allow_join"]
    assert before <= claims["iat"] <= after
    assert claims["exp"] - claims["iat"] == 600
    issued = datetime.fromtimestamp(claims["iat"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["issuedAt"] == issued


def test_default_lifetime_is_one_hour(api, caller):
    body = mint(api, caller, {"permissions": ["allow_join"]}).get_json()
    assert body["expiresIn"] == 3600
    assert body["claims"]["exp"] - body["claims"]["iat"] == 3600


def test_room_participant_and_roles_bring_version_2(api, caller):
    response = mint(api, caller, {"permissions": ["allow_join", "allow_mod"], "roomId": "abc-def",
                                  "participantId": "p1", "roles": ["rtc"], "expiresIn": 120})
    assert response.status_code == 201
    claims = payload_of(response.get_json()["token"])
    assert {k: v for k, v in claims.items() if k not in ("iat", "exp")} == {
        "apikey": MAIN_APIKEY, "permissions": ["allow_join", "allow_mod"], "version": 2,
        "roomId": "abc-def", "participantId": "p1", "roles": ["rtc"],
    }
    assert response.get_json()["expiresIn"] == 120


def test_the_token_is_recorded_and_audited_without_the_token(app, api, caller):
    token = mint(api, caller, {"permissions": ["allow_join"]}).get_json()["token"]
    with app.app_context():
        row = db.session.execute(select(IssuedToken)).scalar_one()
        assert row.issuer == f"client {caller.name}" and row.client_id == caller.id
        assert row.user_id is None and row.key_label == "main"
        (event,) = trail_lines("token.minted")
        assert (event.actor, event.actor_kind, event.outcome) == (
            f"client {caller.name}", "client", "success")
        assert event.details["via"] == "api"
        assert token not in str(event.details) and token.split(".")[2] not in str(event.details)
        # One row per mint: the line is the issued-token row's, audit_events holds none.
        assert (row.via, row.address) == ("api", "127.0.0.1")
        assert db.session.execute(select(func.count()).select_from(AuditEvent)).scalar() == 0


class TestKeyChoice:
    def test_apikey_may_be_left_out_with_exactly_one_usable_key(self, api, caller):
        assert mint(api, caller, {"permissions": ["allow_join"]}).status_code == 201

    def test_apikey_is_needed_when_several_keys_are_usable(self, app, api, make_key, caller):
        make_key("other", OTHER_APIKEY, OTHER_SECRET)
        response = mint(api, caller, {"permissions": ["allow_join"]})
        assert response.status_code == 422
        assert response.mimetype == "application/problem+json"
        body = response.get_json()
        assert body["code"] == "validation_failed"
        assert body["errors"] == {
            "apikey": ["This client may sign with 2 keys: name one in apikey."]}
        named = mint(api, caller, {"apikey": OTHER_APIKEY, "permissions": ["allow_join"]})
        assert named.status_code == 201
        assert payload_of(named.get_json()["token"])["apikey"] == OTHER_APIKEY
        assert issued_count(app) == 1

    def test_a_disabled_key_does_not_count(self, api, make_key, caller):
        make_key("other", OTHER_APIKEY, OTHER_SECRET, disabled=True)
        assert mint(api, caller, {"permissions": ["allow_join"]}).status_code == 201

    def test_no_usable_key_is_422(self, api, make_caller):
        lonely = make_caller("lonely")
        response = mint(api, lonely, {"permissions": ["allow_join"]})
        assert response.status_code == 422
        assert response.get_json()["errors"] == {
            "apikey": ["This client has no usable key: ask an admin to allow one."]}

    @pytest.mark.parametrize("apikey", ["no-such-key", OTHER_APIKEY])
    def test_a_key_not_allowed_to_the_client_is_403_forbidden(self, app, api, make_key,
                                                              make_caller, apikey):
        make_key()
        make_key("other", OTHER_APIKEY, OTHER_SECRET)
        limited = make_caller("limited", keys=("main",))
        response = mint(api, limited, {"apikey": apikey, "permissions": ["allow_join"]})
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["code"] == "forbidden"
        assert issued_count(app) == 0
        with app.app_context():
            event = db.session.execute(select(AuditEvent)).scalar_one()
            assert (event.action, event.outcome, event.actor) == (
                "token.minted", "refused", "client limited")

    def test_a_client_bound_to_one_key_may_omit_it_among_many(self, api, make_key, make_caller):
        make_key()
        make_key("other", OTHER_APIKEY, OTHER_SECRET)
        bound = make_caller("bound", keys=("other",))
        response = mint(api, bound, {"permissions": ["allow_join"]})
        assert response.status_code == 201
        assert response.get_json()["apikey"] == OTHER_APIKEY

    def test_a_disabled_key_named_explicitly_is_forbidden(self, api, make_key, make_caller):
        make_key()
        make_key("other", OTHER_APIKEY, OTHER_SECRET, disabled=True)
        response = mint(api, make_caller("c"), {"apikey": OTHER_APIKEY,
                                                "permissions": ["allow_join"]})
        assert response.status_code == 403
        assert response.get_json()["code"] == "forbidden"


@pytest.mark.parametrize(("body", "errors"), [
    ({}, {"permissions": ['permissions is required: a list such as ["allow_join"] or '
                          '["ask_join"].']}),
    ({"permissions": "allow_join"},
     {"permissions": ["permissions must be a list of text values."]}),
    ({"permissions": [1]}, {"permissions": ["permissions must be a list of text values."]}),
    ({"permissions": ["allow_join"], "roles": "rtc"},
     {"roles": ["roles must be a list of text values."]}),
    ({"permissions": ["allow_join"], "roomId": 5}, {"roomId": ["roomId must be text."]}),
    ({"permissions": ["allow_join"], "participantId": ["p"]},
     {"participantId": ["participantId must be text."]}),
    ({"permissions": ["allow_join"], "apikey": 7}, {"apikey": ["apikey must be text."]}),
    ({"permissions": ["allow_join"], "expiresIn": True},
     {"expiresIn": ["expiresIn must be a number of seconds or text such as '1h'."]}),
    ({"permissions": ["allow_join"], "expiresIn": {"h": 1}},
     {"expiresIn": ["expiresIn must be a number of seconds or text such as '1h'."]}),
    ({"permissions": ["allow_join"], "admin": True},
     {"admin": ["Unknown field. Use only apikey, permissions, roles, roomId, participantId, "
                "expiresIn."]}),
    ({"permissions": ["allow_join"], "version": 2},
     {"version": ["Unknown field. version 2 is added when needed: leave it out."]}),
    ({"permissions": ["allow_join"], "roomid": "r1", "participant_id": "p", "ExpiresIn": "1h"},
     {"roomid": ["Unknown field: did you mean roomId? Names are read exactly as written."],
      "participant_id": ["Unknown field: did you mean participantId? Names are read exactly "
                         "as written."],
      "ExpiresIn": ["Unknown field: did you mean expiresIn? Names are read exactly as "
                    "written."]}),
    ({"Permissions": ["allow_join"]},
     {"Permissions": ["Unknown field: did you mean permissions? Names are read exactly as "
                      "written."],
      "permissions": ["permissions is required: a list such as [\"allow_join\"] or "
                      "[\"ask_join\"]."]}),
])
def test_shape_errors_are_422_with_errors_by_field(app, api, caller, body, errors):
    response = mint(api, caller, body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "validation_failed" and problem["status"] == 422
    assert problem["errors"] == errors
    assert issued_count(app) == 0


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"permissions": []}, "permissions", "Give at least one permission"),
    ({"permissions": ["allow_everything"]}, "permissions", "Unknown permission 'allow_everything'"),
    ({"permissions": ["ask_join", "allow_mod"]}, "permissions", "ask_join cannot be combined"),
    ({"permissions": ["allow_join"], "roles": ["admin"]}, "roles", "Unknown role 'admin'"),
    ({"permissions": ["allow_join", "allow_join"]}, "permissions",
     "permissions lists 'allow_join' more than once: give each value once."),
    ({"permissions": ["allow_join"], "roles": ["rtc", "rtc"]}, "roles",
     "roles lists 'rtc' more than once: give each value once."),
    ({"permissions": ["allow_join"], "participantId": "a b"}, "participantId", "whitespace"),
    ({"permissions": ["allow_join"], "roomId": ""}, "roomId", "roomId is empty"),
    ({"permissions": ["allow_join"], "roomId": "a\u0000b"}, "roomId",
     "roomId holds the control character U+0000: no VideoSDK id does."),
    ({"permissions": ["allow_join"], "roomId": "abc\u202edef"}, "roomId",
     "roomId holds the invisible format character U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ({"permissions": ["allow_join"], "participantId": "jane\u200b"}, "participantId",
     "participantId holds the invisible format character U+200B (ZERO WIDTH SPACE)"),
    ({"permissions": ["allow_join"], "participantId": "p" * 256}, "participantId",
     "participantId is 256 characters long; this service keeps ids of at most 255."),
    ({"permissions": ["allow_join"], "expiresIn": "120"}, "expiresIn", "120 milliseconds"),
    ({"permissions": ["allow_join"], "expiresIn": -5}, "expiresIn", "more than zero"),
    ({"permissions": ["allow_join"], "expiresIn": "soon"}, "expiresIn", "is not a lifetime"),
])
def test_videosdk_rule_breaks_are_422_from_the_domain(app, api, caller, body, field, words):
    response = mint(api, caller, body)
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["code"] == "validation_failed"
    assert list(problem["errors"]) == [field]
    assert words in " ".join(problem["errors"][field])
    assert issued_count(app) == 0
    with app.app_context():
        event = db.session.execute(select(AuditEvent)).scalar_one()
        assert (event.outcome, event.actor_kind) == ("refused", "client")
        assert field in event.details["reason"]


@pytest.mark.parametrize("data", [b"not json", b"{", b"", b"permissions=allow_join",
                                  b'{"permissions": [NaN]}', b"[" * 5000 + b"]" * 5000,
                                  b"\xff\xfe{}"])
def test_a_body_that_is_not_json_is_400(api, caller, data):
    response = api.post("/api/v1/tokens", data=data, headers=caller.headers,
                        content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["code"] == "validation_failed"


@pytest.mark.parametrize("data", [b"[]", b'["permissions"]', b'"allow_join"', b"3", b"null"])
def test_json_that_is_not_an_object_is_422(api, caller, data):
    response = api.post("/api/v1/tokens", data=data, headers=caller.headers,
                        content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"body": ["The body must be a JSON object."]}


class TestPolicy:
    def refused(self, app, response, field):  # type: ignore[no-untyped-def]
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"
        problem = response.get_json()
        assert problem["code"] == "policy_violation"
        assert list(problem["errors"]) == [field]
        assert issued_count(app) == 0
        return problem

    def test_lifetime_above_the_key_maximum(self, app, api, make_key, make_caller):
        make_key(max_lifetime="1h")
        problem = self.refused(app, mint(api, make_caller(), {"permissions": ["allow_join"],
                                                              "expiresIn": "2h"}), "expiresIn")
        assert "beyond the maximum allowed here, 1h" in problem["errors"]["expiresIn"][0]

    def test_lifetime_at_the_key_maximum_is_fine(self, api, make_key, make_caller):
        make_key(max_lifetime="1h")
        assert mint(api, make_caller(), {"permissions": ["allow_join"],
                                         "expiresIn": "1h"}).status_code == 201

    def test_lifetime_above_the_client_maximum(self, app, api, main_key, make_caller):
        client = make_caller(max_lifetime="10m")
        problem = self.refused(app, mint(api, client, {"permissions": ["allow_join"],
                                                       "expiresIn": "11m"}), "expiresIn")
        assert "10m" in problem["errors"]["expiresIn"][0]

    def test_default_lifetime_above_a_key_maximum_is_refused_not_trimmed(
            self, app, api, make_key, make_caller):
        make_key(max_lifetime="30m")
        self.refused(app, mint(api, make_caller(), {"permissions": ["allow_join"]}), "expiresIn")

    def test_a_permission_the_key_does_not_allow(self, app, api, make_key, make_caller):
        make_key(permissions=["allow_join", "ask_join"])
        problem = self.refused(app, mint(api, make_caller(), {
            "permissions": ["allow_join", "allow_mod"]}), "permissions")
        assert "allow_mod" in problem["errors"]["permissions"][0]

    def test_a_role_the_key_does_not_allow(self, app, api, make_key, make_caller):
        make_key(roles=["rtc"])
        self.refused(app, mint(api, make_caller(), {"permissions": ["allow_join"],
                                                    "roles": ["crawler"]}), "roles")

    def test_the_refusal_is_audited(self, app, api, make_key, make_caller):
        make_key(roles=["rtc"])
        mint(api, make_caller("strict"), {"permissions": ["allow_join"], "roles": ["crawler"]})
        with app.app_context():
            event = db.session.execute(select(AuditEvent)).scalar_one()
            assert (event.action, event.outcome, event.actor, event.target) == (
                "token.minted", "refused", "client strict", "main")


def test_the_same_token_twice_in_one_second_is_recorded_once_and_audited_twice(
        app, api, caller, monkeypatch):
    moment = datetime.now(UTC).replace(microsecond=0)
    monkeypatch.setattr("webapp.services.issuance.utcnow", lambda: moment)
    first = mint(api, caller, {"permissions": ["allow_join"]})
    second = mint(api, caller, {"permissions": ["allow_join"]})
    assert first.status_code == second.status_code == 201
    assert first.get_json()["token"] == second.get_json()["token"]
    assert issued_count(app) == 1
    with app.app_context():
        lines = trail_lines("token.minted")
        assert [line.outcome for line in lines] == ["success", "success"]
        assert lines[0].details == lines[1].details
        # The first mint's line is the row's; the second, which added no row, is audit_events'.
        assert db.session.execute(select(AuditEvent.outcome)).scalars().all() == ["success"]


def test_two_clients_that_sign_the_same_token_in_one_second_each_keep_their_record(
        app, api, caller, make_caller, monkeypatch):
    moment = datetime.now(UTC).replace(microsecond=0)
    monkeypatch.setattr("webapp.services.issuance.utcnow", lambda: moment)
    second_caller = make_caller("second")
    first = mint(api, caller, {"permissions": ["allow_mod"]})
    second = mint(api, second_caller, {"permissions": ["allow_mod"]})
    token = first.get_json()["token"]
    assert second.get_json()["token"] == token
    with app.app_context():
        issuers = db.session.execute(
            select(IssuedToken.issuer).order_by(IssuedToken.id)).scalars().all()
    assert issuers == ["client app", "client second"]

    # Each client hears that it issued the token itself; inspection names the other one too.
    for asking, name in ((caller, "app"), (second_caller, "second")):
        introspected = api.post("/api/v1/tokens/introspect", data={"token": token},
                                headers=asking.headers).get_json()
        assert (introspected["active"], introspected["client_id"]) == (True, name)
    reasons = api.post("/api/v1/tokens/inspect", json={"token": token},
                       headers=second_caller.headers).get_json()["reasons"]
    issued_here = next(r for r in reasons if r["code"] == "issued_here")
    assert issued_here["message"].startswith("This token was issued here by API client second ")
    assert issued_here["message"].endswith(
        "with key 'main'; the same token was also issued by API client app.")


@pytest.mark.parametrize("bound", ["one key", "several keys"])
@pytest.mark.parametrize("endpoint", ["/api/v1/tokens", "/get-token"])
def test_every_mint_commits_its_token_and_audit_line_before_it_answers(
        app, api, make_key, make_caller, bound, endpoint):
    # One write path: whatever the client may sign with, and whichever endpoint, the token's
    # row and its audit line are committed by the time the answer is out. A connection of
    # this test's own sees only what was committed, never what a request merely flushed.
    make_key("main")
    make_key("other", OTHER_APIKEY, OTHER_SECRET)
    several = bound == "several keys"
    caller = make_caller("app", keys=("main", "other") if several else ("main",))
    if endpoint == "/get-token":
        response = api.get("/get-token?roomId=room-1", headers=caller.headers)
        expected_status, expected_label = (422, None) if several else (200, "main")
    else:
        body = {"permissions": ["allow_join"], "roomId": "room-1",
                **({"apikey": OTHER_APIKEY} if several else {})}
        response = api.post(endpoint, json=body, headers=caller.headers)
        expected_status, expected_label = 201, "other" if several else "main"
    assert response.status_code == expected_status
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as connection:
            issued = connection.execute(select(
                IssuedToken.key_label, IssuedToken.issuer, IssuedToken.room_id)).all()
            audited = [(line.outcome, line.target, line.actor)
                       for line in trail_lines("token.minted", connection=connection)]
    finally:
        engine.dispose()
    if expected_label is None:  # /get-token refuses a client with several keys, audited
        assert (issued, audited) == ([], [("refused", None, "client app")])
        return
    assert issued == [(expected_label, "client app", "room-1")]
    assert audited == [("success", expected_label, "client app")]


def test_a_sqlite_without_returning_records_a_repeat_once_all_the_same(
        app, api, caller, monkeypatch):
    """SQLite before 3.35 (RHEL 9 ships 3.34) has ON CONFLICT but no RETURNING, and
    SQLAlchemy says so in ``insert_returning``: the mint must not send a RETURNING there,
    and still tell a recorded row from a repeat."""
    from tests.support import statements_run

    with app.app_context():
        dialect = db.engine.dialect
    if dialect.name != "sqlite":
        pytest.skip("SQLite's RETURNING depends on its version")
    monkeypatch.setattr(dialect, "insert_returning", False)
    moment = datetime.now(UTC).replace(microsecond=0)
    monkeypatch.setattr("webapp.services.issuance.utcnow", lambda: moment)
    with statements_run(app) as statements:
        first = mint(api, caller, {"permissions": ["allow_join"]})
        second = mint(api, caller, {"permissions": ["allow_join"]})
    assert first.status_code == second.status_code == 201
    assert not [s for s in statements if "RETURNING" in s.upper()], statements
    assert issued_count(app) == 1
    with app.app_context():
        assert [line.outcome for line in trail_lines("token.minted")] == ["success", "success"]
        assert db.session.execute(select(AuditEvent.outcome)).scalars().all() == ["success"]


def test_an_address_longer_than_the_trail_keeps_is_cut_on_the_row_and_the_audit_line(
        app, api, caller):
    """A proxy's X-Forwarded-For is what the client sent: the trail keeps its first 64
    characters, on the mint's row as on an audit line (a refusal here), on both databases."""
    long_address = "2001:db8::" + "f" * 100
    minted = api.post("/api/v1/tokens", json={"permissions": ["allow_join"]},
                      headers=caller.headers, environ_base={"REMOTE_ADDR": long_address})
    refused = api.post("/api/v1/tokens", json={"permissions": ["nope"]},
                       headers=caller.headers, environ_base={"REMOTE_ADDR": long_address})
    assert (minted.status_code, refused.status_code) == (201, 422)
    with app.app_context():
        assert [line.address for line in trail_lines("token.minted")] == [
            long_address[:64], long_address[:64]]
