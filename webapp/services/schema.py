"""Whether the database is there and at this code's migration: one rule for /readyz and the CLI.

SPEC 6: every command over stored records says what to run when the database is not set up,
and creates nothing; /readyz answers 503 until `flask db upgrade` has run.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp.extensions import db

SETUP_COMMAND = "flask --app webapp setup"
UNREACHABLE = "The database cannot be reached: check DATABASE_URL and that its server is up."


def known_revisions() -> tuple[str | None, frozenset[str]]:
    """This code's newest migration and every one it knows (read once per worker)."""
    return _revisions_in(current_app.extensions["migrate"].directory)


@lru_cache(maxsize=4)
def _revisions_in(directory: str) -> tuple[str | None, frozenset[str]]:
    script = ScriptDirectory(directory)
    return script.get_current_head(), frozenset(r.revision for r in script.walk_revisions())


def schema_state() -> str:
    """'ok' when the database is at this code's migration or newer; else what to do.

    A revision this code does not know is a newer one (the next release has migrated while
    this one still serves): that stays ready, so a rolling release never drains old
    instances. One it knows but is not the newest means `flask db upgrade` has not run.
    """
    version = _stamped_revision()
    if version is None:
        return "missing: run flask db upgrade"
    if _is_behind(version):
        return f"behind at {version}: run flask db upgrade"
    return "ok"


def _stamped_revision() -> str | None:
    try:
        version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        db.session.rollback()
        return None
    return str(version) if version is not None else None


def _is_behind(version: str) -> bool:
    head, known = known_revisions()
    return version != head and version in known


def database_reachable() -> bool:
    """Whether the database answers a query (for SQLite, connecting creates its file)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return False
    return True


def setup_needed() -> str | None:
    """Why stored records cannot be read yet, naming what to run; None when they can.

    Asks nothing of a SQLite file that does not exist: connecting would create an empty one.
    """
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not Path(url.database).exists():
        return f"There is no database at {url.database} yet: run `{SETUP_COMMAND}`."
    if not database_reachable():
        return UNREACHABLE
    version = _stamped_revision()
    if version is None:
        return f"The database has no tables yet: run `{SETUP_COMMAND}`."
    if _is_behind(version):
        return (f"The database is at migration {version}, behind this code: "
                f"run `{SETUP_COMMAND}` (it upgrades the schema).")
    return None
