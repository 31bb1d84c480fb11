"""The inspector's timeline picture: where iat, nbf, exp, the moment checked and now fall.

Positions are percentages of the drawing's width and the text keeps its size, so the picture
fits a 390 px phone and a wide screen alike. Labels that would collide go to lower rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..tokens import iso_utc, relative

LEFT, RIGHT = 5.0, 95.0  # the span of the axis, in percent of the width
# The narrowest drawing expected (a 390 px phone less the page's padding); labels are laid out
# so that they do not collide even there.
NARROWEST_PX = 300.0
CHAR_PX = 6.4  # the mean width of a character of the labels' 11 px font
AXIS_Y = 24
ROW_TOP = 52  # the baseline of the first label row
ROW_HEIGHT = 32


@dataclass(frozen=True)
class Mark:
    """One labelled moment on the axis."""

    names: str
    kind: str  # "iat", "nbf", "exp", "checked" or "now": the CSS class of its tick
    x: float
    row: int
    anchor: str
    label_x: float
    detail: str
    title: str

    @property
    def label_y(self) -> int:
        """The baseline of the mark's name."""
        return ROW_TOP + self.row * ROW_HEIGHT

    @property
    def line_end(self) -> int:
        """Where the tick's stem stops, just above its label."""
        return self.label_y - 12


@dataclass(frozen=True)
class Band:
    """A stretch of the axis: when the token works, or after it has expired."""

    kind: str
    x: float
    width: float


@dataclass(frozen=True)
class Timeline:
    """What the SVG template draws."""

    marks: tuple[Mark, ...]
    bands: tuple[Band, ...]
    height: int
    description: str


def build(
    *,
    checked_at: datetime,
    now: datetime,
    issued_at: datetime | None = None,
    not_before: datetime | None = None,
    expires_at: datetime | None = None,
) -> Timeline | None:
    """Lay out the token's moments and the moment checked; None when the token has no times."""
    if issued_at is None and not_before is None and expires_at is None:
        return None
    moments: list[tuple[str, datetime]] = [
        (name, moment)
        for name, moment in (("iat", issued_at), ("nbf", not_before), ("exp", expires_at))
        if moment is not None
    ]
    if abs((now - checked_at).total_seconds()) < 1:
        moments.append(("checked (now)", checked_at))
    else:
        moments.append(("checked", checked_at))
        moments.append(("now", now))
    # Moments within a second of each other share one tick ("iat, checked (now)"): a token
    # minted a moment ago has iat floored to the second.
    merged: dict[float, list[str]] = {}
    at_of: dict[float, datetime] = {}
    for name, moment in sorted(moments, key=lambda item: item[1]):
        stamp = moment.timestamp()
        near = next((s for s in merged if abs(stamp - s) < 1), None)
        if near is None:
            merged[stamp], at_of[stamp] = [], moment
            near = stamp
        merged[near].append(name)
    stamps = sorted(merged)
    first, last = stamps[0], stamps[-1]
    span = last - first

    def x_of(stamp: float) -> float:
        if span == 0:
            return 50.0
        return LEFT + (stamp - first) / span * (RIGHT - LEFT)

    marks: list[Mark] = []
    rows: list[list[tuple[float, float]]] = []  # occupied label extents per row
    for stamp in stamps:
        names = ", ".join(merged[stamp])
        x = x_of(stamp)
        detail = "" if names.startswith("checked") else relative(at_of[stamp], checked_at)
        width = (max(len(names), len(detail)) * CHAR_PX + 8) / NARROWEST_PX * 100
        if x - width / 2 < 0:
            anchor, left, label_x = "start", max(x - 1, 0.5), max(x - 1, 0.5)
        elif x + width / 2 > 100:
            anchor, left, label_x = "end", min(x + 1, 99.5) - width, min(x + 1, 99.5)
        else:
            anchor, left, label_x = "middle", x - width / 2, x
        right = left + width
        row = next(
            (i for i, taken in enumerate(rows)
             if all(right + 1 < a or left > b + 1 for a, b in taken)),
            len(rows),
        )
        if row == len(rows):
            rows.append([])
        rows[row].append((left, right))
        kind = merged[stamp][-1].split(" ")[0]
        marks.append(Mark(names=names, kind=kind, x=round(x, 2), row=row, anchor=anchor,
                          label_x=round(label_x, 2), detail=detail,
                          title=f"{names}: {iso_utc(at_of[stamp])}"))
    bands = _bands(x_of, issued_at, not_before, expires_at)
    height = ROW_TOP + (len(rows) - 1) * ROW_HEIGHT + 18
    description = "; ".join(m.title for m in marks)
    return Timeline(marks=tuple(marks), bands=bands, height=height, description=description)


def _bands(
    x_of: Callable[[float], float],
    issued_at: datetime | None,
    not_before: datetime | None,
    expires_at: datetime | None,
) -> tuple[Band, ...]:
    """The stretch where the token works (from iat or nbf to exp) and the expired stretch."""
    starts = [m for m in (issued_at, not_before) if m is not None]
    start = x_of(max(starts).timestamp()) if starts else LEFT
    bands: list[Band] = []
    if expires_at is not None:
        end = x_of(expires_at.timestamp())
        if end > start:
            bands.append(Band("valid", round(start, 2), round(end - start, 2)))
        if end < RIGHT:
            bands.append(Band("expired", round(end, 2), round(RIGHT - end, 2)))
    elif start < RIGHT:
        bands.append(Band("valid", round(start, 2), round(RIGHT - start, 2)))
    return tuple(bands)
