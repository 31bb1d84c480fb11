"""The steps of the README's "Running in production", each one run for real."""

from __future__ import annotations

import os
import sqlite3
import subprocess

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, func, make_url, select, text

from tests.conftest import base_config
from tests.servers import run_cli
from tests.support import create_schema, trail_lines
from webapp import create_app
from webapp.extensions import db
from webapp.models import AuditEvent, IssuedToken, VideoSDKKey
from webapp.services import api_clients, videosdk_keys

from .conftest import Deployment

SECRET = "r" * 64


def _app_on_sqlite(tmp_path, encryption_keys: str, **extra: object):  # type: ignore[no-untyped-def]
    app = create_app({**base_config(tmp_path, f"sqlite:///{tmp_path / 'ops.db'}"),
                      "ENCRYPTION_KEYS": encryption_keys, **extra})
    return app


def test_key_rotation_newest_first_then_re_encrypt_then_drop_the_old_key(tmp_path):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    first = _app_on_sqlite(tmp_path, old)
    with first.app_context():
        create_schema()
        videosdk_keys.add_key("main", "ops-apikey", SECRET)
        db.session.commit()
        stored_before = db.session.execute(select(VideoSDKKey.secret_encrypted)).scalar_one()
        db.engine.dispose()
    # Step 1: ENCRYPTION_KEYS="new,old" on every instance: old secrets still read.
    both = _app_on_sqlite(tmp_path, f"{new},{old}")
    with both.app_context():
        key = videosdk_keys.key_by_label("main")
        assert key is not None and videosdk_keys.decrypt_secret(key) == SECRET
        db.engine.dispose()
    # Step 2: `flask --app webapp keys rotate-encryption` re-encrypts under the newest.
    done = run_cli({"DATABASE_URL": f"sqlite:///{tmp_path / 'ops.db'}",
                    "ENCRYPTION_KEYS": f"{new},{old}", "SECRET_KEY": "ops-" + "k" * 40,
                    "TOKEN_CONSOLE_INSTANCE_PATH": str(tmp_path / "cli")},
                   "keys", "rotate-encryption")
    assert done.returncode == 0, done.stderr
    assert done.stdout == \
        "Re-encrypted 1 secret and 0 replaced secrets under the newest encryption key.\n"
    with both.app_context():
        assert db.session.execute(select(VideoSDKKey.secret_encrypted)).scalar_one() != (
            stored_before)
        db.engine.dispose()
    # Step 3: drop the old key: everything still decrypts under the new one alone.
    last = _app_on_sqlite(tmp_path, new)
    with last.app_context():
        key = videosdk_keys.key_by_label("main")
        assert key is not None and videosdk_keys.decrypt_secret(key) == SECRET
        db.engine.dispose()


@pytest.mark.parametrize("with_proxy", [True, False], ids=["ProxyFix", "no proxy settings"])
def test_proxy_settings_decide_what_the_app_believes(tmp_path, with_proxy):
    proxy = {"PROXY_FIX_X_FOR": "1", "PROXY_FIX_X_PROTO": "1", "PROXY_FIX_X_HOST": "1"}
    app = _app_on_sqlite(tmp_path, Fernet.generate_key().decode(),
                          TRUSTED_HOSTS="console.example", **(proxy if with_proxy else {}))
    with app.app_context():
        create_schema()
        videosdk_keys.add_key("main", "ops-apikey", SECRET)
        _, plaintext = api_clients.create_client("proxied", ["tokens:mint"])
        db.session.commit()
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
                 "X-Forwarded-Host": "console.example",
                 "Authorization": f"Bearer {plaintext}"}
    answer = app.test_client().post(
        "/api/v1/tokens", json={"permissions": ["allow_join"]}, headers=forwarded,
        base_url="http://console.example" if not with_proxy else "http://10.0.0.2:8000",
        environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert answer.status_code == 201
    assert ("Strict-Transport-Security" in answer.headers) is with_proxy
    with app.app_context():
        (line,) = trail_lines("token.minted")
        address = line.address
        db.engine.dispose()
    assert address == ("203.0.113.7" if with_proxy else "10.0.0.1")
    # The proxy's Host is the one checked against TRUSTED_HOSTS.
    refused = app.test_client().get("/healthz", headers={"X-Forwarded-Host": "evil.example"},
                                    base_url="http://console.example")
    assert refused.status_code == (400 if with_proxy else 200)


def test_sqlite_online_backup_while_the_app_writes(tmp_path):
    app = _app_on_sqlite(tmp_path, Fernet.generate_key().decode())
    with app.app_context():
        create_schema()
        videosdk_keys.add_key("main", "ops-apikey", SECRET)
        _, plaintext = api_clients.create_client("backed-up", ["tokens:mint"])
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {plaintext}"}
    for room in range(5):
        assert client.post("/api/v1/tokens", headers=headers, json={
            "permissions": ["allow_join"], "roomId": f"r{room}"}).status_code == 201
    source, backup = tmp_path / "ops.db", tmp_path / "backup.db"
    # The app keeps a pooled connection open in WAL mode: the online backup is consistent anyway.
    done = subprocess.run(["sqlite3", str(source), f".backup '{backup}'"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(backup) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM issued_tokens").fetchone() == (5,)
        # Each mint's audit line is its issued-token row (migration 0006), in the copy too.
        assert copy.execute("SELECT count(*) FROM issued_tokens WHERE via = 'api'"
                            ).fetchone() == (5,)
    with app.app_context():
        db.engine.dispose()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
def test_pg_dump_and_restore_of_the_shared_database(deployment: Deployment, tmp_path):
    with deployment.shared.app_context():
        videosdk_keys.add_key("dumped", "ops-dumped-apikey", SECRET)
        db.session.commit()
        counts = {model.__tablename__: db.session.execute(
            select(func.count()).select_from(model)).scalar_one()
            for model in (VideoSDKKey, IssuedToken, AuditEvent)}
    url = make_url(deployment.env["DATABASE_URL"])
    libpq = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U",
             url.username or "postgres"]
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    dump = tmp_path / "tc.dump"
    done = subprocess.run(["pg_dump", *libpq, "--format=custom", "--file", str(dump),
                           str(url.database)], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    restored = url.set(database="tc_scale_restore")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "tc_scale_restore"'))
        connection.execute(text('CREATE DATABASE "tc_scale_restore"'))
    admin.dispose()
    done = subprocess.run(["pg_restore", *libpq, "--no-owner", "--dbname", "tc_scale_restore",
                           str(dump)], env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    app = create_app({**base_config(tmp_path, restored.render_as_string(hide_password=False)),
                      "ENCRYPTION_KEYS": deployment.env["ENCRYPTION_KEYS"]})
    with app.app_context():
        assert {model.__tablename__: db.session.execute(
            select(func.count()).select_from(model)).scalar_one()
            for model in (VideoSDKKey, IssuedToken, AuditEvent)} == counts
        key = videosdk_keys.key_by_label("dumped")
        assert key is not None and videosdk_keys.decrypt_secret(key) == SECRET
        db.session.remove()
        db.engine.dispose()
