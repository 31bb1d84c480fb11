"""Reading the audit trail: filters, pages and the CSV export. Nothing here writes to it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date

from sqlalchemy import Select, select

from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.services.spreadsheets import csv_line
from webapp.web.pagination import within_days

CSV_COLUMNS = ("at", "actor", "actor_kind", "action", "target", "outcome", "address", "details")


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


def events_query(chosen: AuditFilter) -> Select[AuditEvent]:
    """The events matching ``chosen``, newest first."""
    query = select(AuditEvent)
    if chosen.actor:
        query = query.where(AuditEvent.actor.ilike(_like_pattern(chosen.actor), escape="\\"))
    if chosen.action:
        query = query.where(AuditEvent.action == chosen.action)
    if chosen.outcome:
        query = query.where(AuditEvent.outcome == chosen.outcome)
    query = query.where(*within_days(AuditEvent.at, chosen.since, chosen.until))
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def _row(event: AuditEvent) -> tuple[object, ...]:
    at = event.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    details = json.dumps(event.details or {}, sort_keys=True, separators=(",", ":"))
    return (at, event.actor, event.actor_kind, event.action, event.target, event.outcome,
            event.address, details)


def csv_lines(chosen: AuditFilter, batch: int = 500) -> Iterator[str]:
    """The matching events as CSV text, header first, produced in batches; every cell safe to
    open in a spreadsheet (``services.spreadsheets``)."""
    yield csv_line(CSV_COLUMNS)
    for event in db.session.scalars(events_query(chosen).execution_options(yield_per=batch)):
        yield csv_line(_row(event))
