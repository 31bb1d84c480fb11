"""Reading the audit trail: filters, pages and the CSV export. Nothing here writes to it.

The trail is kept in two tables (migration 0006): every event in ``audit_events``, except a
successful mint's line, which is its issued-token row (one row per mint instead of two:
``services.issuance.issue``). A row of ``issued_tokens`` with a ``via`` is such a line; rows
from before 0006 have none, and their lines are in ``audit_events``. The queries here read
both as one trail of :class:`TrailLine`, newest first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    CompoundSelect,
    Row,
    Select,
    String,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)

from webapp.extensions import db
from webapp.models import AuditEvent, IssuedToken
from webapp.services.issuance import issuer_kind, mint_details
from webapp.services.spreadsheets import csv_line
from webapp.web.pagination import within_days

CSV_COLUMNS = ("at", "actor", "actor_kind", "action", "target", "outcome", "address", "details")
MINTED = "token.minted"

_EVENTS = AuditEvent.__table__
_ISSUED = IssuedToken.__table__


@dataclass(frozen=True)
class TrailLine:
    """One line of the audit trail, wherever it is kept; the attributes of an AuditEvent."""

    at: datetime
    actor: str
    actor_kind: str
    action: str
    target: str | None
    outcome: str
    address: str | None
    details: dict[str, Any]

    @classmethod
    def from_row(cls, row: Row[Any]) -> TrailLine:
        """The line of a row of :func:`trail_query` (an audit event or an issued token)."""
        if row.via is None:
            return cls(row.at, row.actor, row.actor_kind, row.action, row.target, row.outcome,
                       row.address, row.details or {})
        return cls(row.at, row.actor, issuer_kind(row.actor), MINTED, row.target, "success",
                   row.address, mint_details(row.via, row.target, row.claims, row.fingerprint,
                                             row.expires_at))


@dataclass(frozen=True)
class AuditFilter:
    """Which events to show; every part is optional and they combine with AND."""

    actor: str | None = None
    action: str | None = None
    outcome: str | None = None
    since: date | None = None
    until: date | None = None

    def as_query(self) -> dict[str, str]:
        """The filter as query-string parameters (for links to other pages and the CSV)."""
        values = {"actor": self.actor, "action": self.action, "outcome": self.outcome,
                  "since": self.since.isoformat() if self.since else None,
                  "until": self.until.isoformat() if self.until else None}
        return {name: value for name, value in values.items() if value}


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _events(*conditions: ColumnElement[bool]) -> Select[Any]:
    """The lines kept in audit_events, in the columns of :func:`trail_query`."""
    return select(
        _EVENTS.c.id, _EVENTS.c.at, _EVENTS.c.actor, _EVENTS.c.actor_kind, _EVENTS.c.action,
        _EVENTS.c.target, _EVENTS.c.outcome, _EVENTS.c.address, _EVENTS.c.details,
        type_coerce(null(), String).label("via"), type_coerce(null(), JSON).label("claims"),
        type_coerce(null(), String).label("fingerprint"),
        type_coerce(null(), _ISSUED.c.expires_at.type).label("expires_at"),
    ).where(*conditions)


def _mints(*conditions: ColumnElement[bool]) -> Select[Any]:
    """The mint lines kept on issued-token rows, in the same columns."""
    return select(
        _ISSUED.c.id, _ISSUED.c.issued_at.label("at"), _ISSUED.c.issuer.label("actor"),
        type_coerce(null(), String).label("actor_kind"), literal(MINTED).label("action"),
        _ISSUED.c.key_label.label("target"), literal("success").label("outcome"),
        _ISSUED.c.address, type_coerce(null(), JSON).label("details"), _ISSUED.c.via,
        _ISSUED.c.claims, _ISSUED.c.fingerprint, _ISSUED.c.expires_at,
    ).where(_ISSUED.c.via.is_not(None), *conditions)


def trail_query(chosen: AuditFilter) -> CompoundSelect[Any]:
    """The lines matching ``chosen``, newest first: rows for :meth:`TrailLine.from_row`.

    The mint lines' arm is left out when the filter excludes successful mints, so that such a
    query is the one audit_events alone would need.
    """
    events: list[ColumnElement[bool]] = []
    mints: list[ColumnElement[bool]] = []
    if chosen.actor:
        pattern = _like_pattern(chosen.actor)
        events.append(_EVENTS.c.actor.ilike(pattern, escape="\\"))
        mints.append(_ISSUED.c.issuer.ilike(pattern, escape="\\"))
    if chosen.action:
        events.append(_EVENTS.c.action == chosen.action)
    if chosen.outcome:
        events.append(_EVENTS.c.outcome == chosen.outcome)
    events += within_days(_EVENTS.c.at, chosen.since, chosen.until)
    mints += within_days(_ISSUED.c.issued_at, chosen.since, chosen.until)
    with_mints = chosen.action in (None, "", MINTED) and chosen.outcome in (None, "", "success")
    trail = union_all(_events(*events), *([_mints(*mints)] if with_mints else []))
    return trail.order_by(trail.selected_columns.at.desc(), trail.selected_columns.id.desc())


# The actions whose lines name a token by its fingerprint.
TOKEN_ACTIONS = (MINTED, "token.inspected")


def token_lines(fingerprint: str, *, actor: str | None = None, since: datetime | None = None,
                limit: int) -> list[TrailLine]:
    """The lines naming the token with this fingerprint (minted, inspected), oldest first, at
    most ``limit``; only ``actor``'s when given, only from ``since`` on when given."""
    events = [_EVENTS.c.action.in_(TOKEN_ACTIONS),
              _EVENTS.c.details["fingerprint"].as_string() == fingerprint]
    mints = [_ISSUED.c.fingerprint == fingerprint]
    if since is not None:
        events.append(_EVENTS.c.at >= since)
    if actor is not None:
        events.append(_EVENTS.c.actor == actor)
        mints.append(_ISSUED.c.issuer == actor)
    trail = union_all(_events(*events), _mints(*mints))
    query = trail.order_by(trail.selected_columns.at, trail.selected_columns.id).limit(limit)
    return [TrailLine.from_row(row) for row in db.session.execute(query)]


def _row(line: TrailLine) -> tuple[object, ...]:
    at = line.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    details = json.dumps(line.details, sort_keys=True, separators=(",", ":"))
    return (at, line.actor, line.actor_kind, line.action, line.target, line.outcome,
            line.address, details)


def csv_lines(chosen: AuditFilter, batch: int = 500) -> Iterator[str]:
    """The matching lines as CSV text, header first, produced in batches; every cell safe to
    open in a spreadsheet (``services.spreadsheets``)."""
    yield csv_line(CSV_COLUMNS)
    for row in db.session.execute(trail_query(chosen).execution_options(yield_per=batch)):
        yield csv_line(_row(TrailLine.from_row(row)))
