"""CORS is off unless CORS_ORIGINS lists origins, and then only on the API's paths."""

from __future__ import annotations

import pytest

from tests.conftest import base_config
from webapp import create_app
from webapp.config import ConfigurationError

ALLOWED = "https://app.example.com"
PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type"}


def test_cors_is_off_by_default(api, caller):
    response = api.post("/api/v1/tokens", json={"permissions": ["allow_join"]},
                        headers={**caller.headers, "Origin": ALLOWED})
    assert response.status_code == 201
    assert not any(h.startswith("Access-Control-") for h in response.headers.keys())
    preflight = api.options("/api/v1/tokens", headers={"Origin": ALLOWED, **PREFLIGHT})
    assert "Access-Control-Allow-Origin" not in preflight.headers


@pytest.mark.app_config(CORS_ORIGINS=f" {ALLOWED}, http://localhost:3000 ")
class TestAllowList:
    @pytest.mark.parametrize("origin", [ALLOWED, "http://localhost:3000", "HTTPS://APP.EXAMPLE.COM"])
    @pytest.mark.parametrize("path", ["/api/v1/tokens", "/api/v1/tokens/inspect", "/get-token"])
    def test_a_listed_origin_may_preflight_and_call(self, api, caller, origin, path):
        preflight = api.options(path, headers={"Origin": origin, **PREFLIGHT})
        assert preflight.status_code == 200
        assert preflight.headers["Access-Control-Allow-Origin"] == origin
        assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
        allowed_headers = preflight.headers["Access-Control-Allow-Headers"].lower()
        assert "authorization" in allowed_headers and "content-type" in allowed_headers
        assert "Access-Control-Allow-Credentials" not in preflight.headers
        response = api.get("/get-token", headers={**caller.headers, "Origin": origin})
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == origin
        exposed = response.headers["Access-Control-Expose-Headers"]
        assert "X-RateLimit-Remaining" in exposed and "Retry-After" in exposed

    @pytest.mark.parametrize("origin", ["https://evil.example", "https://app.example.com.evil.net",
                                        "http://app.example.com", "null"])
    def test_other_origins_get_no_cors_headers(self, api, caller, origin):
        preflight = api.options("/api/v1/tokens", headers={"Origin": origin, **PREFLIGHT})
        assert "Access-Control-Allow-Origin" not in preflight.headers
        response = api.get("/get-token", headers={**caller.headers, "Origin": origin})
        assert "Access-Control-Allow-Origin" not in response.headers

    def test_errors_carry_cors_headers_so_browsers_can_read_them(self, api):
        response = api.get("/get-token", headers={"Origin": ALLOWED})
        assert response.status_code == 401
        assert response.headers["Access-Control-Allow-Origin"] == ALLOWED

    @pytest.mark.parametrize("path", ["/login", "/healthz", "/"])
    def test_the_console_never_answers_cors(self, client, path):
        response = client.get(path, headers={"Origin": ALLOWED})
        assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("value", ["*", "https://*.example.com", "app.example.com",
                                   "https://app.example.com/path", "https://(a|b).example"])
def test_anything_but_plain_origins_stops_start_up(tmp_path, value):
    config = {**base_config(tmp_path, f"sqlite:///{tmp_path / 'c.db'}"), "CORS_ORIGINS": value}
    with pytest.raises(ConfigurationError, match="CORS_ORIGINS"):
        create_app(config)
