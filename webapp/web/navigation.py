"""The main navigation, by role; entries appear once their blueprint is registered."""

from __future__ import annotations

from flask import Flask, current_app

from webapp.models import ROLES, UserRole
from webapp.services.authorization import MINTING_ROLES

ADMIN_ONLY = (UserRole.ADMIN,)
ITEMS: tuple[tuple[str, str, tuple[UserRole, ...]], ...] = (
    ("console.generate", "Generate", MINTING_ROLES),
    ("console.inspect", "Inspect", ROLES),
    ("console.history", "Tokens", MINTING_ROLES),
    ("admin.keys", "Keys", ADMIN_ONLY),
    ("admin.users", "People", ADMIN_ONLY),
    ("admin.clients", "API clients", ADMIN_ONLY),
    ("admin.audit", "Audit", ADMIN_ONLY),
)


def home_endpoint(role: str) -> str:
    """The endpoint of the first page a person of this role sees: support staff inspect,
    everyone else starts by generating a token."""
    return "console.inspect" if role == UserRole.SUPPORT else "console.generate"


def _nav_items() -> dict[str, object]:
    endpoints = current_app.view_functions
    return {"nav_items": [item for item in ITEMS if item[0] in endpoints]}


def init_app(app: Flask) -> None:
    """Offer ``nav_items``, ``home_endpoint`` and ``UserRole`` to every template."""
    app.context_processor(_nav_items)
    app.add_template_global(home_endpoint, "home_endpoint")
    app.add_template_global(UserRole, "UserRole")
