"""The inspector's timeline picture: where iat, nbf, exp, the moment checked and now fall.

Positions are percentages of the drawing's width and the text keeps its size, so the picture
fits a 390 px phone and a wide screen alike. Moments too close to tell apart share one tick
with one line each; each label sits beside its tick's stem, in rows chosen so that no stem
runs through another tick's label.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from webapp.tokens import iso_utc, relative

LEFT, RIGHT = 5.0, 95.0  # the span of the axis, in percent of the width
# The narrowest drawing expected (a 390 px phone less the page's padding); labels are laid out
# so that they do not collide even there.
NARROWEST_PX = 300.0
CHAR_PX = 6.6  # the mean width of a character of the labels' 11-12 px font
CLOSE = 3.0  # ticks nearer than this, in percent, are drawn as one
AXIS_Y = 24
FIRST_TOP = 40  # the top of the first row of labels
LINE_HEIGHT = 14
ROW_GAP = 8
GAP = 0.8  # percent between a stem and its label


def _label_extent(x: float, anchor: str, width: float) -> tuple[float, float]:
    """From where to where, in percent of the drawing, a label ``width`` wide lies beside its
    stem at ``x``: right of it for the anchor "start", left of it for "end"."""
    if anchor == "start":
        return x, x + GAP + width
    return x - GAP - width, x


@dataclass(frozen=True)
class Line:
    """One line of a label: a moment's name and where it lies from the moment checked."""

    name: str
    detail: str
    y: int


@dataclass(frozen=True)
class Mark:
    """One tick on the axis and its label."""

    kind: str  # "iat", "nbf", "exp", "checked" or "now": the CSS class of its tick
    x: float
    row: int
    anchor: str  # "start": label right of the stem; "end": left of it
    label_x: float
    lines: tuple[Line, ...]
    title: str
    line_end: int
    width: float  # of the label, in percent of a 300 px drawing

    @property
    def extent(self) -> tuple[float, float]:
        """Where the label lies across the drawing at its narrowest, in percent."""
        return _label_extent(self.x, self.anchor, self.width)

    @property
    def names(self) -> str:
        """The names of the moments at this tick: "iat", "iat, checked"."""
        return ", ".join(line.name for line in self.lines if line.name)


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


@dataclass
class _Tick:
    x: float
    entries: list[tuple[str, datetime]]
    lines: list[tuple[str, str]]
    width: float = 0.0
    anchor: str = "start"
    row: int = 0

    @property
    def extent(self) -> tuple[float, float]:
        return _label_extent(self.x, self.anchor, self.width)


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
    moments.sort(key=lambda item: item[1])
    first, last = moments[0][1].timestamp(), moments[-1][1].timestamp()
    span = last - first

    def x_of(stamp: float) -> float:
        return 50.0 if span == 0 else LEFT + (stamp - first) / span * (RIGHT - LEFT)

    ticks: list[_Tick] = []
    for name, moment in moments:
        x = x_of(moment.timestamp())
        detail = "" if name.startswith("checked") else relative(moment, checked_at)
        if ticks and x - ticks[-1].x < CLOSE:
            ticks[-1].entries.append((name, moment))
            ticks[-1].lines.append((name, detail))
        else:
            ticks.append(_Tick(x=x, entries=[(name, moment)], lines=[(name, detail)]))
    for tick in ticks:
        if len(tick.lines) == 1:
            name, detail = tick.lines[0]
            chars = max(len(name), len(detail))
        else:
            chars = max(len(f"{name} {detail}".strip()) for name, detail in tick.lines)
        tick.width = (chars * CHAR_PX + 4) / NARROWEST_PX * 100
    _place(ticks)

    marks: list[Mark] = []
    tops = _row_tops(ticks)
    for tick in ticks:
        top = tops[tick.row]
        lines = _lines(tick, top)
        label_x = tick.x + GAP if tick.anchor == "start" else tick.x - GAP
        kind = tick.entries[-1][0].split(" ")[0]
        title = "; ".join(f"{name}: {iso_utc(moment)}" for name, moment in tick.entries)
        marks.append(Mark(kind=kind, x=round(tick.x, 2), row=tick.row, anchor=tick.anchor,
                          label_x=round(label_x, 2), lines=lines, title=title,
                          line_end=lines[-1].y + 3, width=round(tick.width, 2)))
    height = max(m.line_end for m in marks) + 8
    description = "; ".join(m.title for m in marks)
    bands = _bands(x_of, issued_at, not_before, expires_at)
    return Timeline(marks=tuple(marks), bands=bands, height=height, description=description)


def _place(ticks: list[_Tick]) -> None:
    """Choose each label's side and row: no two labels overlap, no stem crosses a label."""
    def fits_right(t: _Tick) -> bool:
        return _label_extent(t.x, "start", t.width)[1] <= 100

    def fits_left(t: _Tick) -> bool:
        return _label_extent(t.x, "end", t.width)[0] >= 0

    if all(fits_right(t) for t in ticks):
        for t in ticks:
            t.anchor = "start"
    elif all(fits_left(t) for t in ticks):
        for t in ticks:
            t.anchor = "end"
    else:
        for t in ticks:
            t.anchor = "start" if fits_right(t) and (t.x < 50 or not fits_left(t)) else "end"
    # A label is drawn below every stem that runs through its width, so ticks whose label
    # covers nothing come first (top row); the rest follow, deeper.
    placed: list[_Tick] = []
    pending = list(ticks)
    while pending:
        def covered(t: _Tick) -> int:
            a, b = t.extent
            return sum(1 for o in pending if o is not t and a < o.x < b)

        tick = min(pending, key=lambda t: (covered(t), abs(t.x - 50)))
        pending.remove(tick)
        a, b = tick.extent
        row = 0
        for other in placed:
            oa, ob = other.extent
            overlaps = a < ob and oa < b
            stem_inside = a < other.x < b
            if overlaps or stem_inside:
                row = max(row, other.row + 1)
        tick.row = row
        placed.append(tick)


def _row_tops(ticks: list[_Tick]) -> list[int]:
    rows = max(t.row for t in ticks) + 1
    heights = [0] * rows
    for t in ticks:
        lines = len(t.lines) if len(t.lines) > 1 else (2 if t.lines[0][1] else 1)
        heights[t.row] = max(heights[t.row], lines * LINE_HEIGHT)
    tops, y = [], FIRST_TOP
    for h in heights:
        tops.append(y)
        y += h + ROW_GAP
    return tops


def _lines(tick: _Tick, top: int) -> tuple[Line, ...]:
    first_baseline = top + 11
    if len(tick.lines) == 1:
        name, detail = tick.lines[0]
        lines = [Line(name, "", first_baseline)]
        if detail:
            lines.append(Line("", detail, first_baseline + LINE_HEIGHT))
        return tuple(lines)
    return tuple(Line(name, detail, first_baseline + i * LINE_HEIGHT)
                 for i, (name, detail) in enumerate(tick.lines))


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
