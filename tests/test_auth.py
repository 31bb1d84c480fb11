"""Sign-in, sessions kept on the server, lockout, redirects and password changes."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import func, select

from tests.conftest import PASSWORD, csrf_token_from
from tests.support import login
from webapp.extensions import db
from webapp.models import AuditEvent, LoginFailure, UserSession, utcnow
from webapp.services.accounts import find_user, typed_text_digest

GENERIC = "Wrong email or password."


def session_count(app, user_id: int | None = None) -> int:
    query = select(func.count()).select_from(UserSession)
    if user_id is not None:
        query = query.where(UserSession.user_id == user_id)
    with app.app_context():
        return db.session.execute(query).scalar_one()


@pytest.mark.parametrize(("role", "home"), [("admin", "/"), ("developer", "/"),
                                             ("support", "/inspect")])
def test_sign_in_lands_on_the_role_home_and_opens_a_server_session(
    app, client, make_user, role, home
):
    person = make_user(role=role)
    response = login(client, person.email, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == home
    assert session_count(app, person.id) == 1
    assert client.get(home).status_code == 200


def test_email_is_matched_without_regard_to_case_or_spaces(client, make_user):
    person = make_user("Mixed@Example.com")
    assert person.email == "mixed@example.com"
    response = login(client, "  MIXED@example.COM ", PASSWORD)
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("email", "password"),
    [("developer@example.com", "wrong password, long enough"),
     ("nobody@example.com", PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_failures_say_the_same_generic_words(app, client, make_user, email, password):
    make_user("developer@example.com")
    response = login(client, email, password)
    assert response.status_code == 401
    body = response.get_data(as_text=True)
    assert GENERIC in body
    assert "no account" not in body.lower()
    assert session_count(app) == 0
    with app.app_context():
        event = db.session.execute(select(AuditEvent)).scalar_one()
        # An account's email is named; any other text only by its keyed hash (SPEC 4).
        named = email if email == "developer@example.com" else \
            "unknown-email:" + typed_text_digest(email)[:16]
        assert (event.action, event.outcome, event.target) == ("auth.login", "failure", named)
        assert password not in str(event.details)


@pytest.mark.parametrize("typed", ["S3cr3t-Passw0rd!", "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.sig",
                                   "no-at-sign.example.com", "two@@example.com"])
def test_what_is_not_an_email_is_refused_before_it_is_counted_or_audited(app, client, typed):
    response = client.post("/login", data={"email": typed, "password": "whatever it is"})
    assert response.status_code == 400
    assert "Enter an email address, such as name@example.com." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(AuditEvent)).first() is None
        assert db.session.execute(select(LoginFailure)).first() is None


def test_a_disabled_person_cannot_sign_in(client, make_user):
    person = make_user(active=False)
    response = login(client, person.email, PASSWORD)
    assert response.status_code == 401
    assert GENERIC in response.get_data(as_text=True)


def test_missing_fields_are_refused_with_field_messages(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    ["https://evil.example", "//evil.example", "////evil.example", "/\\evil.example",
     "javascript:alert(1)", "http:/evil.example", "/\t/evil.example", " //evil.example"],
)
def test_next_to_another_site_is_ignored(client, make_user, target):
    person = make_user()
    response = login(client, person.email, PASSWORD, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_to_a_path_on_this_site_is_followed(client, make_user):
    person = make_user()
    response = login(client, person.email, PASSWORD, next="/inspect?x=1")
    assert response.headers["Location"] == "/inspect?x=1"


def test_anonymous_visitors_are_sent_to_sign_in_with_next(client):
    response = client.get("/inspect")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Finspect"


def test_sign_out_deletes_only_that_session_and_the_old_cookie_is_anonymous(app, make_user):
    person = make_user()
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, person.email, PASSWORD)
    login(phone, person.email, PASSWORD)
    assert session_count(app, person.id) == 2
    stolen = laptop.get_cookie("tc_session").value

    response = laptop.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert session_count(app, person.id) == 1
    assert phone.get("/").status_code == 200

    replay = app.test_client()
    replay.set_cookie("tc_session", stolen)
    assert replay.get("/").status_code == 302


def test_disabling_a_person_signs_them_out_at_the_next_request(app, make_user):
    person = make_user()
    browser = app.test_client()
    login(browser, person.email, PASSWORD)
    assert browser.get("/").status_code == 200
    with app.app_context():
        find_user(person.email).active = False
        db.session.commit()
    response = browser.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert session_count(app, person.id) == 0


@pytest.mark.parametrize(
    ("field", "age"),
    [("last_seen_at", timedelta(minutes=31)), ("created_at", timedelta(hours=8, seconds=1))],
    ids=["idle-30-min", "absolute-8-h"],
)
def test_sessions_expire_when_idle_or_old(app, make_user, field, age):
    person = make_user()
    browser = app.test_client()
    login(browser, person.email, PASSWORD)
    with app.app_context():
        record = db.session.execute(select(UserSession)).scalar_one()
        setattr(record, field, utcnow() - age)
        db.session.commit()
    assert browser.get("/").status_code == 302
    assert session_count(app) == 0


def test_a_session_just_inside_its_limits_stays(app, make_user):
    person = make_user()
    browser = app.test_client()
    login(browser, person.email, PASSWORD)
    with app.app_context():
        record = db.session.execute(select(UserSession)).scalar_one()
        record.last_seen_at = utcnow() - timedelta(minutes=29)
        record.created_at = utcnow() - timedelta(hours=7, minutes=59)
        db.session.commit()
    assert browser.get("/").status_code == 200
    with app.app_context():
        refreshed = db.session.execute(select(UserSession)).scalar_one()
        assert utcnow() - refreshed.last_seen_at < timedelta(minutes=1)


def test_a_cookie_presented_by_another_browser_is_refused(app, make_user):
    person = make_user()
    browser = app.test_client()
    login(browser, person.email, PASSWORD)
    cookie = browser.get_cookie("tc_session").value
    other = app.test_client()
    other.set_cookie("tc_session", cookie)
    response = other.get("/", headers={"User-Agent": "EvilBrowser/1.0"})
    assert response.status_code == 302
    assert session_count(app) == 0


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_the_session_cookie_carries_only_the_sessions_id(app, client, make_user):
    person = make_user()
    page = client.get("/login").get_data(as_text=True)
    response = login(client, person.email, PASSWORD, csrf_token=csrf_token_from(page))
    assert response.status_code == 302
    cookie_header = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie_header
    assert "SameSite=Lax" in cookie_header
    assert "Secure" not in cookie_header  # development over plain HTTP
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    data = serializer.loads(client.get_cookie("tc_session").value)
    # The server-side session's id, nothing else: not the person's id, email or role.
    assert list(data) == ["_user_id"]
    assert data["_user_id"] != str(person.id) and person.email not in str(data)
    # A page with a form adds its CSRF secret, and nothing more.
    assert client.get("/").status_code == 200
    assert set(serializer.loads(client.get_cookie("tc_session").value)) == {
        "_user_id", "csrf_token"}


class TestLockout:
    def fail(self, client, email, times):
        return [login(client, email, "not the password!!").status_code for _ in range(times)]

    def test_sixth_attempt_is_refused_even_with_the_right_password(self, client, make_user):
        person = make_user()
        assert self.fail(client, person.email, 5) == [401] * 5
        response = login(client, person.email, PASSWORD)
        assert response.status_code == 429
        retry_after = int(response.headers["Retry-After"])
        assert 890 <= retry_after <= 901
        assert "Too many failed sign-ins" in response.get_data(as_text=True)
        assert session_count(client.application) == 0

    def test_unknown_accounts_lock_with_the_same_words(self, client, make_user):
        make_user()
        known = [login(client, "developer@example.com", "nope nope nope").status_code
                 for _ in range(5)]
        unknown = [login(client, "ghost@example.com", "nope nope nope").status_code
                   for _ in range(5)]
        assert known == unknown == [401] * 5
        a = login(client, "developer@example.com", "nope nope nope")
        b = login(client, "ghost@example.com", "nope nope nope")
        assert a.status_code == b.status_code == 429
        strip = lambda r: r.get_data(as_text=True).replace(  # noqa: E731
            "developer@example.com", "X").replace("ghost@example.com", "X")
        assert strip(a) == strip(b)

    def test_other_accounts_are_unaffected(self, client, make_user):
        victim = make_user("victim@example.com")
        other = make_user("other@example.com")
        self.fail(client, victim.email, 6)
        assert login(client, other.email, PASSWORD).status_code == 302

    def test_the_lock_lifts_when_the_window_ends(self, client, make_user):
        person = make_user()
        self.fail(client, person.email, 5)
        with client.application.app_context():
            for failure in db.session.execute(select(LoginFailure)).scalars():
                failure.at = failure.at - timedelta(minutes=15, seconds=1)
            db.session.commit()
        assert login(client, person.email, PASSWORD).status_code == 302

    def test_a_burst_of_attempts_cannot_outrun_the_count(self, app, make_user, monkeypatch):
        """Nine wrong passwords at once, each slow to check: at most five get checked."""
        from webapp.auth import views

        person = make_user()
        checked: list[str] = []
        real_authenticate = views.authenticate

        def slow_authenticate(email: str, password: str):  # type: ignore[no-untyped-def]
            checked.append(email)
            time.sleep(0.3)  # so that every attempt of the burst is in flight at once
            return real_authenticate(email, password)

        monkeypatch.setattr(views, "authenticate", slow_authenticate)
        together = threading.Barrier(9)
        statuses: list[int] = []

        def attempt() -> None:
            browser = app.test_client()
            together.wait(timeout=10)
            statuses.append(login(browser, person.email, "not the password!!").status_code)

        threads = [threading.Thread(target=attempt) for _ in range(9)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(statuses) == 9
        assert len(checked) <= 5, f"{len(checked)} passwords checked in one burst"
        assert sorted(statuses) == [401] * len(checked) + [429] * (9 - len(checked))
        with app.app_context():
            stored = db.session.execute(select(func.count()).select_from(LoginFailure))
            # The refused attempts took their count back: the lock is not extended by them.
            assert stored.scalar_one() == len(checked)

    def test_a_success_clears_earlier_failures(self, client, make_user):
        person = make_user()
        self.fail(client, person.email, 4)
        assert login(client, person.email, PASSWORD).status_code == 302
        with client.application.app_context():
            count = db.session.execute(select(func.count()).select_from(LoginFailure)).scalar_one()
        assert count == 0


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_csrf_is_enforced_on_forms(app, client, make_user):
    person = make_user()
    refused = client.post("/login", data={"email": person.email, "password": PASSWORD})
    assert refused.status_code == 400
    assert session_count(app) == 0
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    accepted = client.post("/login", data={"email": person.email, "password": PASSWORD,
                                           "csrf_token": token})
    assert accepted.status_code == 302


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_sign_out_needs_csrf_too(app, make_user):
    person = make_user()
    browser = app.test_client()
    token = csrf_token_from(browser.get("/login").get_data(as_text=True))
    browser.post("/login", data={"email": person.email, "password": PASSWORD, "csrf_token": token})
    assert browser.post("/logout").status_code == 400
    assert session_count(app) == 1


class TestPasswordChange:
    def post(self, browser, current, new, confirm=None):
        return browser.post("/account/password", data={
            "current_password": current, "new_password": new,
            "confirm": new if confirm is None else confirm})

    def test_change_then_sign_in_with_the_new_one(self, app, developer_client):
        email = developer_client.person.email
        response = self.post(developer_client, PASSWORD, "a brand new passphrase")
        assert response.status_code == 302
        assert response.headers["Location"] == "/account/password"
        fresh = app.test_client()
        assert login(fresh, email, PASSWORD).status_code == 401
        assert login(fresh, email, "a brand new passphrase").status_code == 302
        with app.app_context():
            actions = db.session.execute(select(AuditEvent.action)).scalars().all()
        assert "auth.password_changed" in actions

    @pytest.mark.parametrize(
        ("current", "new", "confirm", "message"),
        [(PASSWORD, "short", None, "At least 12 characters."),
         ("wrong current password", "a brand new passphrase", None,
          "This is not your current password."),
         (PASSWORD, "a brand new passphrase", "something else entirely",
          "The two entries differ.")],
    )
    def test_refusals_are_shown_beside_the_field(self, developer_client, current, new, confirm,
                                                 message):
        response = self.post(developer_client, current, new, confirm)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)

    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get("/account/password")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_an_email_that_lower_casing_lengthens_is_refused_like_any_other(app, client):
    """'İ' lower-cases to two characters: 212 typed become 412, past every column's 254."""
    typed = "İ" * 200 + "@example.com"
    response = login(client, typed, "not the password!!")
    assert response.status_code == 401
    with app.app_context():
        event = db.session.execute(select(AuditEvent)).scalar_one()
        failure = db.session.execute(select(LoginFailure)).scalar_one()
        digest = typed_text_digest(typed)
    assert (event.action, event.outcome) == ("auth.login", "failure")
    assert event.target == event.actor == "unknown-email:" + digest[:16]
    assert failure.email == digest


