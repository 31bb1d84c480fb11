"""People and their credentials: creation, roles, sign-in checks and the per-email lockout.

One active admin always remains (SPEC 4, 6): the pages and the CLI both go through
``change_role`` and ``disable`` here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from webapp.characters import refusal
from webapp.extensions import db
from webapp.models import ROLES, LoginFailure, User, UserRole, utcnow
from webapp.services.passwords import hash_password, needs_rehash, verify_password
from webapp.services.sessions import close_all_sessions


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message says why."""


def normalize_email(email: str) -> str:
    """The canonical form under which an email is stored and looked up."""
    return email.strip().lower()


def check_password_rules(password: str) -> None:
    """Refuse a password that breaks the length rule, or is nothing but spaces."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if not password.strip():
        raise AccountError("A password of spaces alone is no password: type a real one.")
    if len(password) < minimum:
        raise AccountError(f"The password must be at least {minimum} characters long.")


def find_user(email: str) -> User | None:
    """The person with this email, if any."""
    return db.session.execute(
        select(User).where(User.email == normalize_email(email))
    ).scalar_one_or_none()


def create_user(email: str, password: str, role: str) -> User:
    """Create a person; refuses a taken email, an unknown role or a short password."""
    email = normalize_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError("Enter a valid email address.")
    if problem := refusal("The email", email):
        raise AccountError(problem)
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    check_password_rules(password)
    if find_user(email) is not None:
        raise AccountError(f"{email} already has an account.")
    user = User(email=email, password_hash=hash_password(password), role=role, active=True)
    db.session.add(user)
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Replace the person's password after checking the rules."""
    check_password_rules(password)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()


@dataclass(frozen=True)
class Lockout:
    """An email (or one browser's attempts at it) is locked out for ``retry_after`` more
    seconds."""

    retry_after: int


def typed_text_digest(text: str) -> str:
    """A keyed hash (HMAC-SHA256, hex) of what was typed into the email box, normalised.

    What someone types there may be their password, typed into the wrong box: the failure
    counter and the audit trail keep this instead of any text that is not a stored
    account's email (SPEC 4). The key is derived from SECRET_KEY, so the digest cannot be
    reversed by hashing a dictionary without it.
    """
    key = hmac.new(str(current_app.config["SECRET_KEY"]).encode("utf-8"),
                   b"token-console typed email", hashlib.sha256).digest()
    return hmac.new(key, normalize_email(text).encode("utf-8", "surrogatepass"),
                    hashlib.sha256).hexdigest()


def recorded_email(text: str, account: User | None) -> str:
    """What the audit trail records of a text typed into the email box: the email of
    ``account`` (``find_user(text)``) when there is one, else ``unknown-email:`` and the start
    of the text's keyed hash."""
    if account is not None:
        return account.email
    return f"unknown-email:{typed_text_digest(text)[:16]}"


def _failure_key(email: str, device: str | None = None) -> str:
    """The counter under which failed sign-ins for this email are kept.

    The email's keyed hash for every browser but one it recognises (device cookies, SPEC 4,
    OWASP); such a browser counts apart under the hash, a slash and its device id. Never the
    typed text itself.
    """
    digest = typed_text_digest(email)
    return f"{digest}/{device}" if device else digest


def _recent_failures(key: str, now: datetime, count: int) -> list[datetime]:
    """When the last ``count`` failed sign-ins under this counter within the window were,
    newest first."""
    window = timedelta(seconds=current_app.config["LOGIN_LOCKOUT_WINDOW"])
    return list(db.session.execute(
        select(LoginFailure.at)
        .where(LoginFailure.email == key, LoginFailure.at > now - window)
        .order_by(LoginFailure.at.desc())
        .limit(count)
    ).scalars())


def lockout_for(email: str, device: str | None = None) -> Lockout | None:
    """The lockout in force for this email (for the browser recognised as ``device``, its own
    lockout only), counted in the database across workers (SPEC 4)."""
    limit = current_app.config["LOGIN_LOCKOUT_ATTEMPTS"]
    now = utcnow()
    recent = _recent_failures(_failure_key(email, device), now, limit)
    if len(recent) < limit:
        return None
    # The lock lifts when the oldest of the last `limit` failures leaves the window.
    window = timedelta(seconds=current_app.config["LOGIN_LOCKOUT_WINDOW"])
    lifts_at = recent[-1] + window
    return Lockout(retry_after=max(1, int((lifts_at - now).total_seconds()) + 1))


