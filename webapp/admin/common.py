"""What every admin page shares: the admin-only guard, refusals audited and answered 400,
and pages that show a secret once (never cached).

Every change is audited (who, what, outcome); a refused POST answers 400 with the
form and its errors, a successful one redirects with a flash, except the pages
that show a client key or generated password once, which answer the POST itself.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    make_response,
    render_template,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField

from webapp.services import audit
from webapp.services.authorization import roles_required

admin_only = roles_required("admin")


def refusal_details(form: FlaskForm, reason: str | None) -> dict[str, Any]:
    # Field names and our own message only: what was typed may be a misplaced secret.
    details: dict[str, Any] = {"fields": sorted(name for name in form.errors if name)}
    if reason:
        details["reason"] = reason
    return details


def nothing_typed(form: FlaskForm) -> bool:
    """Whether a form has text boxes and every one of them came empty (choices aside)."""
    boxes = [f for f in form if isinstance(f, StringField) and not isinstance(f, HiddenField)]
    return bool(boxes) and all(not (f.data or "").strip() for f in boxes)


def refused(action: str, form: FlaskForm, template: str, *, target: str | None = None,
             reason: str | None = None, **context: Any) -> ResponseReturnValue:
    """Audit a refused change and answer 400 with the form and its errors.

    A form sent with every text box empty changes nothing and tells nothing: it is answered
    the same, but is not an event of the trail (issue 19).
    """
    if not nothing_typed(form):
        audit.record(action, outcome="refused", target=target,
                     details=refusal_details(form, reason))
    return render_template(template, form=form, **context), 400


def show_once(template: str, **context: Any) -> Response:
    """A page that carries a secret shown once: the direct answer to the POST, never cached."""
    response = make_response(render_template(template, **context))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
