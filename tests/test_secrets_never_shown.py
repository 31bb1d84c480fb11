"""SPEC 3: nothing in any output shows a stored secret, the one-off secret or a value holding
one, whatever the paste holds: tokens whose claims and header hold the secrets go through the
API, the console page (with its copy report), the CLI (text and --json) and the audit trail."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import login
from tests.tokens.factory import raw_token
from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.services.api_clients import create_client
from webapp.services.videosdk_keys import add_key

STORED = "5f1c0ad3e6b7a9c2d4e8f0a1b3c5d7e9f2a4b6c8d0e1f3a5b7c9d1e3f5a7b9c1"
OTHER = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
ONE_OFF = "OneOffSecretGivenForThisCheckOnly0123456789"
APIKEY = "main-api-key"
SECRETS = (STORED, OTHER, ONE_OFF)

holding = st.sampled_from(SECRETS).flatmap(lambda secret: st.sampled_from([
    secret, f"Bearer {secret}", f"{secret}\n", [secret], {"nested": {"deeper": secret}},
    f"key={secret}&x=1",
]))
claim_names = st.sampled_from(["apikey", "roomId", "participantId", "note", "permissions",
                               "sub", "expiresIn", "roles"])
signers = st.sampled_from([STORED, OTHER, ONE_OFF, APIKEY, STORED + "\n", "unrelated-secret-x"])
wrappings = st.sampled_from(["{}", "Bearer {}", '{{"token": "{}"}}', "https://a.example/?t={}",
                             "b'{}'", "{}\u2026", "{} {}"])


@st.composite
def pastes(draw: st.DrawFn) -> str:
    claims: dict[str, object] = {"apikey": APIKEY, "permissions": ["allow_join"],
                                 "iat": 1_780_000_000, "exp": 1_780_003_600}
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        claims[draw(claim_names)] = draw(holding)
    header: dict[str, object] = {"alg": "HS256", "typ": "JWT"}
    if draw(st.booleans()):
        header["kid"] = draw(holding)
    token = raw_token(claims, header=header, secret=draw(signers))
    wrap = draw(wrappings)
    return wrap.replace("{}", token) if "{} {}" not in wrap else f"{token} {token}"


@pytest.fixture
def world(app, make_user):  # type: ignore[no-untyped-def]
    with app.app_context():
        add_key("main", APIKEY, STORED)
        add_key("other", "other-api-key", OTHER)
        _, api_key = create_client("app", ("tokens:inspect",))
        db.session.commit()
    person = make_user("support@example.com", "support")
    browser = app.test_client()
    assert login(browser, person.email, person.password).status_code == 302
    return {"api_key": api_key, "browser": browser}


def _assert_hidden(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a secret is shown in {where}"


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(paste=pastes(), room=st.sampled_from([None, "room-1", STORED, f"r-{ONE_OFF}"]))
def test_no_output_shows_a_secret(app, world, runner, tmp_path, caplog, paste: str,
                                  room: str | None) -> None:
    headers = {"Authorization": f"Bearer {world['api_key']}"}
    body: dict[str, object] = {"token": paste, "secret": ONE_OFF, "use": "join"}
    if room is not None:
        body["roomId"] = room
    with caplog.at_level(logging.DEBUG):
        answer = app.test_client().post("/api/v1/tokens/inspect", json=body, headers=headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        _assert_hidden(answer.get_data(as_text=True), "the API answer")
        assert answer.get_json()["summary"]

        page = world["browser"].post("/inspect", data={
            "token": paste, "secret": ONE_OFF, "room": room or ""})
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        # The page keeps what was typed in its form (the paste, the room); everything it shows
        # about them is checked (a token's parts are base64url: a secret in them is not written
        # out as such).
        for typed in (paste, room or ""):
            escaped = typed.replace("&", "&amp;").replace('"', "&#34;").replace("'", "&#39;")
            html = html.replace(f'value="{escaped}"', "").replace(escaped, "").replace(typed, "")
        _assert_hidden(html, "the inspector page")

        secret_file = tmp_path / "secret.txt"
        secret_file.write_text(ONE_OFF + "\n")
        for extra in ([], ["--json"]):
            result = runner.invoke(args=["token", "inspect", "-", "--secret-file",
                                         str(secret_file), *extra], input=paste)
            _assert_hidden(result.output, f"the CLI {extra or 'text'}")
    _assert_hidden(caplog.text, "the log")
    with app.app_context():
        events = db.session.execute(select(AuditEvent)).scalars().all()
        trail = json.dumps([(e.actor, e.target, e.details) for e in events])
    _assert_hidden(trail, "the audit trail")
    assert '"codes"' in trail
