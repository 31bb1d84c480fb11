"""Confirmation pages for the actions that cannot be undone or lock someone out (SPEC 4).

Revoking a client, disabling a key or a person, demoting an admin: a GET of the action's
URL (or, for a demotion, the role form without `confirmed`) answers a page that names what
the action acts on and what follows; only its POST, with the CSRF token, performs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask import render_template
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
    action_url: str
    cancel_url: str
    fields: Mapping[str, str] = field(default_factory=dict)  # hidden fields re-posted


def confirmation_page(confirmation: Confirmation) -> ResponseReturnValue:
    """The page that asks before acting; its form POSTs to `confirmation.action_url`."""
    return render_template("admin/confirm.html", confirmation=confirmation,
                           action_form=ActionForm(formdata=None), confirmed=CONFIRMED)
