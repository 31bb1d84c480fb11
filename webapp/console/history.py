"""The record of tokens issued here, as the history page lists and filters it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, select

from ..extensions import db
from ..models import IssuedToken, User

PER_PAGE = 50


@dataclass(frozen=True)
class Filters:
    """What the history is narrowed to; None means any."""

    key: str | None = None
    room: str | None = None
    issuer: str | None = None
    issued_from: date | None = None
    issued_to: date | None = None


def visible_to(person: User) -> Select[tuple[IssuedToken]]:
    """The tokens a person may see: an admin every one, anyone else their own."""
    query = select(IssuedToken)
    if person.role != "admin":
        query = query.where(IssuedToken.user_id == person.id)
    return query


def filtered(query: Select[tuple[IssuedToken]], filters: Filters) -> Select[tuple[IssuedToken]]:
    """The query narrowed by the filters, newest first; dates are whole UTC days."""
    if filters.key:
        query = query.where(IssuedToken.key_label == filters.key)
    if filters.room:
        # A search box: any part of the room id, in any letter case, on every database.
        query = query.where(IssuedToken.room_id.icontains(filters.room, autoescape=True))
    if filters.issuer:
        query = query.where(IssuedToken.issuer == filters.issuer)
    if filters.issued_from:
        query = query.where(IssuedToken.issued_at >= _start_of(filters.issued_from))
    if filters.issued_to:
        query = query.where(
            IssuedToken.issued_at < _start_of(filters.issued_to) + timedelta(days=1)
        )
    return query.order_by(IssuedToken.issued_at.desc(), IssuedToken.id.desc())


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def key_labels(query: Select[tuple[IssuedToken]]) -> list[str]:
    """The key labels found among the visible tokens, for the key filter."""
    labels = query.with_only_columns(IssuedToken.key_label).distinct()
    return sorted(db.session.execute(labels).scalars())


def issuers() -> list[str]:
    """Everyone who issued a token here (people, API clients, the CLI), for the admin's filter."""
    names = select(IssuedToken.issuer).distinct()
    return sorted(db.session.execute(names).scalars())
