"""The generator: its form, its refusals beside the fields, and the one-time result page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token_from
from tests.console.conftest import GENERATOR_DEFAULTS, KEYS, token_from
from tests.console.pages import all_errors, errors_beside, is_checked, parse, value_of
from tests.support import login, trail_lines
from webapp.extensions import db
from webapp.models import IssuedToken
from webapp.tokens import KnownKey, diagnose


def _options(html: str, select_id: str) -> dict[str, dict[str, str]]:
    select = parse(html).by_id(select_id)
    return {o.attrs["value"]: {**o.attrs, "text": o.text()} for o in select.find_all("option")}


# -- the form -------------------------------------------------------------------------------

def test_the_form_offers_active_keys_with_the_sandbox_marked_and_last(developer_client, keys):
    html = developer_client.get("/").get_data(as_text=True)
    options = _options(html, "key")
    assert list(options) == ["default", "long", "narrow", "sandbox"]  # "off" is disabled
    # One way of writing a limit everywhere: as the refusals and the admin pages do.
    assert options["default"]["text"] == "default, max lifetime 1d"
    assert options["sandbox"]["text"] == ("sandbox (sandbox: unknown to VideoSDK), "
                                          "max lifetime 1d")
    assert options["narrow"]["text"] == "narrow, max lifetime 30m"
    assert "selected" in options["default"]


def test_every_preset_is_drawn_and_the_default_fits_the_key(developer_client, keys):
    html = developer_client.get("/").get_data(as_text=True)
    presets = _options(html, "lifetime")
    # All of them, none hidden or disabled: without script, choosing the 30-day key must still
    # let one pick 7d or 30d. The script hides those beyond the chosen key's maximum.
    assert list(presets) == ["10m", "1h", "24h", "7d", "30d"]
    assert [v for v, o in presets.items() if "hidden" in o or "disabled" in o] == []
    assert presets["30d"]["data-seconds"] == "2592000"
    keys_max = {value: o["data-max-lifetime"] for value, o in _options(html, "key").items()}
    assert keys_max == {"default": "86400", "long": "2592000", "narrow": "1800",
                        "sandbox": "86400"}
    assert value_of(html, "lifetime") == "1h"


def test_a_key_below_an_hour_defaults_to_the_longest_preset_it_allows(app, developer_client,
                                                                       keys):
    from webapp.services.videosdk_keys import key_by_label

    with app.app_context():
        for label in ("default", "long"):
            key = key_by_label(label)
            assert key is not None
            key.disabled = True
        db.session.commit()
    html = developer_client.get("/").get_data(as_text=True)
    assert value_of(html, "key") == "narrow"
    assert value_of(html, "lifetime") == "10m"


def test_without_any_active_key_the_page_says_so(developer_client):
    response = developer_client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "No key can sign a token" in html
    assert 'id="generator"' not in html


# -- refusals: each beside its field, with what was typed kept ------------------------------

INVALID = [
    pytest.param({"join_mode": "ask_join", "allow_mod": "y"}, "allow_mod",
                 "ask_join cannot be combined with allow_mod: choose ask_join alone or drop it "
                 "(VideoSDK error 4008).", id="ask_join-with-allow_mod"),
    pytest.param({"participant": "jane doe"}, "participant",
                 "participantId must not contain spaces or other whitespace "
                 "(VideoSDK error 4004).", id="participant-with-space"),
    pytest.param({"expires_in": "120"}, "expires_in",
                 "'120' has no unit: jsonwebtoken would read it as 120 milliseconds, not seconds. "
                 "Write '120s' for seconds or '120m' for minutes.", id="unitless-lifetime"),
    pytest.param({"expires_in": "soon"}, "expires_in",
                 "'soon' is not a lifetime: write a number and a unit, such as '10m', '1.5h' or "
                 "'7 days'.", id="words-for-lifetime"),
    pytest.param({"expires_in": "2 fortnights"}, "expires_in",
                 "'2 fortnights' has an unknown unit 'fortnights': use ms, s, m, h, d, w or y "
                 "(or their long forms such as 'minutes' or 'days').", id="unknown-unit"),
    pytest.param({"expires_in": "500ms"}, "expires_in",
                 "A lifetime of 500ms is under a second: the token would be expired before it "
                 "arrives. Ask for at least '1s', more likely '10m' or '1h'.", id="under-a-second"),
    pytest.param({"expires_in": "3d"}, "expires_in",
                 "A lifetime of 3d is beyond the maximum allowed here, 1d: ask for 1d or less.",
                 id="typed-beyond-policy"),
    pytest.param({"lifetime": "7d"}, "lifetime",
                 "A lifetime of 7d is beyond the maximum allowed here, 1d: ask for 1d or less.",
                 id="preset-beyond-policy"),
    pytest.param({"lifetime": "45m"}, "lifetime",
                 "Choose one of 10m, 1h, 24h, 7d, 30d, or type a lifetime.", id="not-a-preset"),
    pytest.param({"agent": "y", "room": "standup"}, "room",
                 "The AI-agent form carries only apikey and permissions: leave roomId out.",
                 id="agent-with-room"),
    pytest.param({"agent": "y", "roles": "rtc"}, "roles-0",
                 "The AI-agent form carries only apikey and permissions: leave roles out.",
                 id="agent-with-role"),
    pytest.param({"key": "off"}, "key", "Choose one of the active keys.", id="disabled-key"),
    pytest.param({"key": "nope"}, "key", "Choose one of the active keys.", id="unknown-key"),
    pytest.param({"key": None}, "key", "Choose the key that signs the token.", id="no-key"),
    pytest.param({"join_mode": None}, "join_mode-0", "Choose allow_join or ask_join.",
                 id="no-join-mode"),
    pytest.param({"join_mode": "allow_mod"}, "join_mode-0", "Not a valid choice.",
                 id="join-mode-not-offered"),
    pytest.param({"roles": "admin"}, "roles-0", "Roles are crawler and rtc.", id="unknown-role"),
    pytest.param({"room": "r" * 256}, "room", "Field cannot be longer than 255 characters.",
                 id="room-too-long"),
    pytest.param({"key": "narrow", "allow_mod": "y", "lifetime": "10m"}, "allow_mod",
                 "The permission allow_mod is not allowed here: leave it out or ask an admin to "
                 "allow it for this key.", id="permission-beyond-policy"),
    pytest.param({"key": "narrow", "roles": "crawler", "lifetime": "10m"}, "roles-0",
                 "The role crawler is not allowed here: leave it out or ask an admin to allow it "
                 "for this key.", id="role-beyond-policy"),
]


@pytest.mark.parametrize(("fields", "field_id", "message"), INVALID)
def test_each_refusal_is_a_400_with_the_message_beside_the_field(
    app, developer_client, generate, fields, field_id, message
):
    typed = {"room": "standup", "participant": "jane", **fields}
    if fields.get("agent"):
        typed = dict(fields)
    response = generate(developer_client, **typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert errors_beside(html, field_id) == [message]
    assert all_errors(html) == [message]  # and nowhere else
    assert "The token was not signed" in html
    # What was typed is kept.
    for name in ("room", "participant", "expires_in"):
        if isinstance(typed.get(name), str):
            assert value_of(html, name) == typed[name]
    assert is_checked(html, "allow_mod") == bool(typed.get("allow_mod"))
    with app.app_context():
        assert db.session.execute(select(IssuedToken)).first() is None


def test_a_refusal_of_the_domain_is_audited_without_what_would_have_been_signed(
    app, developer_client, generate
):
    generate(developer_client, join_mode="ask_join", allow_mod="y", room="standup")
    with app.app_context():
        events = trail_lines("token.minted")
    assert [(e.outcome, e.actor, e.target) for e in events] == [
        ("refused", developer_client.person.email, "default")]
    assert events[0].details["via"] == "console"
    assert "ask_join cannot be combined with allow_mod" in events[0].details["reason"]


def test_typed_lifetime_and_checked_options_are_kept_on_refusal(developer_client, generate):
    html = generate(developer_client, join_mode="ask_join", allow_mod="y", roles=["rtc"],
                    expires_in="90m", lifetime="10m").get_data(as_text=True)
    assert is_checked(html, "join_mode-1")  # ask_join
    assert is_checked(html, "roles-0")  # rtc
    assert not is_checked(html, "roles-1")
    assert value_of(html, "expires_in") == "90m"
    assert value_of(html, "lifetime") == "10m"


# -- the result page ------------------------------------------------------------------------

def test_the_result_page_is_the_direct_uncached_answer_with_the_token_once(
    app, developer_client, generate
):
    response = generate(developer_client, room="standup", participant="jane", roles=["rtc"],
                        allow_mod="y", lifetime="10m")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Location" not in response.headers
    token = token_from(html)
    assert html.count(token) == 1
    # Not in a cookie, not in any header.
    assert all(token not in value for _, value in response.headers.items())
    assert token[:40] not in str(developer_client.get_cookie("tc_session").value)
    # The secret appears nowhere.
    assert KEYS["default"].secret not in html
    diagnosis = diagnose(token, keys=[KnownKey("default", KEYS["default"].apikey,
                                               KEYS["default"].secret)])
    assert diagnosis.verdict == "valid"
    assert diagnosis.claims == {
        "apikey": KEYS["default"].apikey, "permissions": ["allow_join", "allow_mod"],
        "version": 2, "roomId": "standup", "participantId": "jane", "roles": ["rtc"],
        "iat": diagnosis.claims["iat"], "exp": diagnosis.claims["iat"] + 600,
    }
    page = parse(html)
    claims = [row.find_all("th")[0].text() for row in page.by_id("claims").find_all("tr")[1:]]
    assert claims == ["apikey", "permissions", "version", "roomId", "participantId", "roles",
                      "iat", "exp"]
    assert "may join the meeting directly" in page.by_id("claims").text()
    assert "the signing algorithm; VideoSDK accepts only HS256." in page.by_id("header").text()
    assert "valid for 9 more minutes" in html or "valid for 10 more minutes" in html
    # The inspector form carries the token by POST, from the textarea itself.
    form = page.by_id("open-in-inspector")
    assert form.attrs["method"] == "post" and form.attrs["action"] == "/inspect"
    assert page.by_id("token").attrs["form"] == "open-in-inspector"
    assert page.by_id("token").attrs["name"] == "token"
    assert "readonly" in page.by_id("token").attrs


def test_the_token_is_recorded_and_audited_by_fingerprint_only(app, developer_client, generate):
    html = generate(developer_client, room="standup").get_data(as_text=True)
    token = token_from(html)
    with app.app_context():
        issued = db.session.execute(select(IssuedToken)).scalar_one()
        events = trail_lines("token.minted")
        assert issued.issuer == developer_client.person.email
        assert issued.room_id == "standup"
        assert issued.key_label == "default"
        assert [(e.outcome, e.actor, e.actor_kind) for e in events] == [
            ("success", developer_client.person.email, "person")]
        assert events[0].details["via"] == "console"
        assert events[0].details["fingerprint"] == issued.fingerprint
        for event in events:
            text = f"{event.details} {event.target} {event.actor}"
            assert token not in text and token.split(".")[2] not in text
            assert KEYS["default"].secret not in text


def test_the_snippets_ask_for_the_same_token_and_hold_no_secret(developer_client, generate):
    html = generate(developer_client, room="standup", lifetime="24h").get_data(as_text=True)
    token = token_from(html)
    page = parse(html)
    curl, node, python = (page.by_id(f"snippet-{n}").text() for n in (1, 2, 3))
    assert "POST http://localhost/api/v1/tokens" in curl
    assert 'Authorization: Bearer $TOKEN_CONSOLE_CLIENT_KEY' in curl
    assert (f'"apikey": "{KEYS["default"].apikey}", "permissions": ["allow_join"], '
            '"roomId": "standup", "expiresIn": "1d"') in curl
    assert "process.env.VIDEOSDK_SECRET_KEY, { algorithm: 'HS256', expiresIn: '1d' }" in node
    assert 'os.environ["VIDEOSDK_SECRET_KEY"]' in python and '"exp": now + 86400' in python
    for snippet in (curl, node, python):
        assert KEYS["default"].secret not in snippet
        assert token.split(".")[2] not in snippet


def test_an_ai_agent_token_carries_only_apikey_and_permissions(developer_client, generate):
    html = generate(developer_client, agent="y", allow_mod="y").get_data(as_text=True)
    token = token_from(html)
    claims = diagnose(token, keys=[KnownKey("default", KEYS["default"].apikey,
                                            KEYS["default"].secret)]).claims
    assert claims is not None
    assert sorted(claims) == ["apikey", "exp", "iat", "permissions"]
    assert claims["permissions"] == ["allow_join", "allow_mod"]


def test_a_typed_lifetime_wins_over_the_preset(developer_client, generate):
    html = generate(developer_client, lifetime="10m", expires_in="1.5h").get_data(as_text=True)
    claims = diagnose(token_from(html)).claims
    assert claims is not None
    assert claims["exp"] - claims["iat"] == 5400
    assert "expiresIn: '90m'" in parse(html).by_id("snippet-2").text()


def test_a_sandbox_token_is_marked_on_the_result_page(developer_client, generate):
    html = generate(developer_client, key="sandbox").get_data(as_text=True)
    assert "Sandbox key." in html
    assert "VideoSDK does not know the key" in html


def test_a_key_with_a_longer_maximum_accepts_its_presets(developer_client, generate):
    response = generate(developer_client, key="long", lifetime="30d")
    claims = diagnose(token_from(response.get_data(as_text=True))).claims
    assert response.status_code == 200
    assert claims is not None and claims["exp"] - claims["iat"] == 30 * 86400


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_the_generator_needs_its_csrf_token(app, make_user, keys):
    person = make_user("dev-csrf@example.com", "developer")
    browser = app.test_client()
    login_page = browser.get("/login").get_data(as_text=True)
    browser.post("/login", data={"email": person.email, "password": person.password,
                                 "csrf_token": csrf_token_from(login_page)})
    fields = {"key": "default", "join_mode": "allow_join", "lifetime": "1h"}
    refused = browser.post("/", data=fields)
    assert refused.status_code == 400
    assert 'id="open-in-inspector"' not in refused.get_data(as_text=True)
    form_page = browser.get("/").get_data(as_text=True)
    accepted = browser.post("/", data={**fields, "csrf_token": csrf_token_from(form_page)})
    assert accepted.status_code == 200
    result = accepted.get_data(as_text=True)
    assert 'id="open-in-inspector"' in result
    # The inspector form of the result page carries its own CSRF token.
    opened = browser.post("/inspect", data={"token": token_from(result),
                                            "csrf_token": csrf_token_from(result)})
    assert opened.status_code == 200
    assert 'id="verdict-word">valid<' in opened.get_data(as_text=True)


def test_a_secret_that_no_longer_decrypts_answers_503_with_the_reason(keys, keys_undecryptable,
                                                                     make_user):
    person = make_user("dev@example.com", "developer")
    browser = keys_undecryptable.test_client()
    assert login(browser, person.email, person.password).status_code == 302
    reason = "The secret of key 'default' cannot be decrypted with ENCRYPTION_KEYS."
    minted = browser.post("/", data=GENERATOR_DEFAULTS)
    assert minted.status_code == 503
    assert errors_beside(minted.get_data(as_text=True), "key") == [reason]
    inspected = browser.post("/inspect", data={"token": "a.b.c"})
    assert inspected.status_code == 503
    assert "cannot be decrypted with ENCRYPTION_KEYS." in inspected.get_data(as_text=True)
    with keys_undecryptable.app_context():
        assert db.session.execute(select(IssuedToken)).first() is None


@pytest.mark.parametrize(("field", "value", "named"), [
    ("room", "abc\u202edef", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ("participant", "jane\u200b", "U+200B (ZERO WIDTH SPACE)"),
])
def test_invisible_format_characters_in_ids_are_refused(app, developer_client, generate, field,
                                                       value, named):
    response = generate(developer_client, **{field: value})
    assert response.status_code == 400
    assert f"holds the invisible format character {named}" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(IssuedToken)).first() is None


@pytest.mark.parametrize("lifetime", [{"lifetime": "7d"}, {"expires_in": "3d"}])
def test_every_error_of_a_submission_comes_in_one_round(generate, developer_client, lifetime):
    """Issue 19: rule breaks and the key's refusals together, each beside its field."""
    response = generate(developer_client, join_mode="ask_join", allow_mod="y",
                        participant="jane doe", **lifetime)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    lifetime_field = "lifetime" if "lifetime" in lifetime else "expires_in"
    asked = "7d" if "lifetime" in lifetime else "3d"
    assert errors_beside(html, "allow_mod") == [
        "ask_join cannot be combined with allow_mod: choose ask_join alone or drop it "
        "(VideoSDK error 4008)."]
    assert errors_beside(html, "participant") == [
        "participantId must not contain spaces or other whitespace (VideoSDK error 4004)."]
    assert errors_beside(html, lifetime_field) == [
        f"A lifetime of {asked} is beyond the maximum allowed here, 1d: ask for 1d or less."]
    assert len(all_errors(html)) == 3


def test_a_policy_refusal_of_a_field_with_a_rule_error_is_not_doubled(generate, developer_client):
    """A lifetime that breaks a rule is not also refused by the key's maximum."""
    response = generate(developer_client, participant="jane doe", expires_in="120")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert len(errors_beside(html, "expires_in")) == 1
    assert "milliseconds" in errors_beside(html, "expires_in")[0]


def test_the_result_says_the_full_lifetime_and_offers_the_same_settings_again(
        generate, developer_client):
    """Issue 19: a 2 h token reads "valid for 2 h" at once; the settings return to the form."""
    response = generate(developer_client, expires_in="2h", join_mode="ask_join",
                        roles=["rtc"], room="standup", participant="jane")
    html = response.get_data(as_text=True)
    page = parse(html)
    assert page.by_id("expiry-words").text() == "valid for 2 h more"
    again = page.by_id("generate-again").attrs["href"]
    assert token_from(html) not in again
    form = developer_client.get(again).get_data(as_text=True)
    assert value_of(form, "room") == "standup" and value_of(form, "participant") == "jane"
    assert value_of(form, "expires_in") == "2h"
    assert is_checked(form, "join_mode-1") and is_checked(form, "roles-0")
    assert not is_checked(form, "allow_mod")
