"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from tests.conftest import base_config
from webapp import create_app
from webapp.extensions import db


def test_db_upgrade_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = create_app(base_config(tmp_path, url))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = create_engine(url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert differences == []
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert "alembic_version" in inspect(engine).get_table_names()


def test_upgrading_from_0001_keeps_the_trail_and_drops_only_the_actor_index(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    runner = create_app(base_config(tmp_path, url)).test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0001"]).exit_code == 0
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO audit_events (at, actor, actor_kind, action, outcome, details) "
            "VALUES ('2026-01-01 00:00:00.000000', 'cli', 'cli', 'key.created', 'success', '{}')")
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    indexes = {index["name"] for index in inspect(engine).get_indexes("audit_events")}
    assert indexes == {"ix_audit_events_action", "ix_audit_events_at"}
    with engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT actor, action FROM audit_events").all() == [("cli", "key.created")]
    assert runner.invoke(args=["db", "downgrade", "0001"]).exit_code == 0
    assert "ix_audit_events_actor" in {i["name"] for i in inspect(engine).get_indexes(
        "audit_events")}
