"""What the filterable list pages (token history, audit trail) share: days and pages."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Row,
    Select,
    SQLColumnExpression,
    func,
    select,
)
from sqlalchemy.orm import Session, lazyload

from webapp.extensions import db

# Beyond this no list is that long; larger numbers would overflow the database's integers.
MAX_PAGE = 1_000_000


def day_start(day: date) -> datetime:
    """The first moment of a whole UTC day."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def day_after(day: date) -> datetime | None:
    """The first moment after a whole UTC day, or None after the calendar's last day."""
    if day == date.max:
        return None
    return day_start(day + timedelta(days=1))


def within_days(column: SQLColumnExpression[datetime], first: date | None,
                last: date | None) -> list[ColumnElement[bool]]:
    """Conditions keeping ``column`` within whole UTC days, both ends included; an end not
    given, or a last day at the calendar's end, sets no bound. For the filters of the history
    and the audit trail alike."""
    conditions: list[ColumnElement[bool]] = []
    if first:
        conditions.append(column >= day_start(first))
    if last and (end := day_after(last)) is not None:
        # Inclusive: everything before the start of the next day.
        conditions.append(column < end)
    return conditions


def requested_page(args: Mapping[str, str]) -> int:
    """The ``page`` query argument, clamped to 1..MAX_PAGE (junk means the first page)."""
    try:
        number = int(args.get("page", "1"))
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


class BoundedPagination:
    """A page of a list that grows with every mint, counted only as far as one can page ahead.

    COUNT(*) over a whole audit trail or token history grows without bound, and nothing prunes
    them (a million audit lines on SQLite: 25 ms, or 1.8 s filtered on one common action); here
    the count stops COUNT_AHEAD rows past this page (about 6 ms there). ``total`` is then a
    lower bound and ``total_is_lower_bound`` says so; the last page it offers leads on,
    counted again from there. The attributes the templates read are Flask-SQLAlchemy's
    ``Pagination`` names: ``items``, ``page``, ``pages``, ``total``, ``has_prev``/``has_next``,
    ``prev_num``/``next_num`` and ``iter_pages()``.
    """

    COUNT_AHEAD = 10_000

    def __init__(self, query: Select[Any] | CompoundSelect[Any], session: Session, page: int,
                 per_page: int, item: Callable[[Row[Any]], Any] | None = None) -> None:
        self.page = page
        self.per_page = per_page
        offset = (page - 1) * per_page
        one_page = session.execute(query.limit(per_page).offset(offset))
        # An ORM query's entities; or, for rows of plain columns, what ``item`` makes of each.
        self.items: list[Any] = (list(one_page.unique().scalars()) if item is None
                                 else [item(row) for row in one_page])
        reach = offset + self.COUNT_AHEAD
        if isinstance(query, Select):
            query = query.options(lazyload("*"))
        rows = query.order_by(None).limit(reach + 1).subquery()
        counted = int(session.execute(select(func.count()).select_from(rows)).scalar_one())
        self.total_is_lower_bound = counted > reach
        self.total = min(counted, reach)

    @property
    def pages(self) -> int:
        """The number of pages the (possibly bounded) total fills."""
        return math.ceil(self.total / self.per_page) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def iter_pages(self, *, left_edge: int = 2, left_current: int = 2, right_current: int = 4,
                   right_edge: int = 2) -> Iterator[int | None]:
        """Page numbers for a pagination widget, None where pages are skipped (as
        Flask-SQLAlchemy's ``Pagination.iter_pages``: 1, 2, None, 5, 6, 7, 8, 9, None, 19, 20)."""
        pages_end = self.pages + 1
        if pages_end == 1:
            return
        left_end = min(1 + left_edge, pages_end)
        yield from range(1, left_end)
        if left_end == pages_end:
            return
        mid_start = max(left_end, self.page - left_current)
        mid_end = min(self.page + right_current + 1, pages_end)
        if mid_start - left_end > 0:
            yield None
        yield from range(mid_start, mid_end)
        if mid_end == pages_end:
            return
        right_start = max(mid_end, pages_end - right_edge)
        if right_start - mid_end > 0:
            yield None
        yield from range(right_start, pages_end)


def paginate(query: Select[Any] | CompoundSelect[Any], page: int, per_page: int,
             item: Callable[[Row[Any]], Any] | None = None) -> BoundedPagination:
    """One page of ``query`` (a page past the end is empty, never a 404), with its bounded
    count; its items are the query's entities, or ``item`` of each row when given."""
    return BoundedPagination(query, db.session(), page, per_page, item)
