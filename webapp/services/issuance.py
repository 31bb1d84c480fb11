"""Minting under the stored keys and policies, and the record of what was issued.

Console, API and CLI all mint through :func:`issue` and diagnose through
:func:`inspect`, so policy, history and audit are the same on every path.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import Connection, Executable, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from webapp.extensions import db
from webapp.models import ApiClient, AuditEvent, IssuedToken, User, VideoSDKKey, utcnow
from webapp.services import audit
from webapp.services.videosdk_keys import decrypt_secret, known_keys, max_token_lifetime, policy_of
from webapp.tokens import (
    Diagnosis,
    FieldError,
    FieldErrorCode,
    Issuance,
    MintedToken,
    MintError,
    MintRequest,
    Permission,
    Policy,
    PolicyViolation,
    Role,
    diagnose,
    iso_utc,
    mint,
)

# Who the history names as a token's issuer when no person signed in for it.
CLI_ISSUER = "cli"


def client_issuer(name: str) -> str:
    """How the history and the audit trail name an API client."""
    return f"client {name}"


def issuer_kind(issuer: str) -> str:
    """Who an issuer named by :func:`issue` is, as the audit trail's ``actor_kind`` says it:
    "cli", "client" (named by :func:`client_issuer`) or "person" (an email, which holds no
    space)."""
    if issuer == CLI_ISSUER:
        return "cli"
    return "client" if issuer.startswith(client_issuer("")) else "person"


def ceiling_policy() -> Policy:
    """The service-wide ceiling: MAX_TOKEN_LIFETIME, everything else allowed."""
    return _ceiling(max_token_lifetime())


@lru_cache(maxsize=16)
def _ceiling(max_lifetime: float) -> Policy:
    return Policy(max_lifetime=max_lifetime, permissions=_ALL_PERMISSIONS, roles=_ALL_ROLES)


_ALL_PERMISSIONS = frozenset(p.value for p in Permission)
_ALL_ROLES = frozenset(r.value for r in Role)


def client_policy(client: ApiClient) -> Policy | None:
    """The API client's own lifetime ceiling, when it has one."""
    if client.max_lifetime is None:
        return None
    return _ceiling(float(client.max_lifetime))


_ISSUED = IssuedToken.__table__
# INSERT .. ON CONFLICT (fingerprint, issuer) DO NOTHING, for the dialects that have it (see
# _record_once): with RETURNING id, and without it for a SQLite older than 3.35.
_RECORD_ONCE: dict[str, tuple[Executable, Executable]] = {
    name: (statement.returning(_ISSUED.c.id), statement)
    for name, module in (("sqlite", sqlite), ("postgresql", postgresql))
    for statement in [module.insert(_ISSUED).on_conflict_do_nothing(
        index_elements=["fingerprint", "issuer"])]
}


def with_policy_refusals(error: MintError, request: MintRequest, apikey: str, secret: str,
                         policies: list[Policy]) -> dict[str, list[FieldError]]:
    """A refused request's rule errors and, beside them, what the policies refuse of the
    fields that broke no rule: every error of a submission in one round (issue 19).

    The domain stops at the rule errors; the policies are asked about the rest by minting a
    copy of the request with the broken fields set to values that break nothing. That copy is
    signed and thrown away: nothing is recorded or returned.
    """
    # The coded field errors (fieldErrors in the API), so that each keeps its code.
    errors = {field: list(found) for field, found in error.field_errors.items()}
    probe = replace(
        request,
        permissions=("allow_join",) if "permissions" in errors else request.permissions,
        roles=None if "roles" in errors else request.roles,
        room_id=None, participant_id=None, agent=False,
        expires_in="1s" if "expiresIn" in errors else request.expires_in,
    )
    try:
        mint(probe, apikey=apikey, secret=secret, policies=policies, now=utcnow())
    except MintError as refused:
        for field, found in refused.field_errors.items():
            if field not in errors and isinstance(refused, PolicyViolation):
                errors[field] = list(found)
    return errors


def issue(
    request: MintRequest,
    key: VideoSDKKey,
    *,
    user: User | None = None,
    client: ApiClient | None = None,
    via: str,
) -> MintedToken:
    """Mint under the key's (and client's) policy, then record it and audit it in one commit."""
    if key.disabled:
        raise PolicyViolation({"apikey": [
            FieldError(FieldErrorCode.POLICY, f"The key {key.label!r} is disabled.")]})
    policies: list[Policy] = [ceiling_policy(), policy_of(key)]
    if client is not None and (extra := client_policy(client)) is not None:
        policies.append(extra)
    secret = decrypt_secret(key)
    try:
        minted = mint(request, apikey=key.apikey, secret=secret, policies=policies, now=utcnow())
    except PolicyViolation:
        raise
    except MintError as error:
        raise MintError(with_policy_refusals(error, request, key.apikey, secret, policies)) \
            from None
    if user is not None:
        issuer = user.email
    elif client is not None:
        issuer = client_issuer(client.name)
    else:
        issuer = CLI_ISSUER
    claims = minted.claims
    record = {
        "fingerprint": minted.fingerprint,
        "key_id": key.id,
        "key_label": key.label,
        "apikey": key.apikey,
        "claims": claims,
        "room_id": _str_or_none(claims.get("roomId")),
        "participant_id": _str_or_none(claims.get("participantId")),
        "issued_at": minted.issued_at,
        "expires_at": minted.expires_at,
        "user_id": user.id if user is not None else None,
        "client_id": client.id if client is not None else None,
        "issuer": issuer,
        "via": via,
        "address": audit.client_address(),
    }
    # Core statements on the session's own connection and transaction: the row and anything
    # else this request changed are committed together, or not at all, without the ORM's
    # unit of work.
    session = db.session
    if session.new or session.dirty or session.deleted:
        session.flush()
    connection = session.connection()
    if not _record_once(connection, record):
        # The same claims in the same second sign to the same token (as jsonwebtoken would):
        # it is recorded once per issuer, its row holding the first mint's audit line; every
        # further mint of it gets a line of its own in audit_events, as before 0006.
        audit.append(connection, audit.entry(
            "token.minted",
            actor=issuer,
            actor_kind=issuer_kind(issuer),  # as the row's line says it (audit_trail)
            target=key.label,
            details=mint_details(via, key.label, claims, minted.fingerprint,
                                 minted.expires_at),
        ))
    session.commit()
    return minted


