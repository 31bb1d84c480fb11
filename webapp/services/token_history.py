"""The record of tokens issued here, as the history page lists and filters it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, select

from webapp.extensions import db
from webapp.models import ApiClient, IssuedToken, User, UserRole, VideoSDKKey
from webapp.services.audit_trail import TrailLine, token_lines
from webapp.services.authorization import MINTING_ROLES
from webapp.services.issuance import CLI_ISSUER, client_issuer
from webapp.services.spreadsheets import csv_line
from webapp.web.pagination import within_days

PER_PAGE = 50
AUDIT_LINES = 50  # the most audit lines a token's detail page lists
CSV_COLUMNS = ("issued_at", "expires_at", "key", "apikey", "issuer", "room_id", "participant_id",
               "permissions", "roles", "fingerprint")


@dataclass(frozen=True)
class Filters:
    """What the history is narrowed to; None means any."""

    key: str | None = None
    room: str | None = None
    issuer: str | None = None
    issued_from: date | None = None
    issued_to: date | None = None


def visible_to(person: User) -> Select[tuple[IssuedToken]]:
    """The tokens a person may see: an admin every one, anyone else their own."""
    query = select(IssuedToken)
    if person.role != UserRole.ADMIN:
        query = query.where(IssuedToken.user_id == person.id)
    return query


def filtered(query: Select[tuple[IssuedToken]], filters: Filters) -> Select[tuple[IssuedToken]]:
    """The query narrowed by the filters, newest first; dates are whole UTC days."""
    if filters.key:
        query = query.where(IssuedToken.key_label == filters.key)
    if filters.room:
        # The room the token is bound to, exactly as the label says: `room-1` is not `room-10`.
        query = query.where(IssuedToken.room_id == filters.room)
    if filters.issuer:
        query = query.where(IssuedToken.issuer == filters.issuer)
    query = query.where(*within_days(IssuedToken.issued_at, filters.issued_from,
                                     filters.issued_to))
    return query.order_by(IssuedToken.issued_at.desc(), IssuedToken.id.desc())


# The filter menus are read from the keys, people and clients (a handful of rows), never from
# the history itself: a DISTINCT over every token issued here scans the whole table on every
# view of the page, and that table grows with every mint. A value asked for in the URL (a
# link, or a key since removed) is kept in its menu so the form shows what is filtered.

def key_labels(chosen: str | None = None) -> list[str]:
    """The stored keys' labels, for the key filter."""
    labels = set(db.session.execute(select(VideoSDKKey.label)).scalars())
    return sorted(labels | {chosen} if chosen else labels)


def issuers(chosen: str | None = None) -> list[str]:
    """Who can issue tokens here: people who may mint, API clients, the CLI; for the admin."""
    people = db.session.execute(
        select(User.email).where(User.role.in_(MINTING_ROLES)).order_by(User.email)).scalars()
    names = db.session.execute(select(ApiClient.name).order_by(ApiClient.name)).scalars()
    choices = [*people, *(client_issuer(name) for name in names), CLI_ISSUER]
    return choices if not chosen or chosen in choices else [*choices, chosen]


def with_fingerprint(query: Select[tuple[IssuedToken]], fingerprint: str) -> list[IssuedToken]:
    """The visible records of one token (one per issuer), the earliest first; [] if none."""
    return list(db.session.scalars(
        query.where(IssuedToken.fingerprint == fingerprint)
        .order_by(IssuedToken.issued_at, IssuedToken.id)))


def audit_lines(fingerprint: str, person: User,
                since: datetime | None = None) -> list[TrailLine]:
    """The audit trail's lines naming this token (minted, inspected), oldest first, at most
    AUDIT_LINES; an admin sees everyone's, anyone else their own."""
    return token_lines(
        fingerprint, limit=AUDIT_LINES,
        actor=None if person.role == UserRole.ADMIN else person.email,
        # The token did not exist before it was issued: the index on `at` bounds the scan.
        since=since - timedelta(minutes=1) if since is not None else None)


def csv_lines(query: Select[tuple[IssuedToken]], batch: int = 500) -> Iterator[str]:
    """The listed tokens as CSV, header first: claims, times and fingerprint, never a token."""
    def row(token: IssuedToken) -> tuple[object, ...]:
        claims = token.claims or {}
        return (token.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                token.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"), token.key_label, token.apikey,
                token.issuer, token.room_id, token.participant_id,
                " ".join(map(str, claims.get("permissions") or ())),
                " ".join(map(str, claims.get("roles") or ())), token.fingerprint)

    # A generator: the query runs when the response is streamed, inside its context; every
    # cell safe to open in a spreadsheet (``services.spreadsheets``), as the audit export's.
    yield csv_line(CSV_COLUMNS)
    for token in db.session.scalars(query.execution_options(yield_per=batch)):
        yield csv_line(row(token))  # type: ignore[arg-type]  # scalars() yields the entity
