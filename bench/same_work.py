"""The same-work baseline of SPEC 8: what any mint endpoint must do, in plain SQLAlchemy Core.

Per request: look the bearer key up by its SHA-256 (one SELECT), sign the same claims as
``bench/bare.py`` with PyJWT (its own ``sign``), insert one row and commit it, answer the
same six fields. No
policy, audit trail, rate limit or security headers: the floor a product that authenticates
and records every mint cannot go under, under the same gunicorn settings and database.

Its tables live apart from the product's (a file of their own on SQLite, the schema named in
the URL's search_path on PostgreSQL); ``BENCH_SAME_WORK_URL`` names the database and
``BENCH_CLIENT_KEY`` the one bearer key it knows.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime

from flask import Flask, jsonify, request
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
)

metadata = MetaData()
clients = Table("same_work_clients", metadata,
                Column("id", Integer, primary_key=True),
                Column("key_hash", String(64), unique=True, nullable=False))
mints = Table("same_work_mints", metadata,
              Column("id", Integer, primary_key=True),
              Column("client_id", Integer, nullable=False),
              Column("claims", JSON, nullable=False),
              Column("issued_at", DateTime(timezone=True), nullable=False))

try:
    from bench.bare import answer, sign
except ImportError:  # run as a script (python bench/same_work.py): bench/ is on the path
    from bare import answer, sign  # type: ignore[no-redef]

engine = create_engine(os.environ["BENCH_SAME_WORK_URL"])


@event.listens_for(engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
    # The product's own SQLite settings (webapp/__init__.py), so both wait alike.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "busy_timeout=5000", "synchronous=NORMAL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()


def prepare(client_key: str) -> None:
    """Create the tables and store the one client (run once, before gunicorn starts)."""
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(clients), {
            "key_hash": hashlib.sha256(client_key.encode()).hexdigest()})


app = Flask(__name__)


@app.post("/api/v1/tokens")
def mint():  # type: ignore[no-untyped-def]
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    digest = hashlib.sha256(key.encode()).hexdigest()
    with engine.connect() as connection:
        client_id = connection.execute(
            select(clients.c.id).where(clients.c.key_hash == digest)).scalar()
        if scheme != "Bearer" or client_id is None:
            return jsonify(error="unauthorized"), 401
        token, claims, now = sign(request.get_json())
        connection.execute(insert(mints), {"client_id": client_id, "claims": claims,
                                           "issued_at": datetime.fromtimestamp(now, UTC)})
        connection.commit()
    return answer(token, claims, now)


if __name__ == "__main__":
    prepare(os.environ["BENCH_CLIENT_KEY"])
