"""Review 14: the trail read from audit_events and issued_tokens as one (migration 0006)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from webapp.extensions import db
from webapp.models import AuditEvent, IssuedToken

T0 = datetime(2021, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def mixed_trail(app):
    """70 audit events and 70 mint lines on issued-token rows, interleaved in time."""
    with app.app_context():
        for i in range(70):
            db.session.add(AuditEvent(at=T0 + timedelta(seconds=2 * i), actor="alice@example.com",
                                      actor_kind="person", action="key.created",
                                      target=f"e{i:03d}", outcome="success", details={}))
            db.session.add(IssuedToken(
                fingerprint=f"{i:064x}", key_label=f"m{i:03d}", apikey="a",
                claims={"permissions": ["allow_join"]},
                issued_at=T0 + timedelta(seconds=2 * i + 1),
                expires_at=T0 + timedelta(hours=1), issuer="client backend", via="api",
                address="10.0.0.2"))
        db.session.commit()


def targets(body: str) -> list[str]:
    return re.findall(r"<code>(?:key\.created|token\.minted)</code> ([em]\d{3})\b", body)


def test_pages_hold_every_line_of_both_tables_once_in_order(admin_client, mixed_trail):
    seen: list[str] = []
    for page in (1, 2, 3):
        body = admin_client.get(f"/admin/audit?since=2021-03-01&until=2021-03-01&page={page}"
                                ).get_data(as_text=True)
        assert "140 events match these filters" in body
        seen += targets(body)
    expected = [f"{kind}{i:03d}" for i in reversed(range(70)) for kind in ("m", "e")]
    assert seen == expected


def test_a_long_mixed_trail_is_counted_as_far_as_one_can_page_ahead(admin_client, mixed_trail,
                                                                    monkeypatch):
    from webapp.web.pagination import BoundedPagination

    monkeypatch.setattr(BoundedPagination, "COUNT_AHEAD", 60)
    first = admin_client.get("/admin/audit?actor=ex").get_data(as_text=True)
    assert "More than 60 events match these filters · page 1 of 2+." in first
    mints = admin_client.get("/admin/audit?actor=BACKEND").get_data(as_text=True)
    assert "More than 60 events match these filters" in mints
    third = admin_client.get("/admin/audit?actor=backend&page=2").get_data(as_text=True)
    assert "70 events match these filters · page 2 of 2." in third


def test_csv_matches_the_pages(admin_client, mixed_trail):
    rows = list(csv.DictReader(io.StringIO(admin_client.get(
        "/admin/audit.csv?since=2021-03-01&until=2021-03-01").get_data(as_text=True))))
    assert [r["target"] for r in rows] == [f"{kind}{i:03d}" for i in reversed(range(70))
                                           for kind in ("m", "e")]
    assert {r["actor_kind"] for r in rows if r["action"] == "token.minted"} == {"client"}


@pytest.mark.parametrize("url", ["/admin/audit.csv?actor=a%00b",
                                 "/admin/audit?format=csv&actor=a%00b",
                                 "/tokens?format=csv&room=a%00b",
                                 "/tokens?format=csv&key=a%00b"])
def test_an_export_the_database_cannot_filter_is_a_400_not_a_cut_download(app, admin_client,
                                                                          url):
    """PostgreSQL cannot look up a text holding NUL: the export answers 400 as the page does,
    before its status goes out, rather than a 200 whose stream fails after the header."""
    response = admin_client.get(url)
    body = response.get_data(as_text=True)  # a stream failing part-way raises here
    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect == "postgresql":
        assert response.status_code == 400, body[:200]
        assert "NUL character" in body
    else:  # SQLite holds and compares NUL like any character
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
