"""No token, secret, client key, password or Authorization header reaches a log or the audit trail.

Every flow runs against real gunicorn workers (CSRF on, debug logging) while
their access and error logs are captured; then the logs and every audit row
are searched for each secret that went through.
"""

from __future__ import annotations

import json
import re
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener

import pytest

from tests.servers import Gunicorn, app_for, run_cli, sqlite_env
from tests.support import trail_lines
from tests.videosdk_standin import Served, StandIn
from webapp.extensions import db
from webapp.models import utcnow
from webapp.tokens import MintRequest, mint

pytestmark = pytest.mark.slow

KEY_SECRET = "9f" * 32
NEW_KEY_SECRET = "7e" * 32
REPLACING_KEY_SECRET = "5d" * 32
ONE_OFF_SECRET = "one-off-" + "c" * 40
PERSON_PASSWORD = "developer's very own passphrase"
RESET_PASSWORD = "a reset passphrase for support"
CHANGED_PASSWORD = "the admin's changed passphrase"


class Browser:
    """A cookie-keeping HTTP client that fills CSRF tokens like a browser would."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()))

    def request(self, method: str, path: str, data: dict | None = None,
                headers: dict | None = None, body: bytes | None = None) -> tuple[int, str]:
        if data is not None:
            body = urlencode(data, doseq=True).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        request = Request(self.base + path, data=body, method=method, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return int(response.status), response.read().decode()
        except HTTPError as error:
            return int(error.code), error.read().decode()

    def csrf(self, path: str) -> str:
        status, html = self.request("GET", path)
        assert status == 200, (path, status)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
            r'value="([^"]+)"[^>]*name="csrf_token"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def submit(self, form_path: str, data: dict, action: str | None = None) -> tuple[int, str]:
        token = self.csrf(form_path)
        return self.request("POST", action or form_path, {**data, "csrf_token": token})


def api(base: str, method: str, path: str, key: str, payload: object | None = None,
        form: dict | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {key}"}
    body = None
    if payload is not None:
        body = json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
    if form is not None:
        body = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = Request(base + path, data=body, method=method, headers=headers)
    try:
        with build_opener().open(request, timeout=30) as response:
            return int(response.status), json.loads(response.read() or b"{}")
    except HTTPError as error:
        return int(error.code), json.loads(error.read() or b"{}")


def test_every_flow_keeps_secrets_out_of_logs_and_audit(tmp_path):
    # The relays to VideoSDK's REST API talk to a stand-in on loopback (tests/videosdk_standin).
    videosdk = Served(StandIn(secrets={"leak-test-apikey": KEY_SECRET}))
    videosdk.__enter__()
    env = sqlite_env(tmp_path, "leaks", LOG_LEVEL="DEBUG", VIDEOSDK_API_KEY="leak-test-apikey",
                     VIDEOSDK_SECRET_KEY=KEY_SECRET, VIDEOSDK_API_ENDPOINT=videosdk.url)
    setup = run_cli(env, "setup")
    assert setup.returncode == 0, setup.stderr
    admin_password = re.search(r"^Password: (\S+)$", setup.stdout, re.MULTILINE).group(1)
    secrets: dict[str, str] = {
        "admin password": admin_password,
        "VideoSDK secret": KEY_SECRET,
        "new VideoSDK secret": NEW_KEY_SECRET,
        "replacing VideoSDK secret": REPLACING_KEY_SECRET,
        "one-off secret": ONE_OFF_SECRET,
        "person password": PERSON_PASSWORD,
        "reset password": RESET_PASSWORD,
        "changed password": CHANGED_PASSWORD,
    }

    with Gunicorn(env, tmp_path, workers=2) as server:
        admin = Browser(server.url)
        # Sign-in: a failure first, then the real one.
        assert admin.submit("/login", {"email": "admin@example.com",
                                       "password": PERSON_PASSWORD})[0] == 401
        assert admin.submit("/login", {"email": "admin@example.com",
                                       "password": admin_password})[0] == 200

        # Admin changes: a key, two people, a password reset, a client, a revocation.
        status, _ = admin.submit("/admin/keys/new", {
            "label": "second", "apikey": "second-apikey", "secret": NEW_KEY_SECRET,
            "max_lifetime": "24h", "permissions": ["allow_join", "ask_join", "allow_mod"],
            "roles": ["crawler", "rtc"]})
        assert status == 200
        # VideoSDK gave "second" a new secret: the old one is kept for the inspector, unseen.
        second_id = re.findall(r"/admin/keys/(\d+)\"", admin.request("GET", "/admin/keys")[1])[-1]
        status, page = admin.submit(f"/admin/keys/{second_id}", {
            "max_lifetime": "24h", "permissions": ["allow_join"], "roles": ["rtc"],
            "new_secret": REPLACING_KEY_SECRET})
        assert status == 200 and NEW_KEY_SECRET not in page
        status, page = admin.request("GET", f"/admin/keys/{second_id}")
        assert 'id="replaced-secrets"' in page and NEW_KEY_SECRET not in page
        status, _ = admin.submit("/admin/users/new", {
            "email": "dev@example.com", "role": "developer", "password": PERSON_PASSWORD})
        assert status == 200
        status, _ = admin.submit("/admin/users/new", {
            "email": "help@example.com", "role": "support", "password": PERSON_PASSWORD})
        assert status == 200
        status, users_page = admin.request("GET", "/admin/users")
        support_id = re.search(r'/admin/users/(\d+)"[^>]*>\s*help@example.com', users_page)
        support_id = support_id.group(1) if support_id else re.findall(
            r"/admin/users/(\d+)", users_page)[-1]
        status, _ = admin.submit(f"/admin/users/{support_id}",
                                 {"password": RESET_PASSWORD},
                                 action=f"/admin/users/{support_id}/password")
        assert status == 200
        status, page = admin.submit("/admin/clients/new", {
            "name": "mobile", "scopes": ["tokens:mint", "tokens:inspect"], "keys": [],
            "rate_limit": "600/minute"})
        assert status == 200
        client_key = re.search(r"tck_[0-9A-Za-z]{38}", page).group(0)
        secrets["client key"] = client_key
        status, page = admin.submit("/admin/clients/new", {
            "name": "old", "scopes": ["tokens:mint"], "rate_limit": "600/minute"})
        old_key = re.search(r"tck_[0-9A-Za-z]{38}", page).group(0)
        secrets["revoked client key"] = old_key
        clients_page = admin.request("GET", "/admin/clients")[1]
        old_id = re.findall(r"/admin/clients/(\d+)/revoke", clients_page)[-1]
        assert admin.submit("/admin/clients", {}, action=f"/admin/clients/{old_id}/revoke"
                            )[0] == 200

        # A developer generates a token and inspects it with a one-off secret.
        developer = Browser(server.url)
        assert developer.submit("/login", {"email": "dev@example.com",
                                           "password": PERSON_PASSWORD})[0] == 200
        status, page = developer.submit("/", {
            "key": "default", "join_mode": "allow_join", "room": "leak-room",
            "lifetime": "1h"})
        assert status == 200
        console_token = re.search(r'name="token"[^>]*>([^<]+)</textarea>', page).group(1).strip()
        secrets["console token"] = console_token
        status, page = developer.submit("/inspect", {
            "token": f"Bearer {console_token}", "room": "leak-room",
            "secret": ONE_OFF_SECRET})
        assert status == 200 and "invalid" in page.lower()
        assert ONE_OFF_SECRET not in page
        status, _ = developer.submit("/account/password", {
            "current_password": PERSON_PASSWORD, "new_password": CHANGED_PASSWORD,
            "confirm": CHANGED_PASSWORD})
        assert status == 200
        developer.submit("/", {}, action="/logout")

        # The API: mint, inspect, introspect, the drop-in, and failures.
        status, minted = api(server.url, "POST", "/api/v1/tokens", client_key,
                             {"apikey": "leak-test-apikey", "permissions": ["allow_join"],
                              "roomId": "api-room"})
        assert status == 201
        secrets["API token"] = minted["token"]
        status, _ = api(server.url, "POST", "/api/v1/tokens/inspect", client_key,
                        {"token": minted["token"], "secret": ONE_OFF_SECRET})
        assert status == 200
        # A backend still signing with the replaced secret.
        stale = mint(MintRequest(permissions=("allow_join",), expires_in="1h"),
                     apikey="second-apikey", secret=NEW_KEY_SECRET, now=utcnow()).token
        secrets["token of the replaced secret"] = stale
        status, diagnosis = api(server.url, "POST", "/api/v1/tokens/inspect", client_key,
                                {"token": stale})
        assert (status, diagnosis["verdict"]) == (200, "invalid")
        assert NEW_KEY_SECRET not in json.dumps(diagnosis)
        status, answer = api(server.url, "POST", "/api/v1/tokens/introspect", client_key,
                             form={"token": minted["token"]})
        assert (status, answer["active"]) == (200, True)
        status, dropped = api(server.url, "GET", "/get-token?roomId=dropin-room&peerId=p1",
                              client_key)
        assert status in (200, 422)
        if status == 200:
            secrets["drop-in token"] = dropped["token"]
        # The relays to VideoSDK: a minted token, a given one, one refused before sending.
        created = run_cli(env, "clients", "create", "relay", "--scope", "tokens:mint",
                          "--key", "default")
        assert created.returncode == 0, created.stderr
        relay_key = created.stdout.strip()
        secrets["relay client key"] = relay_key
        status, room = api(server.url, "POST", "/create-meeting/", relay_key,
                           {"region": "sg001"})
        assert (status, room["roomId"]) == (200, "abcd-efgh-ijkl")
        status, _ = api(server.url, "POST", "/create-meeting", relay_key,
                        form={"token": minted["token"]})
        assert status == 200
        # Bound to api-room: VideoSDK would answer 4022 for another room, so it is not sent.
        assert api(server.url, "POST", "/validate-meeting/abcd-efgh-ijkl", relay_key,
                   {"token": minted["token"]})[0] == 422
        status, dropped = api(server.url, "GET", "/get-token?roomId=abcd-efgh-ijkl", relay_key)
        assert status == 200
        secrets["relay drop-in token"] = dropped["token"]
        assert api(server.url, "POST", "/create-meeting", relay_key,
                   {"token": dropped["token"]})[0] == 422  # rtc only: diagnosed, not sent
        sent = [seen.headers["Authorization"] for seen in videosdk.standin.seen]
        assert sent[1] == minted["token"] and len(sent) == 2
        secrets["relay minted token"] = sent[0]
        assert api(server.url, "POST", "/api/v1/tokens", old_key,
                   {"permissions": ["allow_join"]})[0] == 401
        assert api(server.url, "POST", "/api/v1/tokens", "tck_" + "x" * 38,
                   {"permissions": ["allow_join"]})[0] == 401
        assert api(server.url, "POST", "/api/v1/tokens/inspect", client_key,
                   {"token": minted["token"], "secret": ONE_OFF_SECRET,
                    "unknown": True})[0] == 422
        # A token put where it never belongs, in a query string, must not be logged either.
        api(server.url, "GET", f"/api/v1/nowhere?token={minted['token']}", client_key)
        logs = server.logs()
    videosdk.__exit__(None, None, None)

    assert "POST /login" in logs  # the access log was really captured
    app = app_for(env)
    with app.app_context():
        # The whole trail, as the audit page reads it: audit_events and, for each mint, the
        # issued-token row that holds its line (migration 0006).
        rows = trail_lines()
        audit_text = json.dumps([[r.actor, r.action, r.target, r.outcome, r.address, r.details]
                                 for r in rows])
        db.engine.dispose()
    actions = {row[1] for row in json.loads(audit_text)}
    assert {"auth.login", "token.minted", "token.inspected", "videosdk.called",
            "key.secret_replaced"} <= actions
    assert len(rows) >= 15

    where = {"gunicorn logs": logs, "audit trail": audit_text}
    leaks = [f"{name} in {place}" for name, value in secrets.items()
             for place, text in where.items() if value in text]
    for place, text in where.items():
        if re.search(r"authorization", text, re.IGNORECASE):
            leaks.append(f"an Authorization header in {place}")
        if "Bearer " in text:
            leaks.append(f"a bearer credential in {place}")
        if re.search(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ", text):
            leaks.append(f"something shaped like a JWT in {place}")
    assert leaks == []
    assert Path(server.error_log).exists()
