"""No token, secret or client key reaches the audit trail or the app's log through the API."""

from __future__ import annotations

import logging

from tests.support import trail_lines

from .conftest import MAIN_SECRET


def test_a_full_api_session_leaves_no_secret_behind(app, api, caller, caplog):
    one_off = "0123456789abcdef" * 4
    with caplog.at_level(logging.DEBUG):
        token = api.post("/api/v1/tokens", json={"permissions": ["allow_join"]},
                         headers=caller.headers).get_json()["token"]
        dropin = api.get("/get-token?roomId=r1&peerId=p1", headers=caller.headers
                         ).get_json()["token"]
        api.post("/api/v1/tokens/inspect", json={"token": token, "secret": one_off},
                 headers=caller.headers)
        api.post("/api/v1/tokens/introspect", data={"token": dropin}, headers=caller.headers)
        # Refusals too: a bad key, a policy refusal, an unparsable body. The bad key differs
        # from the real one in its last character, whatever that character is.
        wrong_key = caller.key[:-1] + ("y" if caller.key.endswith("x") else "x")
        refusals = [
            api.post("/api/v1/tokens", json={"permissions": ["allow_join"]},
                     headers={"Authorization": f"Bearer {wrong_key}"}),
            api.post("/api/v1/tokens", json={"permissions": ["allow_join"], "expiresIn": "90d"},
                     headers=caller.headers),
            api.post("/api/v1/tokens/inspect", data=f'{{"token": "{token}", "secret": "{one_off}"',
                     headers=caller.headers, content_type="application/json"),
        ]
    secrets = [token, dropin, token.split(".")[2], dropin.split(".")[2], one_off, MAIN_SECRET,
               caller.key, caller.key[4:], wrong_key, wrong_key[4:]]
    assert [response.status_code for response in refusals] == [401, 403, 400]
    with app.app_context():
        events = trail_lines()
        trail = " ".join(f"{e.actor} {e.target} {e.details}" for e in events)
    assert {e.action for e in events} == {"token.minted", "token.inspected"}
    assert len(events) == 5
    for secret in secrets:
        assert secret not in trail
        assert secret not in caplog.text
    for record in caplog.records:
        assert "Bearer" not in record.getMessage()
