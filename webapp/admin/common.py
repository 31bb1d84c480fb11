"""What every admin page shares: the admin-only guard, the one way a change is made,
refusals audited and answered 400, and pages that show a secret once (never cached).

Every change is audited (who, what, outcome); a refused POST answers 400 with the
form and its errors, a successful one redirects with a flash, except the pages
that show a client key or generated password once, which answer the POST itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import (
    Response,
    flash,
    make_response,
    redirect,
    render_template,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField, StringField

from webapp.extensions import db
from webapp.models import UserRole
from webapp.services import audit
from webapp.services.authorization import roles_required

admin_only = roles_required(UserRole.ADMIN)


@dataclass(frozen=True)
class Done:
    """A change that went through: once committed, ``message`` is flashed (Bootstrap alert
    ``category``: "success", "info") and the browser is redirected to ``url``."""

    message: str
    url: str
    category: str = "success"


# What a change answers: a Done, or a page of its own (a secret shown once, a question).
Change = Callable[[], ResponseReturnValue | Done]
# Answers a refused change, given the reason (None: the form itself did not validate).
Refuse = Callable[[str | None], ResponseReturnValue]


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


def submit(form: FlaskForm, change: Change, refuse: Refuse, *,
           errors: tuple[type[ValueError], ...] = (),
           taken: str | None = None) -> ResponseReturnValue:
    """The one way an admin page changes something: validate, call, audit, commit, answer.

    ``change`` calls the service, records its audit lines (``commit=False``) and returns the
    answer: a :class:`Done` (flashed and redirected to once committed), or a page of its own
    (shown once, or a question asked first). Whatever it did is committed in one transaction
    before that answer goes out. A form that does not validate answers
    ``refuse(None)``; one of ``errors`` raised by ``change`` rolls back and answers
    ``refuse(its message)``; with ``taken``, so does an IntegrityError (a unique value stored
    by a concurrent request a moment ago), whose reason is ``taken``.
    """
    if not form.validate_on_submit():
        return refuse(None)
    caught: tuple[type[Exception], ...] = (*errors, IntegrityError) if taken else errors
    try:
        answer = change()
    except caught as error:
        db.session.rollback()
        return refuse(taken if isinstance(error, IntegrityError) else str(error))
    db.session.commit()
    if isinstance(answer, Done):
        flash(answer.message, answer.category)
        return redirect(answer.url)
    return answer


def form_page(action: str, form: FlaskForm, template: str,
              change: Change, *, target: str | None = None,
              errors: tuple[type[ValueError], ...] = (), taken: str | None = None,
              **context: Any) -> ResponseReturnValue:
    """A page with one form: shown on GET, :func:`submit` on POST.

    A refusal is audited as ``action`` (outcome refused) and shows the form again, 400, its
    reason among the form's errors.
    """
    if not form.is_submitted():
        return render_template(template, form=form, **context)

    def refuse(reason: str | None) -> ResponseReturnValue:
        if reason:
            form.form_errors.append(reason)
        return refused(action, form, template, target=target, reason=reason, **context)

    return submit(form, change, refuse, errors=errors, taken=taken)


def bad_request(_: str | None) -> ResponseReturnValue:
    """The refusal of a one-button action whose form (its CSRF token) did not validate."""
    return render_template("errors/400.html"), 400


def show_once(template: str, **context: Any) -> Response:
    """A page that carries a secret shown once: the direct answer to the POST, never cached."""
    response = make_response(render_template(template, **context))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
