"""Liveness without the database, readiness with it."""

from __future__ import annotations

from tests.conftest import base_config
from webapp import create_app


def test_healthz_answers_without_the_database(tmp_path):
    app = create_app(base_config(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_ok_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["checks"]["database"] == "ok"


def test_readyz_is_503_when_the_database_is_down(tmp_path):
    app = create_app(base_config(tmp_path, "postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable",
                                   "checks": {"database": "unavailable",
                                              **({"rate_limit_storage": "ok"}
                                                 if "ratelimit_probe" in app.extensions else {})}}
