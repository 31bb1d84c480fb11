"""``/healthz`` never touches the database; ``/readyz`` checks what serving needs (SPEC 7).

``/readyz`` answers 503 while the database does not answer, its schema is not this code's,
the rate-limit storage is down, a write has failed with no write succeeding since (a full
disk, a read-only database), or the instance drains after SIGTERM.
"""

from __future__ import annotations

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp.extensions import db
from webapp.health import bp
from webapp.health.lifecycle import InstanceState
from webapp.services.authorization import public
from webapp.services.schema import schema_state

DRAINING = "draining: SIGTERM received, this instance stops accepting soon"
WRITES_FAILING = "failing: a write failed (disk full or read-only) and none has succeeded since"


@bp.route("/healthz")
@public
def healthz() -> ResponseReturnValue:
    """Liveness: 200 while the process answers, without touching any storage."""
    return jsonify(status="ok")


@bp.route("/readyz")
@public
def readyz() -> ResponseReturnValue:
    """Readiness: 200 when this instance can do its work now, else 503 naming what fails."""
    state: InstanceState = current_app.extensions["instance_state"]
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError:
        db.session.rollback()
        checks["database"] = "unavailable"
    else:
        checks["schema"] = schema_state()
        checks["writes"] = _write_state(state)
    probe = current_app.extensions.get("ratelimit_probe")
    if probe is not None:
        checks["rate_limit_storage"] = "ok" if probe() else "unavailable"
    checks["lifecycle"] = DRAINING if state.draining else "ok"
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503


def _write_state(state: InstanceState) -> str:
    """'ok' unless a write failed and none succeeded since; then retry one write, seldom.

    A probe never writes while writes work. After a failure, one probe per interval per
    process rewrites the schema's version row with its own value, which needs the space
    and the write access that a mint needs, and changes nothing.
    """
    if state.write_failed_at is None:
        return "ok"
    if not state.probe_due():
        return WRITES_FAILING
    try:
        db.session.execute(text("UPDATE alembic_version SET version_num = version_num"))
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        return WRITES_FAILING
    state.record_write_success()
    return "ok"

