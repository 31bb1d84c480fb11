"""Admin pages for people: create, role, disable, reset password (SPEC 4 `/admin/users`)."""

from __future__ import annotations

from typing import Any

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from webapp.admin import bp
from webapp.admin.common import admin_only, refusal_details, refused, show_once
from webapp.admin.confirmations import CONFIRMED, Confirmation, confirmation_page
from webapp.admin.forms import (
    ActionForm,
    NewUserForm,
    ResetPasswordForm,
    RoleForm,
)
from webapp.extensions import db
from webapp.models import User, UserRole, UserSession
from webapp.services import accounts, audit
from webapp.services.accounts import AccountError, create_user


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
    if form.validate_on_submit():
        chosen = form.password.data or None
        password = chosen or accounts.generated_password()
        try:
            user = create_user(form.email.data or "", password, form.role.data or "")
        except (AccountError, IntegrityError) as error:
            db.session.rollback()
            reason = str(error) if isinstance(error, AccountError) else \
                "That email was taken a moment ago."
            form.form_errors.append(reason)
            return refused("user.created", form, "admin/user_new.html", reason=reason)
        audit.record("user.created", target=user.email, commit=False,
                     details={"role": user.role, "passwordGenerated": chosen is None})
        db.session.commit()
        if chosen is None:
            return show_once("admin/password_once.html", person=user, password=password,
                              created=True)
        flash(f"{user.email} can now sign in as {user.role}.", "success")
        return redirect(url_for("admin.users"))
    if form.is_submitted():
        return refused("user.created", form, "admin/user_new.html")
    return render_template("admin/user_new.html", form=form)


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


def _refused_on_user_page(action: str, person: User, form: FlaskForm, reason: str | None = None,
                          **forms: Any) -> ResponseReturnValue:
    """Audit a refused change to a person and show their page again, 400."""
    audit.record(action, outcome="refused", target=person.email,
                 details=refusal_details(form, reason))
    return _user_page(person, 400, error=reason, **forms)


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@admin_only
def user_role(user_id: int) -> ResponseReturnValue:
    person = db.get_or_404(User, user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _refused_on_user_page("user.role_changed", person, form, role_form=form)
    before = person.role
    # Demoting an admin asks first (SPEC 4); the last admin hears the last-admin rule at once.
    demoting = before == UserRole.ADMIN and form.role.data != UserRole.ADMIN
    if demoting and not accounts.is_last_admin(person) \
            and request.form.get(CONFIRMED) != "yes":
        return confirmation_page(Confirmation(
            title="Take admin rights away?", subject=person.email, subject_kind="Person",
            consequences=(f"They become {form.role.data} and lose the admin pages at their next "
                          "request." + (" That includes you." if person.id == current_user.id
                                        else ""),
                          "Only another admin can make them admin again."),
            button=f"Make {person.email} {form.role.data}", action_url=request.path,
            cancel_url=url_for("admin.user", user_id=person.id),
            fields={"role": form.role.data or ""}))
    try:
        accounts.change_role(person, form.role.data or "")
    except AccountError as error:
        db.session.rollback()
        return _refused_on_user_page("user.role_changed", person, form, str(error),
                                     role_form=form)
    if person.role != before:
        audit.record("user.role_changed", target=person.email, commit=False,
                     details={"from": before, "to": person.role})
        db.session.commit()
        flash(f"{person.email} is now {person.role}.", "success")
    else:
        flash(f"{person.email} was {before} already.", "info")
    if person.id == current_user.id and person.role != UserRole.ADMIN:
        return redirect(url_for("console.generate" if person.role == "developer"
                                else "console.inspect"))
    return redirect(url_for("admin.user", user_id=person.id))


@bp.route("/users/<int:user_id>/disable", methods=["GET", "POST"])
@admin_only
def disable_user(user_id: int) -> ResponseReturnValue:
    """GET: the page asking to confirm, naming the person; POST: disable them (SPEC 4)."""
    person = db.get_or_404(User, user_id)
    if request.method != "POST":  # GET, and HEAD (link prefetchers) which must not act
        return confirmation_page(Confirmation(
            title="Disable this person?", subject=person.email, subject_kind="Person",
            consequences=("They can no longer sign in, and every session they have open ends "
                          "at its next request.",
                          "You can enable them again from their page."),
            button=f"Disable {person.email}", action_url=request.path,
            cancel_url=url_for("admin.user", user_id=person.id)))
    form = ActionForm()
    if not form.validate_on_submit():
        return _refused_on_user_page("user.disabled", person, form)
    # The last admin hears the last-admin rule below; any other admin is kept from
    # locking themselves out by accident.
    if person.id == current_user.id and not accounts.is_last_admin(person):
        return _refused_on_user_page(
            "user.disabled", person, form,
            "You cannot disable your own account; ask another admin.")
    try:
        accounts.disable(person)
    except AccountError as error:
        db.session.rollback()
        return _refused_on_user_page("user.disabled", person, form, str(error))
    audit.record("user.disabled", target=person.email, commit=False)
    db.session.commit()
    flash(f"{person.email} is disabled and signed out everywhere.", "success")
    return redirect(url_for("admin.user", user_id=person.id))


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
@admin_only
def enable_user(user_id: int) -> ResponseReturnValue:
    person = db.get_or_404(User, user_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return _refused_on_user_page("user.enabled", person, form)
    if not person.active:
        accounts.enable(person)
        audit.record("user.enabled", target=person.email, commit=False)
        db.session.commit()
    flash(f"{person.email} can sign in again.", "success")
    return redirect(url_for("admin.user", user_id=person.id))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@admin_only
def reset_password(user_id: int) -> ResponseReturnValue:
    person = db.get_or_404(User, user_id)
    form = ResetPasswordForm()
    if not form.validate_on_submit():
        return _refused_on_user_page("user.password_reset", person, form, password_form=form)
    try:
        generated = accounts.reset_password(person, form.password.data or None)
    except AccountError as error:
        db.session.rollback()
        return _refused_on_user_page("user.password_reset", person, form, str(error),
                                     password_form=form)
    audit.record("user.password_reset", target=person.email, commit=False,
                 details={"passwordGenerated": generated is not None})
    db.session.commit()
    if generated is not None:
        return show_once("admin/password_once.html", person=person, password=generated,
                          created=False)
    flash(f"{person.email} has a new password and was signed out everywhere.", "success")
    return redirect(url_for("admin.user", user_id=person.id))
