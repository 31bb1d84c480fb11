"""Per-client rate limits on the API, the per-address sign-in limit, and the Redis behind them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import base_config
from tests.support import create_schema, login, unavailable
from webapp import create_app
from webapp.extensions import db
from webapp.services.api_clients import create_client
from webapp.services.videosdk_keys import add_key

from .conftest import MAIN_APIKEY, MAIN_SECRET

ROOT = Path(__file__).resolve().parents[2]


def assert_rate_limited(response, limit: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "rate_limited" and body["status"] == 429
    assert body["detail"].startswith("Over this client's rate limit of ")
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) >= int(time.time())


def test_the_clients_own_limit_is_shared_by_every_endpoint(api, main_key, make_caller):
    slow = make_caller("slow", rate_limit="3/minute")
    seen = [
        api.post("/api/v1/tokens", json={"permissions": ["allow_join"]}, headers=slow.headers),
        api.post("/api/v1/tokens/inspect", json={"token": "a.b.c"}, headers=slow.headers),
        api.post("/api/v1/tokens/introspect", data={"token": "a.b.c"}, headers=slow.headers),
    ]
    assert [r.status_code for r in seen] == [201, 200, 200]
    assert [r.headers["X-RateLimit-Limit"] for r in seen] == ["3", "3", "3"]
    assert [r.headers["X-RateLimit-Remaining"] for r in seen] == ["2", "1", "0"]
    assert_rate_limited(api.get("/get-token", headers=slow.headers), 3)
    assert_rate_limited(api.post("/api/v1/tokens", json={"permissions": ["allow_join"]},
                                 headers=slow.headers), 3)


def test_one_clients_limit_leaves_the_others_alone(api, main_key, make_caller):
    slow = make_caller("slow", rate_limit="1/minute")
    other = make_caller("other", rate_limit="1/minute")
    assert api.get("/get-token", headers=slow.headers).status_code == 200
    assert api.get("/get-token", headers=slow.headers).status_code == 429
    assert api.get("/get-token", headers=other.headers).status_code == 200


def test_the_default_client_limit_is_600_a_minute(api, caller):
    response = api.get("/get-token", headers=caller.headers)
    assert response.headers["X-RateLimit-Limit"] == "600"
    assert response.headers["X-RateLimit-Remaining"] == "599"


def test_refused_keys_spend_no_clients_quota(api, main_key, make_caller):
    slow = make_caller("slow", rate_limit="1/minute")
    assert api.get("/get-token", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert api.get("/get-token", headers=slow.headers).status_code == 200


def test_the_openapi_document_is_not_limited(api):
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response.headers


@pytest.mark.app_config(LOGIN_RATE_LIMIT="2/minute")
def test_sign_in_has_a_per_address_limit_with_retry_after(client, make_user):
    person = make_user()
    statuses = [login(client, person.email, "wrong password!!").status_code for _ in range(2)]
    assert statuses == [401, 401]
    response = login(client, person.email, person.password)
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.headers["X-RateLimit-Limit"] == "2"
    # Another address is not affected by this one's attempts.
    other = client.application.test_client()
    elsewhere = other.post("/login", data={"email": person.email, "password": person.password},
                           environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert elsewhere.status_code == 302


def _app_with_storage(tmp_path, storage_uri: str, rate_limit: str):  # type: ignore[no-untyped-def]
    config = {**base_config(tmp_path, f"sqlite:///{tmp_path / 'limits.db'}"),
              "RATELIMIT_STORAGE_URI": storage_uri}
    app = create_app(config)
    with app.app_context():
        create_schema()
        add_key("main", MAIN_APIKEY, MAIN_SECRET)
        _, plaintext = create_client("app", ["tokens:mint"], rate_limit=rate_limit)
        db.session.commit()
    return app, config, {"Authorization": f"Bearer {plaintext}"}


def test_with_redis_down_limits_fall_back_to_memory_and_readyz_says_503(tmp_path):
    app, _, headers = _app_with_storage(tmp_path, "redis://127.0.0.1:1/0", "2/minute")
    client = app.test_client()
    assert [client.get("/get-token", headers=headers).status_code for _ in range(3)] == [
        200, 200, 429]
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json() == {"status": "unavailable",
                                "checks": {"database": "ok", "schema": "ok", "writes": "ok",
                                           "rate_limit_storage": "unavailable",
                                           "lifecycle": "ok"}}


def test_readyz_is_ok_with_memory_storage(client):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {"database": "ok", "schema": "ok", "writes": "ok",
                                          "rate_limit_storage": "ok", "lifecycle": "ok"}


_OTHER_INSTANCE = """
import json, sys
from webapp import create_app
config, headers = json.loads(sys.argv[1]), json.loads(sys.argv[2])
response = create_app(config).test_client().get("/get-token", headers=headers)
print(json.dumps([response.status_code, response.headers.get("X-RateLimit-Remaining")]))
"""


@pytest.mark.redis
def test_limits_are_shared_by_instances_through_redis(tmp_path):
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        unavailable("TEST_REDIS_URL is not set: shared rate-limit tests skip")
    app, config, headers = _app_with_storage(tmp_path, url, "3/minute")
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    assert client.get("/get-token", headers=headers).headers["X-RateLimit-Remaining"] == "2"
    # A second instance in its own process, as another gunicorn worker or machine would be.
    done = subprocess.run(
        [sys.executable, "-c", _OTHER_INSTANCE, json.dumps(config), json.dumps(headers)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [200, "1"]
    assert client.get("/get-token", headers=headers).headers["X-RateLimit-Remaining"] == "0"
    assert client.get("/get-token", headers=headers).status_code == 429


def test_the_in_memory_counter_sweeps_on_read_without_a_timer_thread(app, monkeypatch):
    # memory:// with fixed windows counts in webapp's own storage (limits' public Storage
    # API): no timer thread per count, and a window that has ended counts as empty.
    from webapp.extensions import limiter
    from webapp.web import rate_limit_storage

    assert isinstance(limiter.storage, rate_limit_storage.SweptMemoryStorage)
    now = [1_000_000.0]
    monkeypatch.setattr(rate_limit_storage, "time", SimpleNamespace(time=lambda: now[0]))
    storage = rate_limit_storage.SweptMemoryStorage()
    threads = threading.active_count()
    assert [storage.incr("client", 60) for _ in range(3)] == [1, 2, 3]
    assert threading.active_count() == threads
    now[0] += 59
    assert (storage.incr("client", 60), storage.get("client")) == (4, 4)
    now[0] += 1  # the window is over: the next count starts a new one
    assert storage.get("client") == 0
    assert storage.incr("client", 60) == 1
    assert storage.get_expiry("client") == now[0] + 60
    storage.SWEEP_AT = 2  # type: ignore[misc]
    storage.incr("other", 10)
    now[0] += 11  # "other" has ended; the next new window sweeps it out
    storage.incr("third", 10)
    assert set(storage.windows) == {"client", "third"}
