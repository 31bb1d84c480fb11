"""The main navigation, by role; entries appear once their blueprint is registered."""

from __future__ import annotations

from flask import Flask, current_app

ALL = ("admin", "developer", "support")
ITEMS = (
    ("console.generate", "Generate", ("admin", "developer")),
    ("console.inspect", "Inspect", ALL),
    ("console.history", "Tokens", ("admin", "developer")),
    ("admin.keys", "Keys", ("admin",)),
    ("admin.users", "People", ("admin",)),
    ("admin.clients", "API clients", ("admin",)),
    ("admin.audit", "Audit", ("admin",)),
)


def _nav_items() -> dict[str, object]:
    endpoints = current_app.view_functions
    return {"nav_items": [item for item in ITEMS if item[0] in endpoints]}


def init_app(app: Flask) -> None:
    """Offer ``nav_items`` to every template."""
    app.context_processor(_nav_items)
