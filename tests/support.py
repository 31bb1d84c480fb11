"""Helpers shared by the test modules."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import Connection, event, text

from webapp.extensions import db
from webapp.services import audit_trail
from webapp.services.audit_trail import TrailLine

STRICT = os.environ.get("TOKEN_CONSOLE_STRICT_TESTS") == "1"


def unavailable(reason: str) -> None:
    """Skip with ``reason``; under TOKEN_CONSOLE_STRICT_TESTS=1 (CI) fail instead."""
    if STRICT:
        pytest.fail(f"{reason} (mandatory here: TOKEN_CONSOLE_STRICT_TESTS=1)", pytrace=False)
    pytest.skip(reason)


def login(client, email: str, password: str, **extra: str):  # type: ignore[no-untyped-def]
    """Sign in through the real form; the response of the POST."""
    return client.post("/login", data={"email": email, "password": password, **extra})


@contextmanager
def statements_run(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs inside the block, in order."""
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def create_schema() -> None:
    """The models' tables, stamped at the newest migration as `flask db upgrade` leaves them
    (so /readyz finds the schema current), without running every migration for each test."""
    from webapp.services.schema import known_revisions

    db.create_all()
    head, _ = known_revisions()
    with db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL "
                                "PRIMARY KEY)"))
        connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"),
                           {"head": head})


def trail_lines(action: str | None = None, *, outcome: str | None = None,
                connection: Connection | None = None) -> list[TrailLine]:
    """The audit trail's lines, oldest first, as the audit page reads them (inside an app
    context): a successful mint's line is its issued-token row since migration 0006, every
    other line a row of audit_events. On ``connection`` when given (what it sees committed)."""
    query = audit_trail.trail_query(audit_trail.AuditFilter(action=action, outcome=outcome))
    rows = (connection or db.session).execute(query)
    return [audit_trail.TrailLine.from_row(row) for row in reversed(rows.all())]
