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

from webapp.admin import bp
from webapp.admin.common import admin_only, bad_request, form_page, submit
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

    def add() -> ResponseReturnValue:
        key = videosdk_keys.add_key(form.label.data or "", form.apikey.data or "",
                                    form.secret.data or "", max_lifetime=form.max_lifetime.data,
                                    permissions=form.permissions.data, roles=form.roles.data)
        audit.record("key.created", target=key.label, commit=False,
                     details={"apikey": key.apikey, **_policy_details(key)})
        # Not even the last 4 characters in the flash: it rides in the session cookie.
        flash(f"Key {key.label!r} added. Its secret is stored encrypted; from now on only its "
              "last 4 characters are shown.", "success")
        return redirect(url_for("admin.keys"))

    return form_page("key.created", form, "admin/key_new.html", add,
                     errors=(videosdk_keys.KeyringError,),
                     taken="That label or API key was stored a moment ago; choose another.")


@bp.route("/keys/<int:key_id>", methods=["GET", "POST"])
@admin_only
def edit_key(key_id: int) -> ResponseReturnValue:
    key = db.get_or_404(VideoSDKKey, key_id)
    form = EditKeyForm(data={"max_lifetime": format_lifetime(key.max_lifetime),
                             "permissions": key.allowed_permissions,
                             "roles": key.allowed_roles})

    def save() -> ResponseReturnValue:
        before = _policy_details(key)
        videosdk_keys.update_policy(key, max_lifetime=form.max_lifetime.data or "",
                                    permissions=form.permissions.data or [],
                                    roles=form.roles.data or [])
        if form.new_secret.data:
            videosdk_keys.replace_secret(key, form.new_secret.data)
        changes = audit.changes(before, _policy_details(key))
        if changes:
            audit.record("key.updated", target=key.label, details={"changes": changes},
                         commit=False)
        if changes or form.new_secret.data:
            flash(f"Key {key.label!r} saved.", "success")
        else:
            flash(f"Nothing to change in key {key.label!r}.", "info")
        return redirect(url_for("admin.keys"))

    return form_page("key.updated", form, "admin/key_edit.html", save, target=key.label,
                     errors=(videosdk_keys.KeyringError,), key=key, action_form=ActionForm(),
                     replacements=videosdk_keys.replacements(key),
                     retention_days=videosdk_keys.REPLACED_SECRET_RETENTION.days)


def _set_key_disabled(key_id: int, disabled: bool) -> ResponseReturnValue:
    key = db.get_or_404(VideoSDKKey, key_id)

    def switch() -> ResponseReturnValue:
        if key.disabled != disabled:
            key.disabled = disabled
            audit.record("key.disabled" if disabled else "key.enabled", target=key.label,
                         commit=False)
        state = "disabled: it no longer signs tokens here" if disabled else "enabled"
        flash(f"Key {key.label!r} is {state}.", "success")
        return redirect(url_for("admin.keys"))

    return submit(ActionForm(), switch, bad_request)


@bp.route("/keys/<int:key_id>/disable", methods=["POST"])
@admin_only
def disable_key(key_id: int) -> ResponseReturnValue:
    return _set_key_disabled(key_id, True)


@bp.route("/keys/<int:key_id>/enable", methods=["POST"])
@admin_only
def enable_key(key_id: int) -> ResponseReturnValue:
    return _set_key_disabled(key_id, False)