def test_a_control_character_in_the_email_is_a_form_error(app, client):
    response = login(client, "admin\x00@example.com", "not the password!!")
    assert response.status_code == 400
    assert "Enter an email address, such as name@example.com." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(LoginFailure)).first() is None


class TestDeviceCookies:
    """OWASP's device cookies (SPEC 4): a stranger cannot lock a person out of their own
    browser; that browser has its own counter."""

    WRONG = "not the password!!"

    def known_browser(self, app, person):  # type: ignore[no-untyped-def]
        """A browser that signed in as ``person`` and out again: it holds the device cookie."""
        browser = app.test_client()
        assert login(browser, person.email, PASSWORD).status_code == 302
        cookie = browser.get_cookie(f"tc_device_{person.id}", path="/login")
        assert cookie is not None and cookie.http_only and cookie.max_age == 30 * 86400
        browser.post("/logout")
        return browser

    def test_a_strangers_failures_do_not_stop_the_persons_known_browser(self, app, make_user):
        person = make_user()
        browser = self.known_browser(app, person)
        stranger = app.test_client()
        assert [login(stranger, person.email, self.WRONG).status_code
                for _ in range(5)] == [401] * 5
        assert login(stranger, person.email, PASSWORD).status_code == 429
        assert login(browser, person.email, PASSWORD).status_code == 302
        # Still locked for everyone else: the person's success cleared only their own counter.
        assert login(app.test_client(), person.email, PASSWORD).status_code == 429
        with app.app_context():
            known = db.session.execute(select(AuditEvent).where(
                AuditEvent.outcome == "success")).scalars().all()[-1]
        assert known.details == {"knownDevice": True}

    def test_five_failures_from_the_known_browser_lock_that_browser(self, app, make_user):
        person = make_user()
        browser = self.known_browser(app, person)
        assert [login(browser, person.email, self.WRONG).status_code
                for _ in range(5)] == [401] * 5
        locked = login(browser, person.email, PASSWORD)
        assert locked.status_code == 429
        assert 890 <= int(locked.headers["Retry-After"]) <= 901
        # Counted apart: a browser without the cookie is not locked by them.
        assert login(app.test_client(), person.email, PASSWORD).status_code == 302

    def _locked_for_strangers(self, app, person) -> None:  # type: ignore[no-untyped-def]
        stranger = app.test_client()
        for _ in range(5):
            login(stranger, person.email, self.WRONG)

    @pytest.mark.parametrize(("age", "status"), [
        (timedelta(days=30, seconds=5), 429),  # expired: counts as no cookie
        (timedelta(days=29, hours=23), 302),  # just inside 30 days: still the known browser
    ], ids=["expired", "inside-30-days"])
    def test_a_device_cookie_lasts_30_days(self, app, make_user, monkeypatch, age, status):
        from webapp.services import devices

        person = make_user()
        past = utcnow() - age
        monkeypatch.setattr(devices, "utcnow", lambda: past)
        browser = self.known_browser(app, person)
        monkeypatch.undo()
        self._locked_for_strangers(app, person)
        assert login(browser, person.email, PASSWORD).status_code == status

    def test_a_forged_device_cookie_counts_as_none(self, app, make_user):
        from itsdangerous import URLSafeSerializer

        person = make_user()
        self._locked_for_strangers(app, person)
        forged = URLSafeSerializer("not the app's key", salt="token-console device cookie")
        browser = app.test_client()
        browser.set_cookie(f"tc_device_{person.id}", forged.dumps(
            {"user": person.id, "device": "x" * 22, "issued": int(utcnow().timestamp())}),
            path="/login")
        assert login(browser, person.email, PASSWORD).status_code == 429
        browser.set_cookie(f"tc_device_{person.id}", "garbage.that.is.no.cookie", path="/login")
        assert login(browser, person.email, PASSWORD).status_code == 429

    def test_a_second_person_on_the_same_browser_keeps_the_first_ones_protection(
            self, app, make_user):
        first = make_user("first@example.com")
        second = make_user("second@example.com")
        browser = self.known_browser(app, first)
        assert login(browser, second.email, PASSWORD).status_code == 302
        browser.post("/logout")
        self._locked_for_strangers(app, first)
        assert login(browser, first.email, PASSWORD).status_code == 302

    def test_another_persons_device_cookie_counts_as_none(self, app, make_user):
        person = make_user("victim@example.com")
        other = make_user("other@example.com")
        browser = self.known_browser(app, other)
        self._locked_for_strangers(app, person)
        assert login(browser, person.email, PASSWORD).status_code == 429

    def test_users_unlock_clears_every_counter_of_the_email(self, app, make_user):
        person = make_user()
        browser = self.known_browser(app, person)
        for _ in range(5):
            login(browser, person.email, self.WRONG)
        self._locked_for_strangers(app, person)
        done = app.test_cli_runner().invoke(args=["users", "unlock", person.email])
        assert done.exit_code == 0, done.output
        assert "10 failed sign-ins forgotten" in done.output
        assert login(browser, person.email, PASSWORD).status_code == 302
        assert login(app.test_client(), person.email, PASSWORD).status_code == 302


