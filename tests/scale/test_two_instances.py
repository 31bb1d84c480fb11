"""Two instances, one PostgreSQL and one Redis: whatever one learns, the other knows at once.

Each instance is a real gunicorn with two workers; the state they share is only the
database and the rate-limit storage (SPEC 7: every instance is stateless).
"""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from tests.conftest import csrf_token_from
from tests.support import trail_lines
from webapp.extensions import db
from webapp.models import ApiClient, IssuedToken, User, VideoSDKKey, utcnow
from webapp.services import api_clients
from webapp.tokens.signing import fingerprint, signature_matches

from .conftest import Deployment, sign_in

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

PASSWORD = "correct horse battery staple"
MINT = {"permissions": ["allow_join"], "roomId": "scale-room"}


def store_key(deployment: Deployment, label: str, apikey: str, secret: str) -> None:
    """`flask --app webapp keys add`, as an operator would while both instances serve."""
    out = deployment.cli("keys", "add", "--label", label, "--apikey", apikey, "--secret-stdin",
                         stdin=secret + "\n")
    assert f"Stored key {label!r}" in out and secret not in out


def make_client(deployment: Deployment, name: str, *, keys: tuple[str, ...],
                scopes: tuple[str, ...] = ("tokens:mint", "tokens:inspect"),
                rate_limit: str = "600/minute") -> dict[str, str]:
    """`flask --app webapp clients create`; the headers that authenticate as the new client."""
    args = [arg for scope in scopes for arg in ("--scope", scope)]
    args += [arg for label in keys for arg in ("--key", label)]
    plaintext = deployment.cli("clients", "create", name, *args, "--rate-limit", rate_limit)
    return {"Authorization": f"Bearer {plaintext.strip()}"}


@pytest.fixture(scope="module")
def admin(deployment: Deployment) -> str:
    email = "scale-admin@example.com"
    deployment.cli("users", "create", email, "--role", "admin", "--password-stdin",
                   stdin=PASSWORD + "\n")
    return email


