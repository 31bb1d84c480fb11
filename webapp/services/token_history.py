"""The record of tokens issued here, as the history page lists and filters it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select

from webapp.extensions import db
from webapp.models import ApiClient, IssuedToken, User, UserRole, VideoSDKKey
from webapp.services.authorization import MINTING_ROLES
from webapp.services.issuance import CLI_ISSUER, client_issuer
from webapp.web.pagination import day_after, day_start

PER_PAGE = 50


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
        # A search box: any part of the room id, in any letter case, on every database.
        query = query.where(IssuedToken.room_id.icontains(filters.room, autoescape=True))
    if filters.issuer:
        query = query.where(IssuedToken.issuer == filters.issuer)
    if filters.issued_from:
        query = query.where(IssuedToken.issued_at >= day_start(filters.issued_from))
    if filters.issued_to and (end := day_after(filters.issued_to)) is not None:
        query = query.where(IssuedToken.issued_at < end)
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
