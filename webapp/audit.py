"""The audit trail: who did what, when, from where, with what outcome.

Callers pass only non-secret details (labels, claims, fingerprints); tokens,
secrets, passwords and Authorization headers never reach this module.
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from .extensions import db
from .models import AuditEvent, utcnow


def client_address() -> str | None:
    """The address of the current request's client, when there is a request."""
    if not has_request_context():
        return None
    return request.remote_addr


def current_actor() -> tuple[str, str]:
    """The signed-in person as (actor, kind), or the command line outside requests."""
    if not has_request_context():
        return "cli", "cli"
    if current_user.is_authenticated:
        return current_user.email, "person"
    return "anonymous", "anonymous"


def record(
    action: str,
    *,
    outcome: str = "success",
    target: str | None = None,
    details: dict[str, Any] | None = None,
    actor: str | None = None,
    actor_kind: str | None = None,
    commit: bool = True,
) -> AuditEvent:
    """Append one event to the audit trail (committed unless ``commit`` is False)."""
    default_actor, default_kind = current_actor()
    event = AuditEvent(
        at=utcnow(),
        actor=actor or default_actor,
        actor_kind=actor_kind or default_kind,
        action=action,
        target=target,
        outcome=outcome,
        address=client_address(),
        details=details or {},
    )
    db.session.add(event)
    if commit:
        db.session.commit()
    return event
