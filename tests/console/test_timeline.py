"""The timeline layout: positions in percent, close moments merged, no collisions or crossings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from webapp.console.timeline import LEFT, RIGHT, build

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_no_times_no_picture():
    assert build(checked_at=T0, now=T0) is None


def test_the_moments_spread_over_the_axis_in_time_order():
    picture = build(checked_at=T0 + timedelta(hours=2), now=T0 + timedelta(hours=4),
                    issued_at=T0, expires_at=T0 + timedelta(hours=1))
    assert picture is not None
    assert [(m.names, m.x) for m in picture.marks] == [
        ("iat", LEFT), ("exp", 27.5), ("checked", 50.0), ("now", RIGHT)]
    assert [[line.detail for line in m.lines if line.detail] for m in picture.marks] == [
        ["2 h ago"], ["1 h ago"], [], ["in 2 h"]]
    assert [(b.kind, b.x, b.width) for b in picture.bands] == [
        ("valid", 5.0, 22.5), ("expired", 27.5, 67.5)]


def test_moments_too_close_to_tell_apart_share_a_tick_with_a_line_each():
    picture = build(checked_at=T0 + timedelta(seconds=1, microseconds=400_000),
                    now=T0 + timedelta(seconds=1, microseconds=600_000), issued_at=T0,
                    expires_at=T0 + timedelta(hours=1))
    assert picture is not None
    assert [m.names for m in picture.marks] == ["iat, checked (now)", "exp"]
    assert [(line.name, line.detail) for line in picture.marks[0].lines] == [
        ("iat", "1 s ago"), ("checked (now)", "")]
    assert picture.marks[0].title == (
        "iat: 2025-03-01T12:00:00Z; checked (now): 2025-03-01T12:00:01Z")


@pytest.mark.parametrize("moments", [
    # iat, nbf, exp, checked, now: offsets in seconds from T0
    (0, 60, 30 * 86400, 90, 150),
    (0, None, 3600, 3600 + 60, 3600 + 120),
    (0, None, 600, 7200, 7260),
    (0, 300, 3600, 1800, 1800),
    (-86400, None, 60, 0, 30 * 86400),
])
def test_labels_never_overlap_and_no_stem_crosses_a_label(moments):
    iat, nbf, exp, checked, now = moments
    picture = build(checked_at=T0 + timedelta(seconds=checked), now=T0 + timedelta(seconds=now),
                    issued_at=T0 + timedelta(seconds=iat),
                    not_before=T0 + timedelta(seconds=nbf) if nbf is not None else None,
                    expires_at=T0 + timedelta(seconds=exp))
    assert picture is not None
    for mark in picture.marks:
        a, b = mark.extent
        assert 0 <= a and b <= 100, mark
        for other in picture.marks:
            if other is mark:
                continue
            if a < other.x < b:  # other's stem runs through mark's width: it must end above
                assert other.line_end < mark.lines[0].y - 10, (mark, other)
            oa, ob = other.extent
            if other.row == mark.row:
                assert b <= oa or ob <= a, (mark, other)
    assert picture.height >= max(m.line_end for m in picture.marks)


def test_a_token_without_expiry_works_from_its_start_onward():
    picture = build(checked_at=T0 + timedelta(hours=1), now=T0 + timedelta(hours=1), issued_at=T0)
    assert picture is not None
    assert [(b.kind, b.x, b.width) for b in picture.bands] == [("valid", 5.0, 90.0)]
