"""Fixtures of the admin tests: a stored key, an API client, and a look at the audit trail."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.services import videosdk_keys
from webapp.services.api_clients import create_client

# A VideoSDK-shaped secret: 64 hexadecimal characters, ending in a recognisable "beef".
SECRET = "0123456789abcdef" * 3 + "fedcba987654beef"
OTHER_SECRET = "a1" * 30 + "c0de"
THIRD_SECRET = "3c" * 30 + "f00d"


@pytest.fixture
def stored_key(app: Flask) -> dict[str, object]:
    """A key labelled `production`, stored through the keyring; its id and label."""
    with app.app_context():
        key = videosdk_keys.add_key("production", "prod-api-key", SECRET)
        db.session.commit()
        return {"id": key.id, "label": key.label}


@pytest.fixture
def api_client(app: Flask, stored_key: dict[str, object]) -> dict[str, object]:
    """An API client `backend` allowed the stored key; its id, name and plaintext key."""
    with app.app_context():
        client, plaintext = create_client("backend", ["tokens:mint"], key_labels=["production"])
        db.session.commit()
        return {"id": client.id, "name": client.name, "key": plaintext}


@pytest.fixture
def audit_events(app: Flask) -> Callable[..., list[AuditEvent]]:
    """The audit events (optionally of one action), oldest first, detached from the session."""

    def events(action: str | None = None) -> list[AuditEvent]:
        with app.app_context():
            query = select(AuditEvent).order_by(AuditEvent.id)
            if action is not None:
                query = query.where(AuditEvent.action == action)
            rows = list(db.session.execute(query).scalars())
            db.session.expunge_all()
            return rows

    return events
