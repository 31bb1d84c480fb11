"""A token from /get-token is what VideoSDK's example servers hand out, read by jsonwebtoken."""

from __future__ import annotations

import pytest

from tests.interop.conftest import NodeJwt
from webapp.extensions import db
from webapp.services.api_clients import create_client
from webapp.services.videosdk_keys import add_key

pytestmark = pytest.mark.interop

APIKEY = "33333333-aaaa-4bbb-8ccc-000000000003"
SECRET = "e" * 64


@pytest.fixture
def bearer(app) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        add_key("main", APIKEY, SECRET)
        _, plaintext = create_client("example-app", ["tokens:mint"])
        db.session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


def test_get_token_verifies_in_node_with_the_example_servers_claims(app, bearer,
                                                                    node_jwt: NodeJwt):
    client = app.test_client()
    plain = client.get("/get-token", headers=bearer).get_json()["token"]
    scoped = client.get("/get-token?roomId=abcd-efgh-ijkl&peerId=peer42",
                        headers=bearer).get_json()["token"]
    example_payload = {"apikey": APIKEY, "permissions": ["allow_join", "allow_mod"]}
    results = node_jwt.run([
        {"op": "verify", "token": plain, "secret": SECRET, "options": {"algorithms": ["HS256"]}},
        {"op": "verify", "token": scoped, "secret": SECRET,
         "options": {"algorithms": ["HS256"]}},
        # What the example server itself signs: jwt.sign(payload, SECRET, {expiresIn: "10m"}).
        {"op": "sign", "payload": example_payload, "secret": SECRET,
         "options": {"expiresIn": "10m", "algorithm": "HS256"}},
        {"op": "decode", "token": plain},
        {"op": "verify", "token": plain, "secret": "f" * 64,
         "options": {"algorithms": ["HS256"]}},
    ])
    plain_result, scoped_result, example, plain_decoded, wrong_secret = results
    assert plain_result["ok"] is True, plain_result
    assert scoped_result["ok"] is True, scoped_result
    (example_decoded,) = node_jwt.run([{"op": "decode", "token": example["token"]}])

    ours = plain_result["payload"]
    theirs = example_decoded["payload"]
    assert set(ours) == set(theirs) == {"apikey", "permissions", "iat", "exp"}
    assert {k: ours[k] for k in ("apikey", "permissions")} == example_payload
    assert ours["exp"] - ours["iat"] == theirs["exp"] - theirs["iat"] == 600
    assert plain_decoded["header"] == example_decoded["header"] == {"alg": "HS256", "typ": "JWT"}

    scoped_claims = scoped_result["payload"]
    assert {k: v for k, v in scoped_claims.items() if k not in ("iat", "exp")} == {
        **example_payload, "version": 2, "roles": ["rtc"], "roomId": "abcd-efgh-ijkl",
        "participantId": "peer42"}
    assert wrong_secret == {"ok": False, "error": "JsonWebTokenError",
                            "message": "invalid signature"}
