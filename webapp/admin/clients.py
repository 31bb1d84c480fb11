"""Admin pages for API clients (SPEC 4 `/admin/clients`)."""

from __future__ import annotations

from flask import (
    flash,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from webapp.admin import bp
from webapp.admin.common import admin_only, bad_request, form_page, show_once, submit
from webapp.admin.forms import (
    ActionForm,
    EditClientForm,
    NewClientForm,
)
from webapp.extensions import db
from webapp.models import ApiClient
from webapp.services import api_clients, audit
from webapp.tokens import format_lifetime


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

    def create() -> ResponseReturnValue:
        created, plaintext = api_clients.create_client(
            form.name.data or "", form.scopes.data or [], key_labels=form.keys.data or [],
            max_lifetime=form.max_lifetime.data or None, rate_limit=form.rate_limit.data)
        audit.record("client.created", target=created.name, commit=False,
                     details=api_clients.describe(created))
        return show_once("admin/client_created.html", api_client=created, client_key=plaintext)

    return form_page("client.created", form, "admin/client_new.html", create,
                     errors=(api_clients.ClientError,), taken="That name was taken a moment ago.")


@bp.route("/clients/<int:client_id>", methods=["GET", "POST"])
@admin_only
def edit_client(client_id: int) -> ResponseReturnValue:
    api_client = db.get_or_404(ApiClient, client_id)
    form = EditClientForm(data={
        "scopes": api_client.scopes, "keys": [key.label for key in api_client.keys],
        "max_lifetime": format_lifetime(api_client.max_lifetime) if api_client.max_lifetime
        else "", "rate_limit": api_client.rate_limit})

    def save() -> ResponseReturnValue:
        before = api_clients.describe(api_client)
        api_clients.update_policy(api_client, form.scopes.data or [],
                                  key_labels=form.keys.data or [],
                                  max_lifetime=form.max_lifetime.data or None,
                                  rate_limit=form.rate_limit.data or "")
        changes = audit.changes(before, api_clients.describe(api_client))
        if changes:
            audit.record("client.updated", target=api_client.name, details={"changes": changes},
                         commit=False)
            flash(f"Client {api_client.name!r} saved: the change holds from its next request.",
                  "success")
        else:
            flash(f"Nothing to change in client {api_client.name!r}.", "info")
        return redirect(url_for("admin.clients"))

    return form_page("client.updated", form, "admin/client_edit.html", save,
                     target=api_client.name, errors=(api_clients.ClientError,),
                     api_client=api_client, action_form=ActionForm())


@bp.route("/clients/<int:client_id>/revoke", methods=["POST"])
@admin_only
def revoke_client(client_id: int) -> ResponseReturnValue:
    api_client = db.get_or_404(ApiClient, client_id)

    def revoke() -> ResponseReturnValue:
        if api_client.revoked_at is None:
            api_clients.revoke(api_client)
            audit.record("client.revoked", target=api_client.name, commit=False)
            flash(f"Client {api_client.name!r} is revoked: its key stops working now.",
                  "success")
        else:
            flash(f"Client {api_client.name!r} was revoked already.", "info")
        return redirect(url_for("admin.clients"))

    return submit(ActionForm(), revoke, bad_request)
