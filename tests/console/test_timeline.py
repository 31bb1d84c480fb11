"""The timeline layout: positions in percent, coinciding moments merged, no label collisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from webapp.console.timeline import CHAR_PX, LEFT, NARROWEST_PX, RIGHT, build

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _extent(mark) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    width = (max(len(mark.names), len(mark.detail)) * CHAR_PX + 8) / NARROWEST_PX * 100
    if mark.anchor == "start":
        return mark.label_x, mark.label_x + width
    if mark.anchor == "end":
        return mark.label_x - width, mark.label_x
    return mark.label_x - width / 2, mark.label_x + width / 2


def test_no_times_no_picture():
    assert build(checked_at=T0, now=T0) is None


def test_the_moments_spread_over_the_axis_in_time_order():
    picture = build(checked_at=T0 + timedelta(hours=2), now=T0 + timedelta(hours=4),
                    issued_at=T0, expires_at=T0 + timedelta(hours=1))
    assert picture is not None
    assert [(m.names, m.x) for m in picture.marks] == [
        ("iat", LEFT), ("exp", 27.5), ("checked", 50.0), ("now", RIGHT)]
    assert [m.detail for m in picture.marks] == ["2 h ago", "1 h ago", "", "in 2 h"]
    assert [(b.kind, b.x, b.width) for b in picture.bands] == [
        ("valid", 5.0, 22.5), ("expired", 27.5, 67.5)]


def test_the_moment_checked_merges_with_now_and_with_a_moment_within_a_second():
    picture = build(checked_at=T0 + timedelta(microseconds=400_000),
                    now=T0 + timedelta(microseconds=600_000), issued_at=T0,
                    expires_at=T0 + timedelta(hours=1))
    assert picture is not None
    assert [m.names for m in picture.marks] == ["iat, checked (now)", "exp"]


def test_crowded_labels_go_to_separate_rows_and_never_overlap():
    picture = build(checked_at=T0 + timedelta(seconds=90), now=T0 + timedelta(seconds=150),
                    issued_at=T0, not_before=T0 + timedelta(seconds=30),
                    expires_at=T0 + timedelta(days=30))
    assert picture is not None
    assert len({m.row for m in picture.marks}) >= 3
    for a in picture.marks:
        for b in picture.marks:
            if a is not b and a.row == b.row:
                (a1, a2), (b1, b2) = _extent(a), _extent(b)
                assert a2 < b1 or b2 < a1
    assert all(0 <= _extent(m)[0] and _extent(m)[1] <= 100 for m in picture.marks)
    assert picture.height == 52 + (max(m.row for m in picture.marks)) * 32 + 18


def test_a_token_without_expiry_works_from_its_start_onward():
    picture = build(checked_at=T0 + timedelta(hours=1), now=T0 + timedelta(hours=1), issued_at=T0)
    assert picture is not None
    assert [(b.kind, b.x, b.width) for b in picture.bands] == [("valid", 5.0, 90.0)]
