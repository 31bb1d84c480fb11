"""The audit trail: who did what, when, from where, with what outcome.

Callers pass only non-secret details (labels, claims, fingerprints); tokens,
secrets, passwords and Authorization headers never reach this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import Connection, insert

from webapp.extensions import db
from webapp.models import AuditEvent, utcnow

if TYPE_CHECKING:
    from typing_extensions import Unpack

# Every action the trail records and every outcome it gives them. The audit page's filter
# menus list these rather than asking a trail that grows with every mint for its distinct
# values (a full scan: 0.6 s at a million rows), and entry() records nothing else. When an
# action is renamed, keep the old name here too, so older lines stay findable.
ACTIONS = (
    "audit.exported",
    "auth.login",
    "auth.logout",
    "auth.password_changed",
    "client.created",
    "client.revoked",
    "client.updated",
    "key.created",
    "key.disabled",
    "key.enabled",
    "key.encryption_rotated",
    "key.secret_replaced",
    "key.updated",
    "token.inspected",
    "token.minted",
    "user.created",
    "user.disabled",
    "user.enabled",
    "user.password_reset",
    "user.role_changed",
    "user.unlocked",
    "videosdk.called",
)
OUTCOMES = ("success", "refused", "failure", "locked_out")
_KNOWN_ACTIONS = frozenset(ACTIONS)
_KNOWN_OUTCOMES = frozenset(OUTCOMES)
# Actors and targets may be what someone typed (an email that lower-casing lengthened, say):
# cut to their columns rather than fail the line, and with it the request, on PostgreSQL.
_ACTOR_LENGTH = AuditEvent.__table__.c.actor.type.length
_TARGET_LENGTH = AuditEvent.__table__.c.target.type.length
_ADDRESS_LENGTH = AuditEvent.__table__.c.address.type.length

_INSERT = insert(AuditEvent.__table__)


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What an edit changed, as the new values of the details that differ: an update's details."""
    return {name: after[name] for name in after if after[name] != before.get(name)}


def client_address() -> str | None:
    """The address of the current request's client, when there is a request, cut to the
    trail's address column (64 characters) like actors and targets: a proxy's header is
    what the client sent."""
    if not has_request_context() or request.remote_addr is None:
        return None
    return request.remote_addr[:_ADDRESS_LENGTH]


def current_actor() -> tuple[str, str]:
    """The signed-in person as (actor, kind), or the command line outside requests."""
    if not has_request_context():
        return "cli", "cli"
    if current_user.is_authenticated:
        return current_user.email, "person"
    return "anonymous", "anonymous"


def entry(
    action: str,
    *,
    outcome: str = "success",
    target: str | None = None,
    details: dict[str, Any] | None = None,
    actor: str | None = None,
    actor_kind: str | None = None,
) -> dict[str, Any]:
    """The column values of one audit event, the current actor and address filled in.

    Raises ValueError for an action or outcome outside ACTIONS and OUTCOMES: the filter menus
    could never find such a line.
    """
    if action not in _KNOWN_ACTIONS or outcome not in _KNOWN_OUTCOMES:
        raise ValueError(f"not an audit action and outcome of this trail: {action!r}, "
                         f"{outcome!r} (see audit.ACTIONS and audit.OUTCOMES)")
    if not (actor and actor_kind):
        # Only when the caller did not say who acted: this may load the signed-in person.
        default_actor, default_kind = current_actor()
        actor, actor_kind = actor or default_actor, actor_kind or default_kind
    return {
        "at": utcnow(),
        "actor": actor[:_ACTOR_LENGTH],
        "actor_kind": actor_kind,
        "action": action,
        "target": target[:_TARGET_LENGTH] if target is not None else None,
        "outcome": outcome,
        "address": client_address(),
        "details": details or {},
    }


def append(connection: Connection, values: dict[str, Any]) -> None:
    """Insert an :func:`entry` in the caller's transaction, without the ORM's unit of work.

    The hot path (minting) uses this; the row is committed with the caller's other writes.
    """
    connection.execute(_INSERT, values)


class EventFields(TypedDict, total=False):
    """What an event says beyond its action: the keyword arguments of :func:`entry`."""

    outcome: str
    target: str | None
    details: dict[str, Any] | None
    actor: str | None
    actor_kind: str | None


def record(action: str, *, commit: bool = True, **fields: Unpack[EventFields]) -> AuditEvent:
    """Append one event to the audit trail (committed unless ``commit`` is False).

    ``fields`` and the ValueError for an unknown action or outcome are :func:`entry`'s.
    """
    event = AuditEvent(**entry(action, **fields))
    db.session.add(event)
    if commit:
        db.session.commit()
    return event