class TestTypedTextIsNeverStoredInClear:
    """A text typed into the email box that is no account's email (perhaps a password)."""

    @pytest.mark.parametrize("typed", ["S3cr3t-P@ssw0rd.example", "Hunter2@Hunter2.Org"])
    def test_audit_trail_csv_and_counter_hold_only_its_keyed_hash(self, app, client,
                                                                 admin_client, typed):
        for _ in range(6):
            login(client, typed, "whatever it is")
        csv_text = admin_client.get("/admin/audit.csv").get_data(as_text=True)
        with app.app_context():
            events = db.session.execute(select(AuditEvent)).scalars().all()
            failures = db.session.execute(select(LoginFailure)).scalars().all()
            digest = typed_text_digest(typed)
        stored = " ".join(f"{e.actor} {e.target} {e.details}" for e in events) + \
            " ".join(f.email for f in failures) + csv_text
        assert typed.lower() not in stored.lower()
        assert {f.email for f in failures} == {digest}
        assert len(failures) == 5
        assert "unknown-email:" + digest[:16] in csv_text

    def test_the_hash_is_keyed_by_the_secret_key(self, app, tmp_path):
        import hashlib

        with app.app_context():
            digest = typed_text_digest("Some@Text.Typed")
            app.config["SECRET_KEY"] = "another key entirely, for this test"
            other = typed_text_digest("Some@Text.Typed")
        assert digest != other
        assert digest != hashlib.sha256(b"some@text.typed").hexdigest()


def test_changing_ones_password_ends_ones_other_sessions_only(app, make_user):
    person = make_user()
    here, elsewhere = app.test_client(), app.test_client()
    for browser in (here, elsewhere):
        assert login(browser, person.email, PASSWORD).status_code == 302
    assert session_count(app, person.id) == 2
    response = here.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "a brand new passphrase",
        "confirm": "a brand new passphrase"})
    assert response.status_code == 302
    assert session_count(app, person.id) == 1
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    assert elsewhere.get("/").headers["Location"].startswith("/login")
