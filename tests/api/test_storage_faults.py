"""Storage that cannot be reached, is locked or cannot be written: 503, never 500 (SPEC 5, 7).

In process, each fault for real: a second SQLite connection holding the write lock, a
database opened read-only, a PostgreSQL URL to a closed port, and the PostgreSQL server
ending the app's connection while a request uses it. tests/scale/test_faults.py repeats the
main cases against gunicorn, with a full disk.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from flask import Flask
from sqlalchemy import create_engine, event, func, select, text

from tests.api.conftest import Caller
from tests.conftest import base_config
from tests.servers import free_port
from tests.support import login, trail_lines
from webapp import create_app
from webapp.extensions import db
from webapp.models import IssuedToken
from webapp.services.api_clients import generate_client_key
from webapp.web.errors import FaultLog, StorageFault, storage_fault

MINT = {"permissions": ["allow_join"], "roomId": "fault-room-value"}


def assert_unavailable_problem(response, retry_after: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "service_unavailable" and body["status"] == 503
    assert body["title"] == "Service unavailable"
    assert "Nothing was done" in body["detail"]
    assert response.headers["Retry-After"] == retry_after


def recorded(app: Flask) -> tuple[int, int]:
    """(issued-token rows, token.minted lines of the audit trail) now in the database."""
    with app.app_context():
        tokens = db.session.execute(select(func.count()).select_from(IssuedToken)).scalar_one()
        minted = len(trail_lines("token.minted"))
        db.session.remove()
        return tokens, minted


def fault_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records
            if record.getMessage().startswith("storage fault:")]


@contextmanager
def write_lock_held(app: Flask) -> Iterator[None]:
    """Another connection holds SQLite's write lock (BEGIN IMMEDIATE) inside the block."""
    path = str(app.config["DATABASE_URL"]).removeprefix("sqlite:///")
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.app_config(SQLITE_BUSY_TIMEOUT_MS=300)
def test_a_write_lock_held_past_the_busy_timeout_is_503_on_every_path(
        app, api, caller: Caller, developer_client, caplog):
    if app.config["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("SQLite's write lock")
    before = recorded(app)
    caplog.set_level(logging.INFO)
    with write_lock_held(app):
        assert_unavailable_problem(api.post("/api/v1/tokens", json=MINT, headers=caller.headers),
                                   "1")
        assert_unavailable_problem(api.get("/get-token", headers=caller.headers), "1")
        page = developer_client.post("/", data={"key": "main", "join_mode": "allow_join",
                                                "lifetime": "1h"})
        assert page.status_code == 503
        assert page.mimetype == "text/html"
        assert page.headers["Retry-After"] == "1"
        assert "Try again in a moment" in page.get_data(as_text=True)
    # Nothing was recorded as done: no token row, no audit line.
    assert recorded(app) == before
    # One line for three failures, naming the kind and the first route, never a value.
    assert fault_lines(caplog) == [
        "storage fault: database locked past the busy timeout on POST /api/v1/tokens; "
        "answered 503"]
    assert all(record.levelno == logging.ERROR for record in caplog.records
               if record.getMessage().startswith("storage fault:"))
    assert "fault-room-value" not in caplog.text and caller.key not in caplog.text
    # The lock gone, the same request succeeds.
    assert api.post("/api/v1/tokens", json=MINT, headers=caller.headers).status_code == 201


def test_a_read_only_database_is_503_and_turns_readiness_503(app, caller: Caller, tmp_path,
                                                             caplog):
    if app.config["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("a SQLite file opened read-only")
    path = str(app.config["DATABASE_URL"]).removeprefix("sqlite:///")
    read_only = create_app({**base_config(tmp_path / "ro", f"sqlite:///file:{path}?mode=ro&uri=true"),
                            "ENCRYPTION_KEYS": app.config["ENCRYPTION_KEYS"]})
    client = read_only.test_client()
    assert client.get("/readyz").status_code == 200
    assert_unavailable_problem(client.post("/api/v1/tokens", json=MINT, headers=caller.headers),
                               "5")
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["writes"].startswith("failing: a write failed")
    assert ready.get_json()["checks"]["database"] == "ok"
    assert fault_lines(caplog) == [
        "storage fault: database cannot be written (disk full, read-only or I/O error) on "
        "POST /api/v1/tokens; answered 503"]
    with read_only.app_context():
        db.engine.dispose()


def test_an_unreachable_database_is_503_on_the_api_the_drop_in_and_the_console(tmp_path,
                                                                              caplog):
    url = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"
    app = create_app({**base_config(tmp_path, url),
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}})
    client = app.test_client()
    # A well-formed key, which only the database can say is unknown.
    headers = {"Authorization": f"Bearer {generate_client_key()}"}
    assert_unavailable_problem(client.post("/api/v1/tokens", json=MINT, headers=headers), "5")
    assert_unavailable_problem(client.get("/get-token?roomId=r", headers=headers), "5")
    assert_unavailable_problem(client.post("/create-meeting", json={}, headers=headers), "5")
    assert_unavailable_problem(client.post("/validate-meeting/abc-def", json={},
                                           headers=headers), "5")
    assert_unavailable_problem(client.post("/api/v1/tokens/inspect", json={"token": "x.y.z"},
                                           headers=headers), "5")
    page = login(client, "someone@example.com", "a password that is long")
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert page.headers["Retry-After"] == "5"
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200
    lines = fault_lines(caplog)
    assert lines[0] == ("storage fault: database unreachable on POST /api/v1/tokens; "
                        "answered 503")
    assert len(lines) == 1  # the drop-in, inspect and sign-in failed within the same seconds
    assert "someone@example.com" not in caplog.text and "tck_" not in caplog.text


@pytest.fixture
def postgres_app(app: Flask) -> Flask:
    if not app.config["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("PostgreSQL ends a connection from its own side")
    return app


def test_a_connection_killed_mid_request_is_503_and_records_nothing(postgres_app, api,
                                                                    caller: Caller, caplog):
    app = postgres_app
    before = recorded(app)
    with app.app_context():
        engine = db.engine
    killer = create_engine(app.config["DATABASE_URL"], isolation_level="AUTOCOMMIT")

    def kill_on_checkout(dbapi_connection, connection_record, proxy):  # type: ignore[no-untyped-def]
        # After the pre-ping: the request holds a connection the server is about to end.
        with killer.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"),
                          {"pid": dbapi_connection.info.backend_pid})

    event.listen(engine, "checkout", kill_on_checkout)
    try:
        answer = api.post("/api/v1/tokens", json=MINT, headers=caller.headers)
    finally:
        event.remove(engine, "checkout", kill_on_checkout)
        killer.dispose()
    assert_unavailable_problem(answer, "5")
    assert recorded(app) == before
    assert fault_lines(caplog) == [
        "storage fault: database connection lost mid-request on POST /api/v1/tokens; "
        "answered 503"]
    # The pool replaces the dead connection: the next request is served.
    assert api.post("/api/v1/tokens", json=MINT, headers=caller.headers).status_code == 201


def test_an_error_that_is_not_a_storage_fault_stays_a_500(app, caplog):
    app.add_url_rule("/boom", "boom", lambda: db.session.execute(text("SELECT * FROM nowhere")))
    answer = app.test_client().get("/boom")
    assert answer.status_code == 500
    assert not fault_lines(caplog)
    assert any(record.getMessage().startswith("unhandled ") for record in caplog.records)


def test_the_fault_log_says_each_kind_once_per_interval_with_the_count_between(monkeypatch,
                                                                              caplog):
    clock = [1000.0]
    monkeypatch.setattr("webapp.web.errors.time.monotonic", lambda: clock[0])
    faults = FaultLog(interval=5.0)
    for _ in range(3):
        faults.report(StorageFault.LOCKED, "POST /api/v1/tokens")
    faults.report(StorageFault.UNREACHABLE, "GET /tokens")
    clock[0] += 4.9
    faults.report(StorageFault.LOCKED, "POST /api/v1/tokens")
    clock[0] += 0.2
    faults.report(StorageFault.LOCKED, "GET /get-token")
    assert fault_lines(caplog) == [
        "storage fault: database locked past the busy timeout on POST /api/v1/tokens; "
        "answered 503",
        "storage fault: database unreachable on GET /tokens; answered 503",
        "storage fault: database locked past the busy timeout on GET /get-token; "
        "answered 503 (3 more since the last report)",
    ]


def test_readiness_retries_one_write_per_interval_while_writes_fail(app, monkeypatch):
    clock = [50.0]
    monkeypatch.setattr("webapp.health.lifecycle.time.monotonic", lambda: clock[0])
    client = app.test_client()
    with app.app_context():
        state = app.extensions["instance_state"]
    writes: list[str] = []
    with app.app_context():
        engine = db.engine

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE"):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert client.get("/readyz").status_code == 200
        assert writes == []  # no write while writes work
        state.record_write_failure()
        # The write succeeds (nothing is wrong here): ready again after one probe write.
        assert client.get("/readyz").status_code == 200
        assert len(writes) == 1
        state.record_write_failure()
        assert client.get("/readyz").status_code == 503  # too soon for another probe write
        assert len(writes) == 1
        clock[0] += 2.5
        assert client.get("/readyz").status_code == 200
        assert len(writes) == 2
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_readiness_is_503_while_the_instance_drains(app):
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    app.extensions["instance_state"].begin_draining()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["checks"]["lifecycle"].startswith("draining: SIGTERM received")
    # Still serving meanwhile.
    assert client.get("/healthz").status_code == 200


def pg_options(options: str) -> dict[str, object]:
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": options}}}


def test_a_read_only_postgresql_is_503_and_turns_readiness_503(postgres_app, caller: Caller,
                                                               tmp_path, caplog):
    # A hot standby, or a database switched to read-only: every write refused (25006).
    read_only = create_app({**base_config(tmp_path / "ro", postgres_app.config["DATABASE_URL"]),
                            "ENCRYPTION_KEYS": postgres_app.config["ENCRYPTION_KEYS"],
                            **pg_options("-c default_transaction_read_only=on")})
    client = read_only.test_client()
    before = recorded(postgres_app)
    assert_unavailable_problem(client.post("/api/v1/tokens", json=MINT, headers=caller.headers),
                               "5")
    assert recorded(postgres_app) == before
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["writes"].startswith("failing")
    assert fault_lines(caplog) == [
        "storage fault: database cannot be written (disk full, read-only or I/O error) on "
        "POST /api/v1/tokens; answered 503"]
    with read_only.app_context():
        db.engine.dispose()


def test_a_postgresql_lock_held_past_the_lock_timeout_is_503(postgres_app, caller: Caller,
                                                             tmp_path, caplog):
    impatient = create_app({**base_config(tmp_path / "lt", postgres_app.config["DATABASE_URL"]),
                            "ENCRYPTION_KEYS": postgres_app.config["ENCRYPTION_KEYS"],
                            **pg_options("-c lock_timeout=300")})
    holder = create_engine(postgres_app.config["DATABASE_URL"])
    try:
        with holder.begin() as connection:
            connection.execute(text("LOCK TABLE issued_tokens IN ACCESS EXCLUSIVE MODE"))
            answer = impatient.test_client().post("/api/v1/tokens", json=MINT,
                                                  headers=caller.headers)
    finally:
        holder.dispose()
    assert_unavailable_problem(answer, "1")
    assert fault_lines(caplog) == [
        "storage fault: database locked past the busy timeout on POST /api/v1/tokens; "
        "answered 503"]
    with impatient.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(("error", "kind"), [
    (psycopg.errors.DiskFull("no space"), StorageFault.UNWRITABLE),
    (psycopg.errors.ReadOnlySqlTransaction("read-only"), StorageFault.UNWRITABLE),
    (psycopg.errors.LockNotAvailable("lock"), StorageFault.LOCKED),
    (psycopg.errors.QueryCanceled("statement timeout"), StorageFault.LOCKED),
    (psycopg.errors.DeadlockDetected("deadlock"), StorageFault.LOCKED),
    (psycopg.errors.AdminShutdown("terminating"), StorageFault.CONNECTION_LOST),
    (psycopg.errors.CannotConnectNow("starting up"), StorageFault.CONNECTION_LOST),
    (psycopg.errors.TooManyConnections("too many"), StorageFault.UNREACHABLE),
    (psycopg.errors.SqlclientUnableToEstablishSqlconnection("refused"),
     StorageFault.UNREACHABLE),
    (psycopg.OperationalError("connection failed: refused"), StorageFault.UNREACHABLE),
    (psycopg.OperationalError("the connection is lost"), StorageFault.CONNECTION_LOST),
    (psycopg.errors.UndefinedTable("no such table"), None),
    (psycopg.errors.UniqueViolation("duplicate"), None),
    (ValueError("not storage at all"), None),
])
def test_driver_errors_are_classified_by_their_sqlstate(error, kind):
    assert storage_fault(error) is kind