def mint(url: str, headers: dict[str, str], body: dict[str, object] | None = None
         ) -> requests.Response:
    return requests.post(url + "/api/v1/tokens", json=body or MINT, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def main_key(deployment: Deployment) -> str:
    store_key(deployment, "main", "scale-main-apikey", "m" * 64)
    return "main"


def test_a_rate_limit_counted_on_one_instance_holds_on_the_other(deployment, main_key):
    headers = make_client(deployment, "five-a-minute", keys=(main_key,), rate_limit="5/minute")
    on_a = [mint(deployment.a.url, headers) for _ in range(5)]
    assert [r.status_code for r in on_a] == [201] * 5
    assert [r.headers["X-RateLimit-Remaining"] for r in on_a] == ["4", "3", "2", "1", "0"]
    on_b = mint(deployment.b.url, headers)
    assert on_b.status_code == 429
    assert on_b.headers["Content-Type"] == "application/problem+json"
    assert on_b.json()["code"] == "rate_limited"
    assert on_b.headers["X-RateLimit-Limit"] == "5"
    assert on_b.headers["X-RateLimit-Remaining"] == "0"
    assert 0 < int(on_b.headers["Retry-After"]) <= 60


def test_a_token_minted_on_one_instance_is_known_to_the_other(deployment, main_key, admin):
    headers = make_client(deployment, "history", keys=(main_key,))
    minted = mint(deployment.a.url, headers, {**MINT, "roomId": "history-room",
                                              "participantId": "p-history"})
    assert minted.status_code == 201
    token = minted.json()["token"]

    # The console's history on B lists it: an admin sees every token issued here.
    browser, signed_in = sign_in(deployment.b, admin, PASSWORD)
    assert signed_in.status_code == 302
    page = browser.get(deployment.b.url + "/tokens", params={"room": "history-room"},
                       timeout=10)
    assert page.status_code == 200
    assert fingerprint(token)[:12] in page.text
    assert "client history" in page.text
    assert token not in page.text

    inspected = requests.post(deployment.b.url + "/api/v1/tokens/inspect",
                              json={"token": token}, headers=headers, timeout=30)
    assert inspected.status_code == 200
    answer = inspected.json()
    assert answer["verdict"] == "valid"
    assert answer["signature"] == {"status": "verified", "keyLabel": "main"}
    assert "issued_here" in [reason["code"] for reason in answer["reasons"]]

    introspected = requests.post(deployment.b.url + "/api/v1/tokens/introspect",
                                 data={"token": token}, headers=headers, timeout=30)
    assert introspected.json()["active"] is True
    assert introspected.json()["client_id"] == "history"

    with deployment.shared.app_context():
        row = db.session.execute(select(IssuedToken).where(
            IssuedToken.fingerprint == fingerprint(token))).scalar_one()
        assert (row.issuer, row.key_label, row.participant_id) == (
            "client history", "main", "p-history")
        audited = [line for line in trail_lines("token.minted")
                   if line.actor == "client history"]
        assert [event.details["fingerprint"] for event in audited] == [fingerprint(token)]


def test_a_person_disabled_on_one_instance_is_refused_on_the_other(deployment, admin):
    email = "leaver@example.com"
    deployment.cli("users", "create", email, "--role", "developer", "--password-stdin",
                   stdin=PASSWORD + "\n")
    browser, signed_in = sign_in(deployment.b, email, PASSWORD)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == "/"
    assert browser.get(deployment.b.url + "/", timeout=10, allow_redirects=False
                       ).status_code == 200

    # An admin on A disables them with the admin page's own form (CSRF on, as in production).
    with deployment.shared.app_context():
        person_id = db.session.execute(select(User.id).where(User.email == email)).scalar_one()
    console, _ = sign_in(deployment.a, admin, PASSWORD)
    person_page = console.get(f"{deployment.a.url}/admin/users/{person_id}", timeout=10)
    assert person_page.status_code == 200
    disabled = console.post(f"{deployment.a.url}/admin/users/{person_id}/disable", timeout=10,
                            data={"csrf_token": csrf_token_from(person_page.text)},
                            allow_redirects=False)
    assert disabled.status_code == 302

    page = browser.get(deployment.b.url + "/", timeout=10, allow_redirects=False)
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/login")
    _, again = sign_in(deployment.b, email, PASSWORD)
    assert again.status_code == 401
    assert "Wrong email or password." in again.text


def test_a_key_stored_while_both_run_signs_on_each_and_its_disabling_holds(deployment):
    secret = "n" * 64
    store_key(deployment, "late", "scale-late-apikey", secret)
    headers = make_client(deployment, "late-comer", keys=("late",))
    for server in (deployment.b, deployment.a):
        minted = mint(server.url, headers, {**MINT, "apikey": "scale-late-apikey"})
        assert minted.status_code == 201, minted.text
        assert minted.json()["apikey"] == "scale-late-apikey"
        assert signature_matches(minted.json()["token"], secret)

    with deployment.shared.app_context():
        key = db.session.execute(select(VideoSDKKey).where(VideoSDKKey.label == "late")
                                 ).scalar_one()
        key.disabled = True
        db.session.commit()
    refused = mint(deployment.b.url, headers, {**MINT, "apikey": "scale-late-apikey"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"


def test_a_client_revoked_through_the_database_is_refused_on_both(deployment, main_key):
    headers = make_client(deployment, "short-lived", keys=(main_key,))
    assert mint(deployment.a.url, headers).status_code == 201
    with deployment.shared.app_context():
        client = db.session.execute(select(ApiClient).where(ApiClient.name == "short-lived")
                                    ).scalar_one()
        api_clients.revoke(client)
        db.session.commit()
        assert client.revoked_at is not None and client.revoked_at <= utcnow()
    for server in (deployment.a, deployment.b):
        refused = mint(server.url, headers)
        assert refused.status_code == 401
        assert refused.json()["code"] == "unauthorized"


def test_no_instance_logged_a_secret(deployment):
    logs = deployment.a.logs() + deployment.b.logs()
    assert "Traceback" not in logs
    assert "Bearer" not in logs
    assert "m" * 64 not in logs and "n" * 64 not in logs
