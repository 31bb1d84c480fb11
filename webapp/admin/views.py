"""Admin pages: thin views over the keyring, accounts, API clients and the audit trail.

Every change is audited (who, what, outcome); a refused POST answers 400 with the
form and its errors, a successful one redirects with a flash, except the pages
that show a client key or generated password once, which answer the POST itself.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from wtforms import SelectChoice

from .. import audit, clients, keyring
from ..access import roles_required
from ..auth.accounts import AccountError, create_user
from ..extensions import db
from ..listing import paginate, requested_page
from ..models import ApiClient, User, UserSession, VideoSDKKey, utcnow
from ..tokens import format_lifetime
from . import bp, people, trail
from .forms import (
    ActionForm,
    AuditFilterForm,
    EditClientForm,
    EditKeyForm,
    NewClientForm,
    NewKeyForm,
    NewUserForm,
    ResetPasswordForm,
    RoleForm,
)

admin_only = roles_required("admin")
AUDIT_PAGE_SIZE = 50


def _refusal(form: FlaskForm, reason: str | None) -> dict[str, Any]:
    # Field names and our own message only: what was typed may be a misplaced secret.
    details: dict[str, Any] = {"fields": sorted(name for name in form.errors if name)}
    if reason:
        details["reason"] = reason
    return details


def _refused(action: str, form: FlaskForm, template: str, *, target: str | None = None,
             reason: str | None = None, **context: Any) -> ResponseReturnValue:
    """Audit a refused change and answer 400 with the form and its errors."""
    audit.record(action, outcome="refused", target=target, details=_refusal(form, reason))
    return render_template(template, form=form, **context), 400


def _show_once(template: str, **context: Any) -> Response:
    """A page that carries a secret shown once: the direct answer to the POST, never cached."""
    response = make_response(render_template(template, **context))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


# VideoSDK keys ---------------------------------------------------------------------------------

def _policy_details(key: VideoSDKKey) -> dict[str, Any]:
    return {"maxLifetime": format_lifetime(key.max_lifetime),
            "permissions": list(key.allowed_permissions), "roles": list(key.allowed_roles)}


@bp.route("/keys")
@admin_only
def keys() -> ResponseReturnValue:
    stored = keyring.all_keys()
    if request.args.get("format") == "json":
        response = jsonify({"keys": [keyring.describe(key) for key in stored]})
        response.headers["Cache-Control"] = "no-store"
        return response
    return render_template("admin/keys.html", keys=stored, action_form=ActionForm(),
                           describe=keyring.describe)


@bp.route("/keys/new", methods=["GET", "POST"])
@admin_only
def new_key() -> ResponseReturnValue:
    form = NewKeyForm()
    if form.validate_on_submit():
        try:
            key = keyring.add_key(form.label.data or "", form.apikey.data or "",
                                  form.secret.data or "", max_lifetime=form.max_lifetime.data,
                                  permissions=form.permissions.data, roles=form.roles.data)
        except (keyring.KeyringError, IntegrityError) as error:
            db.session.rollback()
            reason = str(error) if isinstance(error, keyring.KeyringError) else \
                "That label or API key was stored a moment ago; choose another."
            form.form_errors.append(reason)
            return _refused("key.created", form, "admin/key_new.html", reason=reason)
        audit.record("key.created", target=key.label, commit=False,
                     details={"apikey": key.apikey, **_policy_details(key)})
        db.session.commit()
        # Not even the last 4 characters in the flash: it rides in the session cookie.
        flash(f"Key {key.label!r} added. Its secret is stored encrypted; from now on only its "
              "last 4 characters are shown.", "success")
        return redirect(url_for("admin.keys"))
    if form.is_submitted():
        return _refused("key.created", form, "admin/key_new.html")
    return render_template("admin/key_new.html", form=form)


@bp.route("/keys/<int:key_id>", methods=["GET", "POST"])
@admin_only
def edit_key(key_id: int) -> ResponseReturnValue:
    key = db.get_or_404(VideoSDKKey, key_id)
    form = EditKeyForm(data={"max_lifetime": format_lifetime(key.max_lifetime),
                             "permissions": key.allowed_permissions,
                             "roles": key.allowed_roles})
    context: dict[str, Any] = {"key": key, "action_form": ActionForm()}
    if form.validate_on_submit():
        before = _policy_details(key)
        try:
            keyring.update_policy(key, max_lifetime=form.max_lifetime.data or "",
                                  permissions=form.permissions.data or [],
                                  roles=form.roles.data or [])
            if form.new_secret.data:
                keyring.replace_secret(key, form.new_secret.data)
        except keyring.KeyringError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
            return _refused("key.updated", form, "admin/key_edit.html", target=key.label,
                            reason=str(error), **context)
        changes = audit.changes(before, _policy_details(key))
        if changes:
            audit.record("key.updated", target=key.label, details={"changes": changes},
                         commit=False)
        if form.new_secret.data:
            audit.record("key.secret_replaced", target=key.label, commit=False)
        db.session.commit()
        if changes or form.new_secret.data:
            flash(f"Key {key.label!r} saved.", "success")
        else:
            flash(f"Nothing to change in key {key.label!r}.", "info")
        return redirect(url_for("admin.keys"))
    if form.is_submitted():
        return _refused("key.updated", form, "admin/key_edit.html", target=key.label, **context)
    return render_template("admin/key_edit.html", form=form, **context)


def _set_key_disabled(key_id: int, disabled: bool) -> ResponseReturnValue:
    key = db.get_or_404(VideoSDKKey, key_id)
    if not ActionForm().validate_on_submit():
        return render_template("errors/400.html"), 400
    action = "key.disabled" if disabled else "key.enabled"
    if key.disabled != disabled:
        key.disabled = disabled
        audit.record(action, target=key.label, commit=False)
        db.session.commit()
    state = "disabled: it no longer signs tokens here" if disabled else "enabled"
    flash(f"Key {key.label!r} is {state}.", "success")
    return redirect(url_for("admin.keys"))


@bp.route("/keys/<int:key_id>/disable", methods=["POST"])
@admin_only
def disable_key(key_id: int) -> ResponseReturnValue:
    return _set_key_disabled(key_id, True)


@bp.route("/keys/<int:key_id>/enable", methods=["POST"])
@admin_only
def enable_key(key_id: int) -> ResponseReturnValue:
    return _set_key_disabled(key_id, False)


# People ----------------------------------------------------------------------------------------

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
        password = chosen or people.generated_password()
        try:
            user = create_user(form.email.data or "", password, form.role.data or "")
        except (AccountError, IntegrityError) as error:
            db.session.rollback()
            reason = str(error) if isinstance(error, AccountError) else \
                "That email was taken a moment ago."
            form.form_errors.append(reason)
            return _refused("user.created", form, "admin/user_new.html", reason=reason)
        audit.record("user.created", target=user.email, commit=False,
                     details={"role": user.role, "passwordGenerated": chosen is None})
        db.session.commit()
        if chosen is None:
            return _show_once("admin/password_once.html", person=user, password=password,
                              created=True)
        flash(f"{user.email} can now sign in as {user.role}.", "success")
        return redirect(url_for("admin.users"))
    if form.is_submitted():
        return _refused("user.created", form, "admin/user_new.html")
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
    audit.record(action, outcome="refused", target=person.email, details=_refusal(form, reason))
    return _user_page(person, 400, error=reason, **forms)


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@admin_only
def user_role(user_id: int) -> ResponseReturnValue:
    person = db.get_or_404(User, user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _refused_on_user_page("user.role_changed", person, form, role_form=form)
    before = person.role
    try:
        people.change_role(person, form.role.data or "")
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
    if person.id == current_user.id and person.role != "admin":
        return redirect(url_for("console.generate" if person.role == "developer"
                                else "console.inspect"))
    return redirect(url_for("admin.user", user_id=person.id))


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
@admin_only
def disable_user(user_id: int) -> ResponseReturnValue:
    person = db.get_or_404(User, user_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return _refused_on_user_page("user.disabled", person, form)
    # The last admin hears the last-admin rule below; any other admin is kept from
    # locking themselves out by accident.
    if person.id == current_user.id and not people.is_last_admin(person):
        return _refused_on_user_page(
            "user.disabled", person, form,
            "You cannot disable your own account; ask another admin.")
    try:
        people.disable(person)
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
        people.enable(person)
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
        generated = people.reset_password(person, form.password.data or None)
    except AccountError as error:
        db.session.rollback()
        return _refused_on_user_page("user.password_reset", person, form, str(error),
                                     password_form=form)
    audit.record("user.password_reset", target=person.email, commit=False,
                 details={"passwordGenerated": generated is not None})
    db.session.commit()
    if generated is not None:
        return _show_once("admin/password_once.html", person=person, password=generated,
                          created=False)
    flash(f"{person.email} has a new password and was signed out everywhere.", "success")
    return redirect(url_for("admin.user", user_id=person.id))


# API clients -----------------------------------------------------------------------------------

@bp.route("/clients", endpoint="clients")
@admin_only
def clients_page() -> ResponseReturnValue:
    listed = db.session.execute(
        select(ApiClient).order_by(ApiClient.revoked_at.is_not(None), ApiClient.name)
    ).scalars().all()
    return render_template("admin/clients.html", api_clients=listed, action_form=ActionForm(),
                           format_lifetime=format_lifetime)


@bp.route("/clients/new", methods=["GET", "POST"])
@admin_only
def new_client() -> ResponseReturnValue:
    form = NewClientForm()
    if form.validate_on_submit():
        try:
            created, plaintext = clients.create_client(
                form.name.data or "", form.scopes.data or [], key_labels=form.keys.data or [],
                max_lifetime=form.max_lifetime.data or None, rate_limit=form.rate_limit.data)
        except (clients.ClientError, IntegrityError) as error:
            db.session.rollback()
            reason = str(error) if isinstance(error, clients.ClientError) else \
                "That name was taken a moment ago."
            form.form_errors.append(reason)
            return _refused("client.created", form, "admin/client_new.html", reason=reason)
        audit.record("client.created", target=created.name, commit=False,
                     details=clients.describe(created))
        db.session.commit()
        return _show_once("admin/client_created.html", api_client=created, client_key=plaintext)
    if form.is_submitted():
        return _refused("client.created", form, "admin/client_new.html")
    return render_template("admin/client_new.html", form=form)


@bp.route("/clients/<int:client_id>", methods=["GET", "POST"])
@admin_only
def edit_client(client_id: int) -> ResponseReturnValue:
    api_client = db.get_or_404(ApiClient, client_id)
    form = EditClientForm(data={
        "scopes": api_client.scopes, "keys": [key.label for key in api_client.keys],
        "max_lifetime": format_lifetime(api_client.max_lifetime) if api_client.max_lifetime
        else "", "rate_limit": api_client.rate_limit})
    context: dict[str, Any] = {"api_client": api_client, "action_form": ActionForm()}
    if form.validate_on_submit():
        before = clients.describe(api_client)
        try:
            clients.update_policy(api_client, form.scopes.data or [],
                                  key_labels=form.keys.data or [],
                                  max_lifetime=form.max_lifetime.data or None,
                                  rate_limit=form.rate_limit.data or "")
        except clients.ClientError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
            return _refused("client.updated", form, "admin/client_edit.html",
                            target=api_client.name, reason=str(error), **context)
        changes = audit.changes(before, clients.describe(api_client))
        if changes:
            audit.record("client.updated", target=api_client.name, details={"changes": changes},
                         commit=False)
            db.session.commit()
            flash(f"Client {api_client.name!r} saved: the change holds from its next request.",
                  "success")
        else:
            flash(f"Nothing to change in client {api_client.name!r}.", "info")
        return redirect(url_for("admin.clients"))
    if form.is_submitted():
        return _refused("client.updated", form, "admin/client_edit.html",
                        target=api_client.name, **context)
    return render_template("admin/client_edit.html", form=form, **context)


@bp.route("/clients/<int:client_id>/revoke", methods=["POST"])
@admin_only
def revoke_client(client_id: int) -> ResponseReturnValue:
    api_client = db.get_or_404(ApiClient, client_id)
    if not ActionForm().validate_on_submit():
        return render_template("errors/400.html"), 400
    if api_client.revoked_at is None:
        clients.revoke(api_client)
        audit.record("client.revoked", target=api_client.name, commit=False)
        db.session.commit()
        flash(f"Client {api_client.name!r} is revoked: its key stops working now.", "success")
    else:
        flash(f"Client {api_client.name!r} was revoked already.", "info")
    return redirect(url_for("admin.clients"))


# Audit trail -----------------------------------------------------------------------------------

def _audit_filter_form() -> AuditFilterForm:
    form = AuditFilterForm(formdata=request.args)
    form.action.choices = [SelectChoice("", "Any action"), *audit.ACTIONS]
    form.outcome.choices = [SelectChoice("", "Any outcome"), *audit.OUTCOMES]
    return form


@bp.route("/audit", endpoint="audit")
@admin_only
def audit_page() -> ResponseReturnValue:
    form = _audit_filter_form()
    if not form.validate():
        return render_template("admin/audit.html", form=form, pagination=None, chosen=None), 400
    chosen = _chosen(form)
    if request.args.get("format") == "csv":
        return _audit_csv(chosen)
    page = requested_page(request.args)
    pagination = paginate(trail.events_query(chosen), page, AUDIT_PAGE_SIZE)
    return render_template("admin/audit.html", form=form, pagination=pagination, chosen=chosen)


@bp.route("/audit.csv")
@admin_only
def audit_csv() -> ResponseReturnValue:
    form = _audit_filter_form()
    if not form.validate():
        return render_template("admin/audit.html", form=form, pagination=None, chosen=None), 400
    return _audit_csv(_chosen(form))


def _chosen(form: AuditFilterForm) -> trail.AuditFilter:
    return trail.AuditFilter(actor=form.actor.data or None, action=form.action.data or None,
                             outcome=form.outcome.data or None, since=form.since.data,
                             until=form.until.data)


def _audit_csv(chosen: trail.AuditFilter) -> Response:
    audit.record("audit.exported", details={"filters": chosen.as_query()})
    filename = f"audit-{utcnow().strftime('%Y%m%d-%H%M%S')}.csv"
    response = Response(stream_with_context(trail.csv_lines(chosen)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
