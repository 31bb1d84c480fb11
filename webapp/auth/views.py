"""Sign-in, sign-out and password change."""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from webapp.auth import bp
from webapp.auth.forms import ChangePasswordForm, LoginForm
from webapp.auth.redirects import safe_next
from webapp.extensions import db, limiter
from webapp.services import audit, sessions
from webapp.services.accounts import (
    authenticate,
    begin_attempt,
    clear_failures,
    find_user,
    normalize_email,
    recorded_email,
    set_password,
)
from webapp.services.authorization import public, signed_in
from webapp.services.devices import recognised_device, remember_device
from webapp.services.passwords import verify_password
from webapp.web.navigation import home_endpoint

GENERIC_FAILURE = "Wrong email or password."
LOCKED_OUT = "Too many failed sign-ins for this account. Try again in {minutes} min."


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def home_for(role: str) -> str:
    """The first page a person of this role sees."""
    return url_for(home_endpoint(role))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@public
def login() -> ResponseReturnValue:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if current_user.is_authenticated:
            return redirect(safe_next(form.next.data) or home_for(current_user.role))
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("auth/login.html", form=form), status
    email = normalize_email(form.email.data or "")
    # What the trail names: the account's email, or a keyed hash of a text that is none
    # (it may be a password typed into the wrong box; SPEC 4).
    account = find_user(email)
    who = recorded_email(email, account)
    device = recognised_device(request.cookies, account)
    lockout = begin_attempt(email, device)
    if lockout is not None:
        audit.record("auth.login", outcome="locked_out", target=who, actor=who,
                     actor_kind="anonymous", details=_device_detail(device))
        minutes = max(1, -(-lockout.retry_after // 60))
        response = make_response(
            render_template("auth/login.html", form=form,
                            error=LOCKED_OUT.format(minutes=minutes)), 429)
        response.headers["Retry-After"] = str(lockout.retry_after)
        return response
    user = authenticate(email, form.password.data or "")
    if user is None:
        # begin_attempt has counted it already.
        audit.record("auth.login", outcome="failure", target=who, actor=who,
                     actor_kind="anonymous", details=_device_detail(device))
        return render_template("auth/login.html", form=form, error=GENERIC_FAILURE), 401
    clear_failures(email, device)
    # A fresh session for a fresh sign-in: nothing from before survives (fixation).
    session.clear()
    sessions.open_session(user)
    login_user(user)
    # SPEC 4: the cookie carries only the session's id. Flask-Login's freshness flag and
    # client hash serve features this console does not use (its own record checks the client).
    session.pop("_fresh", None)
    session.pop("_id", None)
    audit.record("auth.login", target=user.email, actor=user.email, actor_kind="person",
                 details=_device_detail(device))
    response = make_response(redirect(safe_next(form.next.data) or home_for(user.role)))
    remember_device(response, user)
    return response


def _device_detail(device: str | None) -> dict[str, object]:
    """What the trail notes of a sign-in's browser: whether it held this person's device
    cookie (its attempts are counted apart), never the cookie."""
    return {"knownDevice": True} if device else {}


@bp.route("/logout", methods=["POST"])
@public
def logout() -> ResponseReturnValue:
    if current_user.is_authenticated:
        email = current_user.email
        sessions.close_session(current_user.get_id())
        logout_user()
        audit.record("auth.logout", target=email, actor=email, actor_kind="person")
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current_password.data or ""):
            form.current_password.errors = [*form.current_password.errors,
                                            "This is not your current password."]
        else:
            set_password(current_user, form.new_password.data or "")
            sessions.close_other_sessions(current_user)
            db.session.commit()
            audit.record("auth.password_changed", target=current_user.email)
            flash("Your password has been changed; your other sessions have ended.", "success")
            return redirect(url_for("auth.change_password"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status
