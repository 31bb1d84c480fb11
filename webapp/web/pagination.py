"""What the filterable list pages (token history, audit trail) share: days and pages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import Select, func, select
from sqlalchemy.orm import lazyload

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


def requested_page(args: Mapping[str, str]) -> int:
    """The ``page`` query argument, clamped to 1..MAX_PAGE (junk means the first page)."""
    try:
        number = int(args.get("page", "1"))
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


class BoundedPagination(SelectPagination):
    """A page of a list that grows with every mint, counted only as far as one can page ahead.

    COUNT(*) over a whole audit trail or token history grows without bound, and nothing prunes
    them (a million audit lines on SQLite: 25 ms, or 1.8 s filtered on one common action); here
    the count stops COUNT_AHEAD rows past this page (about 6 ms there). ``total`` is then a
    lower bound and ``total_is_lower_bound`` says so; the last page it offers leads on,
    counted again from there.
    """

    COUNT_AHEAD = 10_000
    total_is_lower_bound = False

    def _query_count(self) -> int:
        query = self._query_args["select"]
        reach = self._query_offset + self.COUNT_AHEAD
        rows = query.options(lazyload("*")).order_by(None).limit(reach + 1).subquery()
        counted = int(self._query_args["session"].execute(
            select(func.count()).select_from(rows)).scalar_one())
        self.total_is_lower_bound = counted > reach
        return min(counted, reach)


def paginate(query: Select[Any], page: int, per_page: int) -> BoundedPagination:
    """One page of ``query`` (a page past the end is empty, never a 404), with its bounded count."""
    return BoundedPagination(select=query, session=db.session(), page=page, per_page=per_page,
                             max_per_page=None, error_out=False, count=True)
