"""Liveness without the database, readiness with it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import base_config
from webapp import create_app
from webapp.extensions import db


def test_healthz_answers_without_the_database(tmp_path):
    app = create_app(base_config(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_ok_when_the_database_answers_at_this_codes_migration(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = response.get_json()["checks"]
    assert (checks["database"], checks["schema"]) == ("ok", "ok")


def test_readyz_is_503_when_the_database_is_down(tmp_path):
    app = create_app(base_config(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable",
                                   "checks": {"database": "unavailable", "lifecycle": "ok",
                                              **({"rate_limit_storage": "ok"}
                                                 if "ratelimit_probe" in app.extensions else {})}}


def _set_revision(app, revision):  # type: ignore[no-untyped-def]
    with app.app_context(), db.engine.begin() as connection:
        if revision is None:
            connection.execute(text("DROP TABLE alembic_version"))
        else:
            connection.execute(text("UPDATE alembic_version SET version_num = :revision"),
                               {"revision": revision})


@pytest.mark.parametrize(("revision", "status", "schema"), [
    # Not migrated at all, or a release behind: this code must not serve yet.
    (None, 503, "missing: run flask db upgrade"),
    ("0001", 503, "behind at 0001: run flask db upgrade"),
    # A revision this code does not know is the next release's: old instances keep serving
    # while a rolling release goes on.
    ("9999_from_a_newer_release", 200, "ok"),
])
def test_readyz_says_whether_the_schema_is_this_codes(app, client, revision, status, schema):
    _set_revision(app, revision)
    response = client.get("/readyz")
    assert response.status_code == status
    assert response.get_json()["checks"]["schema"] == schema
    assert response.get_json()["status"] == ("ok" if status == 200 else "unavailable")


def test_the_shared_state_is_mapped_only_from_the_masters_memory_file(tmp_path):
    import os

    from webapp.health.lifecycle import STATE_BYTES, STATE_FD, STATE_NAME, InstanceState

    shared = os.memfd_create(STATE_NAME)
    os.ftruncate(shared, STATE_BYTES)
    other = os.open(tmp_path / "a-file-of-16-bytes", os.O_RDWR | os.O_CREAT, 0o600)
    os.write(other, b"x" * STATE_BYTES)
    try:
        one, two = (InstanceState.attach({STATE_FD: str(shared)}) for _ in range(2))
        one.begin_draining()
        one.record_write_failure()
        assert two.draining and two.write_failed_at is not None  # one state, two mappings
        two.record_write_success()
        assert one.write_failed_at is None
        # A variable inherited by a process that has another file open under that number:
        # a private state, and the file is left alone.
        stray = InstanceState.attach({STATE_FD: str(other)})
        stray.begin_draining()
        assert (tmp_path / "a-file-of-16-bytes").read_bytes() == b"x" * STATE_BYTES
        assert not InstanceState.attach({STATE_FD: "999999"}).draining
    finally:
        os.close(shared)
        os.close(other)
