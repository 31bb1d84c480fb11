"""Who may reach which view: every endpoint is marked public or role-guarded."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from webapp.extensions import login_manager
from webapp.models import ROLES, UserRole

F = TypeVar("F", bound=Callable[..., Any])

# The roles that may mint tokens in the console (support staff only inspect).
MINTING_ROLES = (UserRole.ADMIN, UserRole.DEVELOPER)


def public(view: F) -> F:
    """Mark a view as reachable by anyone, on purpose."""
    view.access = "public"  # type: ignore[attr-defined]
    return view


def roles_required(*roles: str) -> Callable[[F], F]:
    """Let only signed-in people holding one of ``roles`` through; others get sign-in or 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        guarded.access = ("roles", frozenset(roles))  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def signed_in(view: F) -> F:
    """Let any signed-in person through, whatever their role."""
    return roles_required(*ROLES)(view)
