"""Admin pages for VideoSDK key pairs (SPEC 4 `/admin/keys`)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue

from webapp.admin import bp
from webapp.admin.common import Done, admin_only, bad_request, form_page, submit
from webapp.admin.confirmations import Confirmation, asks_first
from webapp.admin.forms import ActionForm, EditKeyForm, NewKeyForm
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

    def add() -> Done:
        key = videosdk_keys.add_key(form.label.data or "", form.apikey.data or "",
                                    form.secret.data or "", max_lifetime=form.max_lifetime.data,
                                    permissions=form.permissions.data, roles=form.roles.data)
        audit.record("key.created", target=key.label, commit=False,
                     details={"apikey": key.apikey, **_policy_details(key)})
        # Not even the last 4 characters in the flash: it rides in the session cookie.
        return Done(f"Key {key.label!r} added. Its secret is stored encrypted; from now on only "
                    "its last 4 characters are shown.", url_for("admin.keys"))

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

    def save() -> Done:
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
            return Done(f"Key {key.label!r} saved.", url_for("admin.keys"))
        return Done(f"Nothing to change in key {key.label!r}.", url_for("admin.keys"), "info")

    return form_page("key.updated", form, "admin/key_edit.html", save, target=key.label,
                     errors=(videosdk_keys.KeyringError,), key=key, action_form=ActionForm(),
                     replacements=videosdk_keys.replacements(key),
                     retention_days=videosdk_keys.REPLACED_SECRET_RETENTION.days)


def _set_key_disabled(key_id: int, disabled: bool) -> ResponseReturnValue:
    key = db.get_or_404(VideoSDKKey, key_id)

    def switch() -> Done:
        if key.disabled != disabled:
            key.disabled = disabled
            audit.record("key.disabled" if disabled else "key.enabled", target=key.label,
                         commit=False)
        state = "disabled: it no longer signs tokens here" if disabled else "enabled"
        return Done(f"Key {key.label!r} is {state}.", url_for("admin.keys"))

    return submit(ActionForm(), switch, bad_request)


def _disable_question(key_id: int) -> Confirmation:
    key = db.get_or_404(VideoSDKKey, key_id)
    return Confirmation(
        title="Disable this VideoSDK key?", subject=f"{key.label} ({key.apikey})",
        subject_kind="VideoSDK key",
        consequences=("Nobody can sign a token with it here any more: not the generator, "
                      "not an API client, not the command line.",
                      "Tokens it signed before keep working at VideoSDK until they expire.",
                      "You can enable it again from its page."),
        button=f"Disable {key.label}", cancel_url=url_for("admin.edit_key", key_id=key.id))


@bp.route("/keys/<int:key_id>/disable", methods=["GET", "POST"])
@admin_only
@asks_first(_disable_question)
def disable_key(key_id: int) -> ResponseReturnValue:
    """Disable a key (SPEC 4): nothing signs with it here any more."""
    return _set_key_disabled(key_id, True)


@bp.route("/keys/<int:key_id>/enable", methods=["POST"])
@admin_only
def enable_key(key_id: int) -> ResponseReturnValue:
    return _set_key_disabled(key_id, False)
