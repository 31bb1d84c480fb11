"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from tests.conftest import base_config, drop_everything
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
    # 0002 drops the actor index; 0006 turns the one on action into one on (action, at).
    assert indexes == {"ix_audit_events_action_at", "ix_audit_events_at"}
    with engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT actor, action FROM audit_events").all() == [("cli", "key.created")]
    assert runner.invoke(args=["db", "downgrade", "0001"]).exit_code == 0
    assert "ix_audit_events_actor" in {i["name"] for i in inspect(engine).get_indexes(
        "audit_events")}


def at_revision(app, revision: str):  # type: ignore[no-untyped-def]
    """The app's database emptied and migrated up to ``revision``; its engine and CLI runner."""
    with app.app_context():
        drop_everything()
        engine = db.engine
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", revision]).exit_code == 0
    return engine, runner


_TOKEN_ROW = ("INSERT INTO issued_tokens (fingerprint, key_label, apikey, claims, issued_at, "
              "expires_at, issuer) VALUES ('{fp}', 'k', 'a', '{{}}', '2026-01-01 00:00:00', "
              "'2026-01-01 01:00:00', '{issuer}')")


def test_0003_keeps_one_issued_token_row_per_issuer_and_its_downgrade_one_per_token(app):
    """On SQLite and, in CI, PostgreSQL: the unique (fingerprint) of 0001 becomes
    (fingerprint, issuer), with the rows kept; going back keeps each token's first issuer."""
    engine, runner = at_revision(app, "0002")
    with engine.begin() as connection:
        connection.exec_driver_sql(_TOKEN_ROW.format(fp="f" * 64, issuer="alice@example.com"))
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with engine.begin() as connection:
        connection.exec_driver_sql(_TOKEN_ROW.format(fp="f" * 64, issuer="client app"))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.exec_driver_sql(_TOKEN_ROW.format(fp="f" * 64, issuer="client app"))
    with engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT issuer FROM issued_tokens ORDER BY id").scalars().all() == [
            "alice@example.com", "client app"]

    result = runner.invoke(args=["db", "downgrade", "0002"])
    assert result.exit_code == 0, result.output
    with engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT issuer FROM issued_tokens").scalars().all() == ["alice@example.com"]
    uniques = inspect(engine).get_unique_constraints("issued_tokens")
    assert [u["column_names"] for u in uniques] == [["fingerprint"]]
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0


def test_0004_forgets_typed_texts_held_in_clear(app):
    """Sign-in failures written before 0004 held what was typed into the email box, perhaps a
    password: the counter's rows go, the trail keeps only their keyed hash."""
    from webapp.services.accounts import typed_text_digest

    engine, runner = at_revision(app, "0003")
    line = ("INSERT INTO audit_events (at, actor, actor_kind, action, target, outcome, details) "
            "VALUES ('2026-01-01 00:00:00', '{who}', '{kind}', 'auth.login', '{who}', "
            "'{outcome}', '{{}}')")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO users (email, password_hash, role, active, created_at, "
            "password_changed_at) VALUES ('dev@example.com', 'x', 'developer', true, "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00')")
        connection.exec_driver_sql("INSERT INTO login_failures (email, at) VALUES "
                                   "('hunter2@hunter2.org', '2026-01-01 00:00:00')")
        for who, kind, outcome in (("hunter2@hunter2.org", "anonymous", "failure"),
                                   ("dev@example.com", "anonymous", "failure"),
                                   ("dev@example.com", "person", "success")):
            connection.exec_driver_sql(line.format(who=who, kind=kind, outcome=outcome))
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        hashed = "unknown-email:" + typed_text_digest("hunter2@hunter2.org")[:16]
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT COUNT(*) FROM login_failures").scalar() == 0
        assert connection.exec_driver_sql(
            "SELECT actor, target FROM audit_events ORDER BY id").all() == [
            (hashed, hashed), ("dev@example.com", "dev@example.com"),
            ("dev@example.com", "dev@example.com")]
    assert runner.invoke(args=["db", "downgrade", "0003"]).exit_code == 0


_KEY_ROW = ("INSERT INTO videosdk_keys (id, label, apikey, secret_encrypted, secret_last4, "
            "max_lifetime, allowed_permissions, allowed_roles, disabled, sandbox, created_at) "
            "VALUES (7, 'default', 'pk', :cipher, 'beef', 86400, '[]', '[]', false, false, "
            "'2026-01-01 00:00:00')")
_REPLACED_ROW = ("INSERT INTO replaced_key_secrets (key_id, secret_encrypted, replaced_at, "
                 "replaced_by) VALUES (7, :cipher, '2026-11-01 00:00:00', 'cli')")


def test_0005_adds_the_replaced_secrets_and_its_downgrade_keeps_the_keys(app):
    """On SQLite and, in CI, PostgreSQL: the keys stored before 0005 stay as they were both
    ways; replaced secrets belong to their key (gone with it) and go with the table."""
    engine, runner = at_revision(app, "0004")
    with engine.begin() as connection:
        connection.execute(text(_KEY_ROW), {"cipher": b"current"})
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with engine.begin() as connection:
        connection.execute(text(_REPLACED_ROW), {"cipher": b"old"})
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(_REPLACED_ROW.replace("(7,", "(8,")), {"cipher": b"x"})
    with engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT key_id, secret_encrypted, replaced_by FROM replaced_key_secrets").all() == [
            (7, b"old", "cli")]
    assert [i["column_names"] for i in inspect(engine).get_indexes("replaced_key_secrets")] == [
        ["key_id"]]

    result = runner.invoke(args=["db", "downgrade", "0004"])
    assert result.exit_code == 0, result.output
    assert "replaced_key_secrets" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT id, label, secret_encrypted FROM videosdk_keys").all() == [
            (7, "default", b"current")]
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0


