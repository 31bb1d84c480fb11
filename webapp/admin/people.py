"""What an admin may do to a person, with the rule that one active admin always remains."""

from __future__ import annotations

import secrets

from ..auth.accounts import AccountError, count_admins, set_password
from ..auth.sessions import close_all_sessions
from ..models import ROLES, User

LAST_ADMIN = "{email} is the last active admin: make someone else admin first."


def is_last_admin(user: User) -> bool:
    """Whether ``user`` is the only active admin, whom nobody may demote or disable."""
    return user.role == "admin" and user.active and count_admins(lock=True) <= 1


def change_role(user: User, role: str) -> None:
    """Give ``user`` another role; the caller commits. Refuses to demote the last admin."""
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    if role != "admin" and is_last_admin(user):
        raise AccountError(LAST_ADMIN.format(email=user.email))
    user.role = role


def disable(user: User) -> None:
    """Stop ``user`` signing in and end every open session; the caller commits."""
    if is_last_admin(user):
        raise AccountError(LAST_ADMIN.format(email=user.email))
    user.active = False
    close_all_sessions(user)


def enable(user: User) -> None:
    """Let ``user`` sign in again; the caller commits."""
    user.active = True


def generated_password() -> str:
    """A random password for a person, to be shown once to the admin."""
    return secrets.token_urlsafe(18)


def reset_password(user: User, password: str | None) -> str | None:
    """Set the given password, or a generated one which is returned to show once.

    Every open session of the person ends, so an old password's sessions stop too.
    """
    generated = None if password else generated_password()
    set_password(user, password or generated or "")
    close_all_sessions(user)
    return generated
