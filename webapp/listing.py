"""What the filterable list pages (token history, audit trail) share: days and pages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta

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
