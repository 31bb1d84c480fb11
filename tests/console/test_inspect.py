"""The inspector: the paste, the verdict, the reasons with their codes, and what never shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.console.conftest import KEYS
from tests.console.pages import all_errors, errors_beside, parse, value_of
from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.tokens import sign

# A fixed moment: tokens are built around it and checked at a moment given in the form.
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
EPOCH_T0 = int(T0.timestamp())


def token_for(key: str = "default", secret: str | None = None, **claims: object) -> str:
    """A token with the key's apikey, allow_join and an hour of life from T0, plus `claims`."""
    payload: dict[str, object] = {"apikey": KEYS[key].apikey, "permissions": ["allow_join"],
                                  "iat": EPOCH_T0, "exp": EPOCH_T0 + 3600}
    payload.update(claims)
    return sign({k: v for k, v in payload.items() if v is not None},
                secret or KEYS[key].secret)


def shown_codes(html: str) -> list[str]:
    return [li.attrs["id"].removeprefix("reason-")
            for li in parse(html).find_all("li", cls="reason-card")]


def verdict_of(html: str) -> str:
    return parse(html).by_id("verdict-word").text()


def at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def test_get_shows_the_empty_form(support_client):
    response = support_client.get("/inspect?token=abc.def.ghi")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert value_of(html, "token") == ""  # a token never travels in a URL
    assert 'id="verdict-word"' not in html


def test_a_valid_token_is_valid_with_the_key_named(support_client, keys):
    response = support_client.post("/inspect", data={
        "token": token_for(roomId="standup", version=2), "room": "standup",
        "use": "join", "at": at(T0 + timedelta(minutes=5))})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert verdict_of(html) == "valid"
    assert "alert-success" in parse(html).find_all("section", cls="verdict-banner")[0].classes
    banner = parse(html).find_all("section", cls="verdict-banner")[0].text()
    # The banner holds the diagnosis's summary, naming the key that signed it (SPEC 3).
    summary = parse(html).by_id("verdict-summary").text()
    assert summary in banner and "'default'" in summary
    assert shown_codes(html) == []
    assert "valid for 55 more minutes" in html


def test_an_expired_token_says_how_long_ago_with_its_code(support_client, keys):
    response = support_client.post("/inspect", data={
        "token": token_for(), "at": at(T0 + timedelta(hours=4, minutes=12))})
    html = response.get_data(as_text=True)
    assert verdict_of(html) == "invalid"
    assert shown_codes(html) == ["expired"]
    reason = parse(html).by_id("reason-expired")
    assert "VideoSDK 4002" in reason.text()
    assert "error" in reason.find_all("span", cls="severity-badge")[0].text()
    assert "expired 3 h 12 min ago" in html
    assert "1 problem below, each with its fix." in html


@pytest.mark.parametrize(("token", "codes"), [
    pytest.param(lambda: token_for(secret="11" * 32), ["bad_signature"], id="wrong-secret"),
    pytest.param(lambda: token_for(secret=KEYS["long"].secret), ["signed_with_other_key"],
                 id="other-stored-key"),
    pytest.param(lambda: token_for().rsplit(".", 1)[0] + "." + "A" * 20, ["truncated"],
                 id="cut-short"),
    pytest.param(lambda: "not-a-token-at-all", ["not_a_jwt"], id="not-a-jwt"),
    pytest.param(lambda: token_for(key="sandbox"), ["sandbox_key"], id="sandbox"),
    pytest.param(lambda: token_for(permissions=["ask_join", "allow_mod"]),
                 ["conflicting_permissions"], id="conflict"),
    pytest.param(lambda: token_for(roomId="standup"), ["version_required"], id="no-version"),
])
def test_forged_and_broken_tokens_show_their_exact_codes(support_client, keys, token, codes):
    html = support_client.post("/inspect", data={
        "token": token(), "at": at(T0 + timedelta(minutes=1))}).get_data(as_text=True)
    assert verdict_of(html) == "invalid"
    assert shown_codes(html) == codes


def test_a_forged_payload_fails_the_signature(support_client, keys):
    genuine = token_for()
    forged_payload = token_for(permissions=["allow_join", "allow_mod"]).split(".")[1]
    header, _, signature = genuine.split(".")
    html = support_client.post("/inspect", data={
        "token": f"{header}.{forged_payload}.{signature}",
        "at": at(T0)}).get_data(as_text=True)
    assert shown_codes(html) == ["bad_signature"]
    assert "VideoSDK 4002" in parse(html).by_id("reason-bad_signature").text()


