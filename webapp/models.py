"""The stored state of Token Console, as SQLAlchemy 2 models."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from webapp.extensions import db


def utcnow() -> datetime:
    """The current moment, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware.

    SQLite keeps no offset, so naive values coming back are UTC by contract.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class UserRole(StrEnum):
    """What a person may do in the console (SPEC 4): admins everything, developers mint and
    inspect, support staff inspect only. Stored as its value in ``users.role``."""

    ADMIN = "admin"
    DEVELOPER = "developer"
    SUPPORT = "support"


ROLES: tuple[UserRole, ...] = tuple(UserRole)


class User(db.Model):  # type: ignore[name-defined,misc]
    """A person who signs in to the console."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=utcnow
    )

    sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def session_id(self) -> str | None:
        """The id of the server-side session record this request signed in with, if any.

        Flask-Login identifies the signed-in principal by that record, not by the user id
        (see webapp.services.sessions); not a column, it lives on this instance only.
        """
        value: str | None = self.__dict__.get("signed_in_session_id")
        return value

    @session_id.setter
    def session_id(self, value: str | None) -> None:
        self.__dict__["signed_in_session_id"] = value

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_id

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class UserSession(db.Model):  # type: ignore[name-defined,misc]
    """A signed-in browser. The cookie holds the id; only its SHA-256 is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    client_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    address: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(back_populates="sessions")


class LoginFailure(db.Model):  # type: ignore[name-defined,misc]
    """One failed sign-in, counted per email for the lockout of SPEC 4."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    __table_args__ = (Index("ix_login_failures_email_at", "email", "at"),)


client_keys = Table(
    "client_keys",
    db.metadata,
    Column("client_id", ForeignKey("api_clients.id", ondelete="CASCADE"), primary_key=True),
    Column("key_id", ForeignKey("videosdk_keys.id", ondelete="CASCADE"), primary_key=True),
)


class VideoSDKKey(db.Model):  # type: ignore[name-defined,misc]
    """A VideoSDK API key and its secret (encrypted at rest), with its policy."""

    __tablename__ = "videosdk_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    apikey: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    secret_last4: Mapped[str] = mapped_column(String(4), nullable=False)
    max_lifetime: Mapped[int] = mapped_column(Integer, nullable=False)
    allowed_permissions: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    allowed_roles: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    sandbox: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class ReplacedKeySecret(db.Model):  # type: ignore[name-defined,misc]
    """A secret a key had before it was replaced, kept (encrypted) 90 days for the diagnosis.

    Never shown anywhere: the diagnosis tries it when a token's signature matches nothing
    current, and names the key, when and by whom (SPEC 3 `replaced_secret`, SPEC 4).
    """

    __tablename__ = "replaced_key_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[int] = mapped_column(
        ForeignKey("videosdk_keys.id", ondelete="CASCADE"), nullable=False, index=True
    )
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    replaced_by: Mapped[str] = mapped_column(String(254), nullable=False)


class ApiClient(db.Model):  # type: ignore[name-defined,misc]
    """An application that calls the JSON API with a bearer client key."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    key_prefix: Mapped[str] = mapped_column(String(24), nullable=False)
    scopes: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    max_lifetime: Mapped[int | None] = mapped_column(Integer)
    rate_limit: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Empty means every active key (SPEC 5).
    keys: Mapped[list[VideoSDKKey]] = relationship(secondary=client_keys, lazy="selectin")


class IssuedToken(db.Model):  # type: ignore[name-defined,misc]
    """A token signed here: its claims and fingerprint, never the token itself; and the
    audit trail's line for its first mint by this issuer (services.audit_trail)."""

    __tablename__ = "issued_tokens"
    # The same claims, key and second sign to the same token whoever asks (as jsonwebtoken
    # would): one row per token and issuer, so each of them finds it in their history.
    # Led by the fingerprint, this index also serves the look-up by fingerprint.
    __table_args__ = (UniqueConstraint("fingerprint", "issuer",
                                       name="uq_issued_tokens_fingerprint_issuer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    key_id: Mapped[int | None] = mapped_column(
        ForeignKey("videosdk_keys.id", ondelete="SET NULL"), index=True
    )
    key_label: Mapped[str] = mapped_column(String(80), nullable=False)
    apikey: Mapped[str] = mapped_column(String(255), nullable=False)
    claims: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    room_id: Mapped[str | None] = mapped_column(String(255), index=True)
    participant_id: Mapped[str | None] = mapped_column(String(255))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_clients.id", ondelete="SET NULL"), index=True
    )
    issuer: Mapped[str] = mapped_column(String(254), nullable=False)
    # The row is also the audit trail's line for the mint (one row per mint, migration 0006):
    # the door it came through (console, api, get-token, create-meeting, cli) and from which
    # address. NULL on rows from before 0006, whose lines stay in audit_events.
    via: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User | None] = relationship()
    client: Mapped[ApiClient | None] = relationship()


class AuditEvent(db.Model):  # type: ignore[name-defined,misc]
    """One line of the audit trail. Rows are only ever inserted."""

    __tablename__ = "audit_events"
    # The page filtered on one action lists it newest first: (action, at) serves both, where
    # an index on action alone left a sort of every line of that action (0.7 s at a million
    # on SQLite; migration 0006).
    __table_args__ = (Index("ix_audit_events_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    # No index on actor: the page filters by a part of it, case-insensitively, which no index
    # serves, and every mint would pay to keep one (migration 0002).
    actor: Mapped[str] = mapped_column(String(254), nullable=False)
    actor_kind: Mapped[str] = mapped_column(String(20), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    target: Mapped[str | None] = mapped_column(String(254))
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    address: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)


__all__ = [
    "ROLES",
    "ApiClient",
    "AuditEvent",
    "IssuedToken",
    "LoginFailure",
    "ReplacedKeySecret",
    "User",
    "UserSession",
    "VideoSDKKey",
    "utcnow",
]


class AuditTrailIsAppendOnly(RuntimeError):
    """Something tried to change or remove a line of the audit trail."""


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
@event.listens_for(IssuedToken, "before_update")
@event.listens_for(IssuedToken, "before_delete")
def _refuse_audit_changes(mapper: Any, connection: Any, target: AuditEvent | IssuedToken) -> None:
    # No route edits or deletes the trail; this makes a future bug fail loudly instead.
    raise AuditTrailIsAppendOnly(f"audit event {target.id} cannot be changed or deleted")