def begin_attempt(email: str, device: str | None = None) -> Lockout | None:
    """Count a sign-in attempt as failed before its password is checked; the lockout, if any.

    ``device`` is the id of a device cookie the browser holds for this email
    (``services.devices``): its attempts are counted apart, 5 in 15 minutes for that device,
    and failures made elsewhere do not refuse it (SPEC 4, OWASP's device cookies).

    Checking the count first and writing the failure after the (slow) password check let
    attempts racing in together all pass the check. Now each attempt is written and
    committed first, then counted with every other one: of a burst, only those that find at
    most the limit get their password checked. One over the limit is taken back, so that
    hammering a locked email never extends its lock. A right password then clears them all
    (clear_failures); a wrong one leaves its attempt counted.
    """
    lockout = lockout_for(email, device)
    if lockout is not None:
        return lockout
    limit = current_app.config["LOGIN_LOCKOUT_ATTEMPTS"]
    key, at = _failure_key(email, device), utcnow()
    attempt = LoginFailure(email=key, at=at)
    db.session.add(attempt)
    db.session.commit()
    if len(_recent_failures(key, at, limit + 1)) <= limit:
        return None
    db.session.delete(attempt)
    db.session.commit()
    return lockout_for(email, device) or Lockout(retry_after=1)


def clear_failures(email: str, device: str | None = None) -> None:
    """Forget the failed sign-ins counted where a successful one was: the email's own
    counter, or only that device's (a stranger's failures still count against strangers)."""
    db.session.execute(delete(LoginFailure).where(
        LoginFailure.email == _failure_key(email, device)))


def unlock(email: str) -> int:
    """Clear every lockout of this email, for every browser (`users unlock`, SPEC 6); how many
    failed sign-ins were forgotten. The caller commits."""
    key = _failure_key(email)
    result = db.session.execute(delete(LoginFailure).where(or_(
        LoginFailure.email == key, LoginFailure.email.startswith(key + "/"))))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def authenticate(email: str, password: str) -> User | None:
    """The active person with these credentials, or None; the same cost either way."""
    user = find_user(email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    if user is None or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def count_admins() -> int:
    """How many active admins there are."""
    return db.session.execute(select(func.count()).select_from(User).where(
        User.role == UserRole.ADMIN, User.active.is_(True))).scalar_one()


# The key of PostgreSQL's transaction-level advisory lock that admin changes take in turn.
ADMIN_CHANGES_LOCK = 0x7C_AD_31_17


def _take_admin_changes_lock() -> None:
    """Make this transaction the only one changing admins until it ends (commit or rollback).

    PostgreSQL: a transaction-level advisory lock, which every demotion and disabling takes
    first. SQLite: its single write lock (RESERVED), taken by a write that changes nothing.
    In WAL mode a transaction that read before it writes may find its snapshot stale
    ("database is locked" at once, busy timeout or not); one whose first statement writes
    waits for the lock under the busy timeout and then reads the newest data. Python's
    sqlite3 begins a transaction only at the first write, so this write is that first
    statement (or the transaction already holds the lock from an earlier write).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(ADMIN_CHANGES_LOCK)))
    else:
        db.session.execute(update(User).where(User.role == UserRole.ADMIN).values(role=User.role),
                           execution_options={"synchronize_session": False})


LAST_ADMIN = "{email} is the last active admin: make someone else admin first."


def is_last_admin(user: User) -> bool:
    """Whether ``user`` is the only active admin, whom nobody may demote or disable.

    Holds under concurrency (SPEC 6): the answer is read under the lock of
    ``_take_admin_changes_lock``, with ``user`` reloaded, so two requests (pages, CLI,
    several workers or machines) demoting or disabling the last two admins take turns and
    the second sees the first's change. The lock lasts until the caller commits or rolls
    back.
    """
    _take_admin_changes_lock()
    db.session.refresh(user)
    return user.role == UserRole.ADMIN and user.active and count_admins() <= 1


def change_role(user: User, role: str) -> None:
    """Give ``user`` another role; the caller commits. Refuses to demote the last admin."""
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    if role != UserRole.ADMIN and is_last_admin(user):
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
