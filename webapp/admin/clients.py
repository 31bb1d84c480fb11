"""Admin pages for API clients (SPEC 4 `/admin/clients`)."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from webapp.admin import bp, client_examples
from webapp.admin.common import Done, admin_only, bad_request, form_page, show_once, submit
from webapp.admin.confirmations import Confirmation, asks_first
from webapp.admin.forms import ActionForm, EditClientForm, NewClientForm
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
        return show_once("admin/client_created.html", api_client=created, client_key=plaintext,
                         examples=client_examples.examples(created, plaintext, request.url_root))

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

    def save() -> Done:
        before = api_clients.describe(api_client)
        api_clients.update_policy(api_client, form.scopes.data or [],
                                  key_labels=form.keys.data or [],
                                  max_lifetime=form.max_lifetime.data or None,
                                  rate_limit=form.rate_limit.data or "")
        changes = audit.changes(before, api_clients.describe(api_client))
        if not changes:
            return Done(f"Nothing to change in client {api_client.name!r}.",
                        url_for("admin.clients"), "info")
        audit.record("client.updated", target=api_client.name, details={"changes": changes},
                     commit=False)
        return Done(f"Client {api_client.name!r} saved: the change holds from its next request.",
                    url_for("admin.clients"))

    return form_page("client.updated", form, "admin/client_edit.html", save,
                     target=api_client.name, errors=(api_clients.ClientError,),
                     api_client=api_client, action_form=ActionForm())


def _revoke_question(client_id: int) -> Confirmation:
    api_client = db.get_or_404(ApiClient, client_id)
    return Confirmation(
        title="Revoke this API client?", subject=api_client.name, subject_kind="API client",
        consequences=("Its client key stops working at its next request.",
                      "This cannot be undone: to give the backend access again, create a "
                      "new client and send it the new key."),
        button=f"Revoke {api_client.name}", cancel_url=url_for("admin.clients"))


@bp.route("/clients/<int:client_id>/revoke", methods=["GET", "POST"])
@admin_only
@asks_first(_revoke_question)
def revoke_client(client_id: int) -> ResponseReturnValue:
    """Revoke an API client (SPEC 4): its key stops working at its next request."""
    api_client = db.get_or_404(ApiClient, client_id)

    def revoke() -> Done:
        if api_client.revoked_at is not None:
            return Done(f"Client {api_client.name!r} was revoked already.",
                        url_for("admin.clients"), "info")
        api_clients.revoke(api_client)
        audit.record("client.revoked", target=api_client.name, commit=False)
        return Done(f"Client {api_client.name!r} is revoked: its key stops working now.",
                    url_for("admin.clients"))

    return submit(ActionForm(), revoke, bad_request)
