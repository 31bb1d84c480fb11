"""``/healthz`` never touches the database; ``/readyz`` checks what serving needs."""

from __future__ import annotations

from functools import lru_cache

from alembic.script import ScriptDirectory
from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp.extensions import db
from webapp.health import bp
from webapp.services.authorization import public


@bp.route("/healthz")
@public
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@bp.route("/readyz")
@public
def readyz() -> ResponseReturnValue:
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError:
        db.session.rollback()
        checks["database"] = "unavailable"
    else:
        checks["schema"] = _schema_state()
    probe = current_app.extensions.get("ratelimit_probe")
    if probe is not None:
        checks["rate_limit_storage"] = "ok" if probe() else "unavailable"
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503


def known_revisions() -> tuple[str | None, frozenset[str]]:
    """This code's newest migration and every one it knows (read once per worker)."""
    return _revisions_in(current_app.extensions["migrate"].directory)


@lru_cache(maxsize=4)
def _revisions_in(directory: str) -> tuple[str | None, frozenset[str]]:
    script = ScriptDirectory(directory)
    return script.get_current_head(), frozenset(r.revision for r in script.walk_revisions())


def _schema_state() -> str:
    """'ok' when the database is at this code's migration or newer; else what to do.

    A revision this code does not know is a newer one (the next release has migrated while
    this one still serves): that stays ready, so a rolling release never drains old
    instances. One it knows but is not the newest means `flask db upgrade` has not run.
    """
    try:
        version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        db.session.rollback()
        version = None
    head, known = known_revisions()
    if version is None:
        return "missing: run flask db upgrade"
    if version == head or version not in known:
        return "ok"
    return f"behind at {version}: run flask db upgrade"