def mint_details(via: str, key_label: str, claims: dict[str, object], fingerprint: str,
                 expires_at: datetime) -> dict[str, object]:
    """The details of a ``token.minted`` success line of the audit trail, wherever it is kept
    (an issued-token row or an audit event): the door, the key, the claims, the fingerprint
    and the expiry (ISO 8601 UTC)."""
    return {"via": via, "key": key_label, "claims": claims, "fingerprint": fingerprint,
            "expiresAt": iso_utc(expires_at)}


def _record_once(connection: Connection, record: dict[str, object]) -> bool:
    """Insert the issued-token row unless this issuer has this token already; whether it did.

    One statement where the dialect has INSERT .. ON CONFLICT DO NOTHING (SQLite,
    PostgreSQL): it returns the new row's id, or nothing when no row went in (a row count
    would not tell: psycopg gives -1 for a statement returning rows). SQLite before 3.35
    (RHEL 9's 3.34, say) has no RETURNING, which SQLAlchemy's ``insert_returning`` says:
    there the row count of the plain statement tells, exact for an INSERT on sqlite3. A
    look-up first elsewhere.
    """
    once = _RECORD_ONCE.get(connection.dialect.name)
    if once is not None:
        returning, plain = once
        if connection.dialect.insert_returning:
            return connection.execute(returning, record).first() is not None
        return connection.execute(plain, record).rowcount == 1
    if connection.execute(select(_ISSUED.c.id).where(
            _ISSUED.c.fingerprint == record["fingerprint"],
            _ISSUED.c.issuer == record["issuer"])).first() is not None:
        return False
    connection.execute(insert(_ISSUED), record)
    return True


def refuse(
    error: PolicyViolation | ValueError,
    *,
    key_label: str | None,
    via: str,
    actor: str | None = None,
    actor_kind: str | None = None,
) -> None:
    """Audit a refused mint (the reason only, never what would have been signed)."""
    audit.record(
        "token.minted",
        outcome="refused",
        actor=actor,
        actor_kind=actor_kind,
        target=key_label,
        details={"via": via, "reason": str(error)[:500]},
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def lookup(fingerprint: str, prefer: str | None = None) -> Issuance | None:
    """Who issued the token with this SHA-256 fingerprint here, if it was issued here.

    Several issuers may have signed the very same token in the same second; then the one
    named ``prefer`` (who is asking) comes first if they are among them, else the earliest.
    """
    rows = db.session.execute(
        select(IssuedToken).where(IssuedToken.fingerprint == fingerprint)
        .order_by(IssuedToken.issued_at, IssuedToken.id)
    ).scalars().all()
    if not rows:
        return None
    row = next((r for r in rows if prefer is not None and r.issuer == prefer), rows[0])
    return Issuance(
        issuer=_issuer_name(row),
        issuer_kind="client" if row.client_id is not None else "person",
        issued_at=row.issued_at,
        key_label=row.key_label,
        client_id=row.client.name if row.client is not None else None,
        also_by=tuple(f"API client {_issuer_name(other)}" if other.client_id is not None
                      else _issuer_name(other) for other in rows if other is not row),
        via=_minted_via(row),
    )


def _minted_via(row: IssuedToken) -> str | None:
    """The door a token was minted through (console, api, get-token, cli): the diagnosis fits
    its advice to it (a /get-token token's lifetime is fixed). Kept on the row since migration
    0006; a row from before it has the door only in its audit line."""
    if row.via is not None:
        return row.via
    details = db.session.execute(
        select(AuditEvent.details).where(
            AuditEvent.action == "token.minted",
            AuditEvent.target == row.key_label,
            AuditEvent.at.between(row.issued_at - timedelta(seconds=5),
                                  row.issued_at + timedelta(minutes=1)),
        ).order_by(AuditEvent.id)
    ).scalars()
    via = next((d.get("via") for d in details if d.get("fingerprint") == row.fingerprint), None)
    return via if isinstance(via, str) else None


def _issuer_name(row: IssuedToken) -> str:
    return row.client.name if row.client is not None else row.issuer


def inspect(
    raw: str,
    *,
    via: str,
    room_id: str | None = None,
    participant_id: str | None = None,
    use: str | None = None,
    at: datetime | None = None,
    secret: str | None = None,
    actor: str | None = None,
    actor_kind: str | None = None,
) -> Diagnosis:
    """Diagnose a pasted token against every stored key, and audit the verdict."""
    asking = actor or audit.current_actor()[0]
    diagnosis = diagnose(
        raw,
        keys=known_keys(),
        lookup=lambda fingerprint: lookup(fingerprint, prefer=asking),
        room_id=room_id,
        participant_id=participant_id,
        use=use,
        at=at,
        secret=secret,
    )
    audit.record(
        "token.inspected",
        actor=actor,
        actor_kind=actor_kind,
        details={"via": via, "verdict": str(diagnosis.verdict),
                 "codes": list(diagnosis.codes), "fingerprint": diagnosis.fingerprint},
    )
    current_app.logger.debug("inspected token %s: %s", (diagnosis.fingerprint or "-")[:12],
                             diagnosis.verdict)
    return diagnosis
