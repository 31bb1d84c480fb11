"""Headers on every answer, trusted hosts, plain error pages, no debug in production."""

from __future__ import annotations

import logging

import pytest

from webapp.services.authorization import public

CSP = ("default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
       "form-action 'self'")


@pytest.mark.parametrize("path", ["/login", "/healthz", "/static/css/app.css", "/nowhere",
                                  "/bootstrap/static/css/bootstrap.min.css"])
def test_security_headers_on_every_answer(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CSP
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_when_served_over_https(client):
    response = client.get("/login", base_url="https://console.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"


def test_pages_are_not_cached(client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"


def test_no_page_carries_inline_script_or_style(client):
    body = client.get("/login").get_data(as_text=True)
    assert "<script>" not in body
    assert " style=" not in body
    assert "onclick" not in body.lower()


@pytest.mark.app_config(TRUSTED_HOSTS=["console.example"])
def test_unknown_hosts_are_refused(client):
    assert client.get("/healthz", base_url="http://console.example").status_code == 200
    refused = client.get("/healthz", base_url="http://evil.example")
    assert refused.status_code == 400


def test_request_bodies_are_capped(app, client):
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024
    response = client.post("/login", data={"email": "a" * (65 * 1024), "password": "x"})
    assert response.status_code == 413
    assert "Too large" in response.get_data(as_text=True)


def test_a_forced_error_shows_a_plain_500_page_and_logs_no_detail(app, caplog):
    def explode():
        raise RuntimeError("secret-looking detail s3cr3t")

    app.add_url_rule("/explode", "explode", public(explode))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/explode?token=abc")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "s3cr3t" not in body and "Traceback" not in body and "RuntimeError" not in body
    assert "s3cr3t" not in caplog.text
    assert "token=abc" not in caplog.text
    assert "unhandled RuntimeError" in caplog.text