def test_an_unknown_key_is_unverified_and_amber(support_client, keys):
    token = sign({"apikey": "someone-else", "permissions": ["allow_join"], "iat": EPOCH_T0,
                  "exp": EPOCH_T0 + 60}, "22" * 32)
    html = support_client.post("/inspect", data={"token": token, "at": at(T0)}).get_data(
        as_text=True)
    assert verdict_of(html) == "unverified"
    assert "alert-warning" in parse(html).find_all("section", cls="verdict-banner")[0].classes
    assert shown_codes(html) == ["unknown_apikey"]


def test_the_paste_is_cleaned_and_kept_as_pasted(support_client, keys):
    pasted = f'  "Bearer {token_for()}"\n'
    html = support_client.post("/inspect", data={"token": pasted, "at": at(T0)}).get_data(
        as_text=True)
    assert shown_codes(html) == ["input_cleaned"]
    assert verdict_of(html) == "valid"
    assert value_of(html, "token") == pasted
    note = parse(html).find_all("p", cls="cleaned-note")[0].text()
    assert note == ("Cleaned from the paste: spaces or line breaks around the token, quotes "
                    "around the token, the 'Bearer' prefix.")


def test_the_token_is_split_and_coloured_by_part(support_client, keys):
    token = token_for()
    html = support_client.post("/inspect", data={"token": token, "at": at(T0)}).get_data(
        as_text=True)
    split = parse(html).find_all("p", cls="token-split")[0]
    parts = [split.find_all("span", cls=f"token-part-{name}")[0].text()
             for name in ("header", "payload", "signature")]
    assert ".".join(parts) == token


def test_every_claim_is_explained(support_client, keys):
    html = support_client.post("/inspect", data={
        "token": token_for(roles=["crawler"], version=2), "use": "join",
        "at": at(T0)}).get_data(as_text=True)
    table = parse(html).by_id("claims")
    names = [row.find_all("th")[0].text() for row in table.find_all("tr")[1:]]
    assert names == ["apikey", "permissions", "iat", "exp", "roles", "version"]
    assert "server-side use of the VideoSDK v2 APIs only" in table.text()
    assert "when the token stops working: 2025-03-01T13:00:00Z." in table.text()
    assert shown_codes(html) == ["crawler_cannot_join"]


def test_the_timeline_is_an_inline_svg_with_labelled_ticks(support_client, keys):
    html = support_client.post("/inspect", data={
        "token": token_for(nbf=EPOCH_T0 + 60), "at": at(T0 + timedelta(hours=2))}).get_data(
        as_text=True)
    svg = parse(html).find_all("svg", cls="timeline-svg")[0]
    names = [t.text() for t in svg.find_all("tspan", cls="tl-name")]
    assert names == ["iat", "nbf", "exp", "checked", "now"]
    assert "style" not in svg.attrs and not any("style" in e.attrs for e in svg.iter())
    assert svg.find_all("rect", cls="tl-band-expired")


@pytest.mark.parametrize(("typed", "checked"), [
    ("2025-03-01T12:30", "2025-03-01 12:30:00 UTC"),
    ("2025-03-01T12:30:15", "2025-03-01 12:30:15 UTC"),
    ("2025-03-01T18:00+05:30", "2025-03-01 12:30:00 UTC"),
    ("2025-03-01 12:30:00Z", "2025-03-01 12:30:00 UTC"),
])
def test_the_moment_tried_is_utc_unless_an_offset_is_given(support_client, keys, typed,
                                                             checked):
    html = support_client.post("/inspect", data={"token": token_for(), "at": typed}).get_data(
        as_text=True)
    assert f"Checked at {checked} (the moment given)." in html


INVALID = [
    pytest.param({"token": ""}, "token", "Paste a token to inspect.", id="empty"),
    pytest.param({"token": "  \n "}, "token", "Paste a token to inspect.", id="blank"),
    pytest.param({"token": "x" * 8193}, "token",
                 "This paste is 8,193 bytes long; a token is at most 8,192 bytes (8 KiB). "
                 "Paste the token alone.", id="over-8-KiB"),
    pytest.param({"at": "yesterday"}, "at",
                 "Write the moment as 2025-03-01T14:30 (taken as UTC) or with an offset, such "
                 "as 2025-03-01T14:30+05:30.", id="bad-moment"),
    pytest.param({"use": "meeting"}, "use-0", "Not a valid choice.", id="bad-use"),
    pytest.param({"room": "r" * 256}, "room", "Field cannot be longer than 255 characters.",
                 id="long-room"),
]


@pytest.mark.parametrize(("fields", "field_id", "message"), INVALID)
def test_bad_input_is_a_400_beside_the_field_without_a_diagnosis(
    app, support_client, keys, fields, field_id, message
):
    data = {"token": "abc", "room": "standup", "secret": "s3cret-value-typed", **fields}
    response = support_client.post("/inspect", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert errors_beside(html, field_id) == [message]
    assert all_errors(html) == [message]
    assert 'id="verdict-word"' not in html
    assert value_of(html, "room") == data["room"]
    assert value_of(html, "secret") == ""
    assert "s3cret-value-typed" not in html
    with app.app_context():
        assert db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "token.inspected")).first() is None


