"""Admin pages for people: create, role, disable, reset password (SPEC 4 `/admin/users`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from webapp.admin import bp
from webapp.admin.common import (
    Done,
    admin_only,
    form_page,
    refusal_details,
    show_once,
    submit,
)
from webapp.admin.confirmations import CONFIRMED, Confirmation, asks_first, confirmation_page
from webapp.admin.forms import ActionForm, NewUserForm, ResetPasswordForm, RoleForm
from webapp.extensions import db
from webapp.models import User, UserRole, UserSession
from webapp.services import accounts, audit
from webapp.services.accounts import AccountError, create_user
from webapp.web.navigation import home_endpoint


@bp.route("/users")
@admin_only
def users() -> ResponseReturnValue:
    people_list = db.session.execute(select(User).order_by(User.email)).scalars().all()
    open_sessions = dict(db.session.execute(
        select(UserSession.user_id, func.count()).group_by(UserSession.user_id)).all())
    return render_template("admin/users.html", people=people_list, open_sessions=open_sessions)


@bp.route("/users/new", methods=["GET", "POST"])
@admin_only
def new_user() -> ResponseReturnValue:
    form = NewUserForm()

    def create() -> ResponseReturnValue | Done:
        chosen = form.password.data or None
        password = chosen or accounts.generated_password()
        user = create_user(form.email.data or "", password, form.role.data or "")
        audit.record("user.created", target=user.email, commit=False,
                     details={"role": user.role, "passwordGenerated": chosen is None})
        if chosen is None:
            return show_once("admin/password_once.html", person=user, password=password,
                             created=True)
        return Done(f"{user.email} can now sign in as {user.role}.", url_for("admin.users"))

    return form_page("user.created", form, "admin/user_new.html", create,
                     errors=(AccountError,), taken="That email was taken a moment ago.")


def _user_page(user: User, status: int = 200, *, error: str | None = None,
               role_form: RoleForm | None = None,
               password_form: ResetPasswordForm | None = None) -> ResponseReturnValue:
    """A person's page with its three forms (one of them, refused, carrying its errors)."""
    sessions = db.session.execute(
        select(func.count()).select_from(UserSession).where(UserSession.user_id == user.id)
    ).scalar_one()
    return render_template(
        "admin/user.html", person=user, sessions=sessions, error=error,
        role_form=role_form or RoleForm(formdata=None, role=user.role),
        password_form=password_form or ResetPasswordForm(formdata=None),
        action_form=ActionForm(formdata=None),
    ), status


@bp.route("/users/<int:user_id>")
@admin_only
def user(user_id: int) -> ResponseReturnValue:
    return _user_page(db.get_or_404(User, user_id))


def _on_user_page(action: str, user_id: int, form: FlaskForm,
                  change: Callable[[User], ResponseReturnValue | Done],
                  **forms: Any) -> ResponseReturnValue:
    """:func:`submit` a form of a person's page (404 for no such person): ``change(person)``.
    A refusal (the form invalid, or an AccountError) is audited as ``action`` and shows their
    page again, 400, with the reason (and ``forms``: the refused one with its errors)."""
    person = db.get_or_404(User, user_id)

    def refuse(reason: str | None) -> ResponseReturnValue:
        audit.record(action, outcome="refused", target=person.email,
                     details=refusal_details(form, reason))
        return _user_page(person, 400, error=reason, **forms)

    return submit(form, lambda: change(person), refuse, errors=(AccountError,))


def _back_to(person: User) -> str:
    return url_for("admin.user", user_id=person.id)


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@admin_only
def user_role(user_id: int) -> ResponseReturnValue:
    form = RoleForm()

    def change_role(person: User) -> ResponseReturnValue | Done:
        before = person.role
        # Demoting an admin asks first (SPEC 4); the last admin hears the last-admin rule at once.
        demoting = before == UserRole.ADMIN and form.role.data != UserRole.ADMIN
        if demoting and not accounts.is_last_admin(person) \
                and request.form.get(CONFIRMED) != "yes":
            return confirmation_page(Confirmation(
                title="Take admin rights away?", subject=person.email, subject_kind="Person",
                consequences=(f"They become {form.role.data} and lose the admin pages at their "
                              "next request." + (" That includes you." if person.id ==
                                                 current_user.id else ""),
                              "Only another admin can make them admin again."),
                button=f"Make {person.email} {form.role.data}",
                cancel_url=_back_to(person), fields={"role": form.role.data or ""}))
        accounts.change_role(person, form.role.data or "")
        if person.id == current_user.id and person.role != UserRole.ADMIN:
            url = url_for(home_endpoint(person.role))
        else:
            url = _back_to(person)
        if person.role == before:
            return Done(f"{person.email} was {before} already.", url, "info")
        audit.record("user.role_changed", target=person.email, commit=False,
                     details={"from": before, "to": person.role})
        return Done(f"{person.email} is now {person.role}.", url)

    return _on_user_page("user.role_changed", user_id, form, change_role, role_form=form)


def _disable_question(user_id: int) -> Confirmation:
    person = db.get_or_404(User, user_id)
    return Confirmation(
        title="Disable this person?", subject=person.email, subject_kind="Person",
        consequences=("They can no longer sign in, and every session they have open ends "
                      "at its next request.",
                      "You can enable them again from their page."),
        button=f"Disable {person.email}", cancel_url=_back_to(person))


def _disable(person: User) -> Done:
    # The last admin hears the last-admin rule; any other admin is kept from locking
    # themselves out by accident.
    if person.id == current_user.id and not accounts.is_last_admin(person):
        raise AccountError("You cannot disable your own account; ask another admin.")
    accounts.disable(person)
    audit.record("user.disabled", target=person.email, commit=False)
    return Done(f"{person.email} is disabled and signed out everywhere.", _back_to(person))


@bp.route("/users/<int:user_id>/disable", methods=["GET", "POST"])
@admin_only
@asks_first(_disable_question)
def disable_user(user_id: int) -> ResponseReturnValue:
    """Disable a person (SPEC 4): no sign-in, every open session ends."""
    return _on_user_page("user.disabled", user_id, ActionForm(), _disable)


def _enable(person: User) -> Done:
    if not person.active:
        accounts.enable(person)
        audit.record("user.enabled", target=person.email, commit=False)
    return Done(f"{person.email} can sign in again.", _back_to(person))


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
@admin_only
def enable_user(user_id: int) -> ResponseReturnValue:
    return _on_user_page("user.enabled", user_id, ActionForm(), _enable)


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@admin_only
def reset_password(user_id: int) -> ResponseReturnValue:
    form = ResetPasswordForm()

    def reset(person: User) -> ResponseReturnValue | Done:
        generated = accounts.reset_password(person, form.password.data or None)
        audit.record("user.password_reset", target=person.email, commit=False,
                     details={"passwordGenerated": generated is not None})
        if generated is not None:
            return show_once("admin/password_once.html", person=person, password=generated,
                             created=False)
        return Done(f"{person.email} has a new password and was signed out everywhere.",
                    _back_to(person))

    return _on_user_page("user.password_reset", user_id, form, reset, password_form=form)
