"""Confirmation pages for the actions that cannot be undone or lock someone out (SPEC 4).

Revoking a client, disabling a key or a person, demoting an admin: a GET of the action's
URL (or, for a demotion, the role form without `confirmed`) answers a page that names what
the action acts on and what follows; only its POST, with the CSRF token, performs it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue

from webapp.admin.forms import ActionForm

CONFIRMED = "confirmed"  # the hidden field a confirmation page adds to a form it re-posts


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation page says: the question, its subject, what follows, the button."""

    title: str  # "Revoke API client?"
    subject: str  # the name of what the action acts on: "meetings-backend"
    subject_kind: str  # "API client", "VideoSDK key", "person"
    consequences: tuple[str, ...]
    button: str  # "Revoke meetings-backend"
    cancel_url: str
    fields: Mapping[str, str] = field(default_factory=dict)  # hidden fields re-posted
    # Where the confirmed form POSTs: the URL that asked (the action's own), by default.
    action_url: str = field(default_factory=lambda: request.path)


def confirmation_page(confirmation: Confirmation) -> ResponseReturnValue:
    """The page that asks before acting; its form POSTs to `confirmation.action_url`."""
    return render_template("admin/confirm.html", confirmation=confirmation,
                           action_form=ActionForm(formdata=None), confirmed=CONFIRMED)


View = Callable[..., ResponseReturnValue]


def asks_first(question: Callable[..., Confirmation]) -> Callable[[View], View]:
    """Decorate the view of such an action: a GET of its URL, and a HEAD (link prefetchers),
    which must not act, answer the page asking ``question(**view_args)``; only a POST (its
    form carrying the CSRF token) reaches the view itself."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def asking_first(**view_args: Any) -> ResponseReturnValue:
            if request.method != "POST":
                return confirmation_page(question(**view_args))
            return view(**view_args)

        return asking_first

    return decorate
