"""Admin pages for VideoSDK key pairs (SPEC 4 `/admin/keys`)."""

from __future__ import annotations

from typing import Any

from flask import (
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError

from webapp.admin import bp
from webapp.admin.common import admin_only, refused
from webapp.admin.confirmations import Confirmation, confirmation_page
from webapp.admin.forms import (
    ActionForm,
    EditKeyForm,
    NewKeyForm,
)
from webapp.extensions import db
from webapp.models import VideoSDKKey
from webapp.services import audit, videosdk_keys
from webapp.tokens import format_lifetime


def _policy_details(key: VideoSDKKey) -> dict[str, Any]:
    return {"maxLifetime": format_lifetime(key.max_lifetime),
            "permissions": list(key.allowed_permissions), "roles": list(key.allowed_roles)}


@bp.route("/keys")
@admin_only
def keys() -> ResponseReturnValue:
    stored = videosdk_keys.all_keys()
    if request.args.get("format") == "json":
        response = jsonify({"keys": [videosdk_keys.describe(key) for key in stored]})
        response.headers["Cache-Control"] = "no-store"
        return response
    return render_template("admin/keys.html", keys=stored, action_form=ActionForm(),
                           describe=videosdk_keys.describe)


@bp.route("/keys/new", methods=["GET", "POST"])
@admin_only
def new_key() -> ResponseReturnValue:
    form = NewKeyForm()
    if form.validate_on_submit():
        try:
            key = videosdk_keys.add_key(form.label.data or "", form.apikey.data or "",
                                  form.secret.data or "", max_lifetime=form.max_lifetime.data,
                                  permissions=form.permissions.data, roles=form.roles.data)
        except (videosdk_keys.KeyringError, IntegrityError) as error:
            db.session.rollback()
            reason = str(error) if isinstance(error, videosdk_keys.KeyringError) else \
                "That label or API key was stored a moment ago; choose another."
            form.form_errors.append(reason)
            return refused("key.created", form, "admin/key_new.html", reason=reason)
        audit.record("key.created", target=key.label, commit=False,
                     details={"apikey": key.apikey, **_policy_details(key)})
        db.session.commit()
        # Not even the last 4 characters in the flash: it rides in the session cookie.
        flash(f"Key {key.label!r} added. Its secret is stored encrypted; from now on only its "
              "last 4 characters are shown.", "success")
        return redirect(url_for("admin.keys"))
    if form.is_submitted():
        return refused("key.created", form, "admin/key_new.html")
    return render_template("admin/key_new.html", form=form)


@bp.route("/keys/<int:key_id>", methods=["GET", "POST"])
@admin_only
def edit_key(key_id: int) -> ResponseReturnValue:
    key = db.get_or_404(VideoSDKKey, key_id)
    form = EditKeyForm(data={"max_lifetime": format_lifetime(key.max_lifetime),
                             "permissions": key.allowed_permissions,
                             "roles": key.allowed_roles})
    context: dict[str, Any] = {"key": key, "action_form": ActionForm(),
                               "replacements": videosdk_keys.replacements(key),
                               "retention_days": videosdk_keys.REPLACED_SECRET_RETENTION.days}
    if form.validate_on_submit():
        before = _policy_details(key)
        try:
            videosdk_keys.update_policy(key, max_lifetime=form.max_lifetime.data or "",
                                  permissions=form.permissions.data or [],
                                  roles=form.roles.data or [])
            if form.new_secret.data:
                videosdk_keys.replace_secret(key, form.new_secret.data)
        except videosdk_keys.KeyringError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
            return refused("key.updated", form, "admin/key_edit.html", target=key.label,
                            reason=str(error), **context)
        changes = audit.changes(before, _policy_details(key))
        if changes:
            audit.record("key.updated", target=key.label, details={"changes": changes},
                         commit=False)
        db.session.commit()
        if changes or form.new_secret.data:
            flash(f"Key {key.label!r} saved.", "success")
        else:
            flash(f"Nothing to change in key {key.label!r}.", "info")
        return redirect(url_for("admin.keys"))
    if form.is_submitted():
        return refused("key.updated", form, "admin/key_edit.html", target=key.label, **context)
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


@bp.route("/keys/<int:key_id>/disable", methods=["GET", "POST"])
@admin_only
def disable_key(key_id: int) -> ResponseReturnValue:
    """GET: the page asking to confirm, naming the key; POST: disable it (SPEC 4)."""
    if request.method != "POST":  # GET, and HEAD (link prefetchers) which must not act
        key = db.get_or_404(VideoSDKKey, key_id)
        return confirmation_page(Confirmation(
            title="Disable this VideoSDK key?", subject=f"{key.label} ({key.apikey})",
            subject_kind="VideoSDK key",
            consequences=("Nobody can sign a token with it here any more: not the generator, "
                          "not an API client, not the command line.",
                          "Tokens it signed before keep working at VideoSDK until they expire.",
                          "You can enable it again from its page."),
            button=f"Disable {key.label}", action_url=request.path,
            cancel_url=url_for("admin.edit_key", key_id=key.id)))
    return _set_key_disabled(key_id, True)


@bp.route("/keys/<int:key_id>/enable", methods=["POST"])
@admin_only
def enable_key(key_id: int) -> ResponseReturnValue:
    return _set_key_disabled(key_id, False)
