"""Admin pages for API clients (SPEC 4 `/admin/clients`)."""

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
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.admin import bp, client_examples
from webapp.admin.common import admin_only, refused, show_once
from webapp.admin.confirmations import Confirmation, confirmation_page
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
    if form.validate_on_submit():
        try:
            created, plaintext = api_clients.create_client(
                form.name.data or "", form.scopes.data or [], key_labels=form.keys.data or [],
                max_lifetime=form.max_lifetime.data or None, rate_limit=form.rate_limit.data)
        except (api_clients.ClientError, IntegrityError) as error:
            db.session.rollback()
            reason = str(error) if isinstance(error, api_clients.ClientError) else \
                "That name was taken a moment ago."
            form.form_errors.append(reason)
            return refused("client.created", form, "admin/client_new.html", reason=reason)
        audit.record("client.created", target=created.name, commit=False,
                     details=api_clients.describe(created))
        db.session.commit()
        return show_once("admin/client_created.html", api_client=created, client_key=plaintext,
                         examples=client_examples.examples(created, plaintext, request.url_root))
    if form.is_submitted():
        return refused("client.created", form, "admin/client_new.html")
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
        before = api_clients.describe(api_client)
        try:
            api_clients.update_policy(api_client, form.scopes.data or [],
                                  key_labels=form.keys.data or [],
                                  max_lifetime=form.max_lifetime.data or None,
                                  rate_limit=form.rate_limit.data or "")
        except api_clients.ClientError as error:
            db.session.rollback()
            form.form_errors.append(str(error))
            return refused("client.updated", form, "admin/client_edit.html",
                            target=api_client.name, reason=str(error), **context)
        changes = audit.changes(before, api_clients.describe(api_client))
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
        return refused("client.updated", form, "admin/client_edit.html",
                        target=api_client.name, **context)
    return render_template("admin/client_edit.html", form=form, **context)


@bp.route("/clients/<int:client_id>/revoke", methods=["GET", "POST"])
@admin_only
def revoke_client(client_id: int) -> ResponseReturnValue:
    """GET: the page asking to confirm, naming the client; POST: revoke it (SPEC 4)."""
    api_client = db.get_or_404(ApiClient, client_id)
    if request.method != "POST":  # GET, and HEAD (link prefetchers) which must not act
        return confirmation_page(Confirmation(
            title="Revoke this API client?", subject=api_client.name, subject_kind="API client",
            consequences=("Its client key stops working at its next request.",
                          "This cannot be undone: to give the backend access again, create a "
                          "new client and send it the new key."),
            button=f"Revoke {api_client.name}", action_url=request.path,
            cancel_url=url_for("admin.clients")))
    if not ActionForm().validate_on_submit():
        return render_template("errors/400.html"), 400
    if api_client.revoked_at is None:
        api_clients.revoke(api_client)
        audit.record("client.revoked", target=api_client.name, commit=False)
        db.session.commit()
        flash(f"Client {api_client.name!r} is revoked: its key stops working now.", "success")
    else:
        flash(f"Client {api_client.name!r} was revoked already.", "info")
    return redirect(url_for("admin.clients"))
