"""Server-side sessions: the cookie carries a random id, the database holds the rest.

Signing out deletes one record; disabling a person deletes all of theirs; a
record unused for SESSION_IDLE_TIMEOUT or older than SESSION_ABSOLUTE_LIFETIME,
or presented by a different browser, no longer signs anyone in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, request
from sqlalchemy import delete, select

from webapp.extensions import db
from webapp.models import User, UserSession, utcnow


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _client_fingerprint() -> str:
    # The user agent, not the address: addresses change on mobile networks and
    # behind proxies, while a stolen cookie replayed elsewhere rarely keeps it.
    return _digest(request.headers.get("User-Agent", ""))


def open_session(user: User) -> str:
    """Create a session record for ``user`` and return the id the cookie will carry."""
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        UserSession(
            id_hash=_digest(session_id),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            client_hash=_client_fingerprint(),
            address=request.remote_addr,
        )
    )
    user.session_id = session_id
    return session_id


def close_session(session_id: str | None) -> None:
    """Delete the record of one session (other devices stay signed in)."""
    if session_id:
        db.session.execute(delete(UserSession).where(UserSession.id_hash == _digest(session_id)))


def close_all_sessions(user: User) -> None:
    """Delete every session record of ``user``."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def close_other_sessions(user: User) -> None:
    """Delete every session record of ``user`` but the current one (after they changed their
    own password, SPEC 4)."""
    db.session.execute(delete(UserSession).where(
        UserSession.user_id == user.id,
        UserSession.id_hash != _digest(user.session_id or "")))


def load_user(session_id: str) -> User | None:
    """The person behind a session id, if that session is still good (Flask-Login's user
    loader, registered by web.security)."""
    record = db.session.execute(
        select(UserSession).where(UserSession.id_hash == _digest(session_id))
    ).scalar_one_or_none()
    if record is None:
        return None
    now = utcnow()
    config = current_app.config
    expired = (
        now - record.last_seen_at > timedelta(seconds=config["SESSION_IDLE_TIMEOUT"])
        or now - record.created_at > timedelta(seconds=config["SESSION_ABSOLUTE_LIFETIME"])
        or record.client_hash != _client_fingerprint()
        or not record.user.active
    )
    if expired:
        db.session.delete(record)
        db.session.commit()
        return None
    if now - record.last_seen_at > timedelta(seconds=config["SESSION_TOUCH_INTERVAL"]):
        record.last_seen_at = now
        db.session.commit()
    user = record.user
    user.session_id = session_id
    return user