def test_a_one_off_secret_verifies_and_is_never_echoed(app, support_client, keys):
    one_off = "c0ffee" * 11
    token = sign({"apikey": "customer-key", "permissions": ["allow_join"], "iat": EPOCH_T0,
                  "exp": EPOCH_T0 + 600}, one_off)
    response = support_client.post("/inspect", data={"token": token, "secret": one_off,
                                                      "at": at(T0)})
    html = response.get_data(as_text=True)
    assert verdict_of(html) == "valid"
    assert "signed with the one-off secret given" in parse(html).find_all(
        "section", cls="verdict-banner")[0].text()
    assert one_off not in html
    assert value_of(html, "secret") == ""
    report = value_of(html, "report")
    assert "signature: verified with the secret given" in report
    with app.app_context():
        events = db.session.execute(select(AuditEvent)).scalars().all()
        assert all(one_off not in f"{e.details} {e.target}" for e in events)


def test_the_report_holds_no_token_and_no_secret(support_client, keys):
    token = token_for(roomId="standup", version=2)
    html = support_client.post("/inspect", data={
        "token": token, "room": "elsewhere", "at": at(T0 + timedelta(hours=2)),
        "secret": KEYS["default"].secret}).get_data(as_text=True)
    report = value_of(html, "report")
    assert report.startswith("verdict: invalid\nchecked at: 2025-03-01T14:00:00Z\n")
    assert "- expired (error, VideoSDK 4002)" in report
    assert "- room_mismatch (error, VideoSDK 4022)" in report
    for part in token.split("."):
        assert part not in report
    assert KEYS["default"].secret not in report
    assert KEYS["default"].secret not in html
    assert parse(html).find_all("button", cls="js-copy")[-1].attrs["data-copy-target"] == "report"


def test_who_issued_it_is_shown_for_a_token_minted_here(developer_client, generate):
    from tests.console.conftest import token_from

    token = token_from(generate(developer_client, room="standup").get_data(as_text=True))
    html = developer_client.post("/inspect", data={"token": token}).get_data(as_text=True)
    assert verdict_of(html) == "valid"
    issuance = parse(html).find_all("p", cls="issuance")[0].text()
    assert issuance.startswith(f"Yes: by {developer_client.person.email} on ")
    assert issuance.endswith("with key default .") or issuance.endswith("with key default.")
    assert shown_codes(html) == ["issued_here"]


def test_each_inspection_is_audited_without_the_token(app, support_client, keys):
    token = token_for()
    support_client.post("/inspect", data={"token": token, "at": at(T0)})
    with app.app_context():
        events = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "token.inspected")).scalars().all()
        assert [(e.actor, e.actor_kind, e.outcome) for e in events] == [
            (support_client.person.email, "person", "success")]
        assert events[0].details["via"] == "console"
        assert events[0].details["verdict"] == "valid"
        text = f"{events[0].details} {events[0].target}"
        assert all(part not in text for part in token.split("."))


def test_a_tokens_invisible_characters_are_shown_escaped(support_client, keys):
    """A roomId holding U+202E would show reversed in the claims, the reasons and the report."""
    response = support_client.post("/inspect", data={
        "token": token_for(roomId="abc\u202edef", participantId="p\u200b\x7f", version=2),
        "room": "abcdef", "use": "join", "at": at(T0 + timedelta(minutes=5))})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "room_mismatch" in shown_codes(html)
    for raw in ("\u202e", "\u200b", "\x7f"):
        assert raw not in html
    claims = parse(html).find_all("table")[0].text()
    assert '"abc\\u202edef"' in claims and '"p\\u200b\\u007f"' in claims


@pytest.mark.parametrize("paste", ["secret", "secret-in-claim", "one-off"])
def test_a_paste_holding_a_secret_is_not_shown_back(support_client, keys, paste):
    # SPEC 3: no output, the page included, shows a stored or the one-off secret or a value
    # holding one. The box comes back empty and the token is not split into its parts.
    secret = keys["default"].secret
    one_off = "a-one-off-secret-typed-for-this-check-0123456789"
    fields = {"token": secret}
    if paste == "secret-in-claim":
        now = int(datetime.now(UTC).timestamp())
        fields["token"] = sign({"apikey": keys["default"].apikey, "permissions": ["allow_join"],
                                "note": secret, "iat": now, "exp": now + 600}, secret)
    elif paste == "one-off":
        fields = {"token": one_off, "secret": one_off}
    response = support_client.post("/inspect", data=fields)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "secret_exposed" in body
    assert secret not in body and one_off not in body
    assert fields["token"] not in body
    assert value_of(body, "token") == ""