_LEGACY_LINE = ("INSERT INTO audit_events (at, actor, actor_kind, action, target, outcome, "
                "address, details) VALUES ('2026-01-01 00:00:00', 'alice@example.com', 'person', "
                "'token.minted', 'k', 'success', '10.0.0.1', :details)")
_MINT_ROW = ("INSERT INTO issued_tokens (fingerprint, key_label, apikey, claims, issued_at, "
             "expires_at, issuer, via, address) VALUES (:fp, 'k', 'a', :claims, "
             "'2026-02-01 10:00:00', '2026-02-01 11:00:00', :issuer, :via, '10.9.8.7')")


def test_0006_reads_each_mint_line_once_and_its_downgrade_writes_them_back(app):
    """On SQLite and, in CI, PostgreSQL: a token recorded before 0006 keeps its line in
    audit_events (shown once, not twice); a mint after it has its line on its row, which
    going back to 0005 writes into audit_events as the mint did then."""
    from tests.support import trail_lines

    engine, runner = at_revision(app, "0005")
    legacy = {"via": "console", "key": "k", "claims": {}, "fingerprint": "e" * 64,
              "expiresAt": "2026-01-01T01:00:00Z"}
    with engine.begin() as connection:
        connection.exec_driver_sql(_TOKEN_ROW.format(fp="e" * 64, issuer="alice@example.com"))
        connection.execute(text(_LEGACY_LINE), {"details": json.dumps(legacy)})
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    claims = {"apikey": "a", "permissions": ["allow_join"], "iat": 1, "exp": 2}
    with engine.begin() as connection:
        assert connection.exec_driver_sql(
            "SELECT via, address FROM issued_tokens").all() == [(None, None)]
        connection.execute(text(_MINT_ROW), {"fp": "d" * 64, "claims": json.dumps(claims),
                                             "issuer": "client app", "via": "get-token"})
    with app.app_context():
        lines = [(line.at.isoformat(), line.actor, line.actor_kind, line.address, line.details)
                 for line in trail_lines("token.minted")]
        db.session.remove()
    minted = {"via": "get-token", "key": "k", "claims": claims, "fingerprint": "d" * 64,
              "expiresAt": "2026-02-01T11:00:00Z"}
    assert lines == [
        ("2026-01-01T00:00:00+00:00", "alice@example.com", "person", "10.0.0.1", legacy),
        ("2026-02-01T10:00:00+00:00", "client app", "client", "10.9.8.7", minted)]

    result = runner.invoke(args=["db", "downgrade", "0005"])
    assert result.exit_code == 0, result.output
    assert {c["name"] for c in inspect(engine).get_columns("issued_tokens")}.isdisjoint(
        {"via", "address"})
    assert {i["name"] for i in inspect(engine).get_indexes("audit_events")} == {
        "ix_audit_events_action", "ix_audit_events_at"}
    with engine.connect() as connection:
        back = connection.exec_driver_sql(
            "SELECT actor, actor_kind, action, target, outcome, address, details "
            "FROM audit_events ORDER BY id").all()
    assert [(*row[:6], row[6] if isinstance(row[6], dict) else json.loads(row[6]))
            for row in back] == [
        ("alice@example.com", "person", "token.minted", "k", "success", "10.0.0.1", legacy),
        ("client app", "client", "token.minted", "k", "success", "10.9.8.7", minted)]
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
