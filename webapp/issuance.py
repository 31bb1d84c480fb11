"""Minting under the stored keys and policies, and the record of what was issued.

Console, API and CLI all mint through :func:`issue` and diagnose through
:func:`inspect`, so policy, history and audit are the same on every path.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import audit
from .extensions import db
from .keyring import decrypt_secret, known_keys, max_token_lifetime, policy_of
from .models import ApiClient, IssuedToken, User, VideoSDKKey, utcnow
from .tokens import (
    Diagnosis,
    Issuance,
    MintedToken,
    MintRequest,
    Permission,
    Policy,
    PolicyViolation,
    Role,
    diagnose,
    mint,
)


def ceiling_policy() -> Policy:
    """The service-wide ceiling: MAX_TOKEN_LIFETIME, everything else allowed."""
    return Policy(
        max_lifetime=max_token_lifetime(),
        permissions=frozenset(p.value for p in Permission),
        roles=frozenset(r.value for r in Role),
    )


def client_policy(client: ApiClient) -> Policy | None:
    """The API client's own lifetime ceiling, when it has one."""
    if client.max_lifetime is None:
        return None
    return Policy(
        max_lifetime=float(client.max_lifetime),
        permissions=frozenset(p.value for p in Permission),
        roles=frozenset(r.value for r in Role),
    )


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
        raise PolicyViolation({"apikey": [f"The key {key.label!r} is disabled."]})
    policies: list[Policy] = [ceiling_policy(), policy_of(key)]
    if client is not None and (extra := client_policy(client)) is not None:
        policies.append(extra)
    minted = mint(request, apikey=key.apikey, secret=decrypt_secret(key), policies=policies,
                  now=utcnow())
    if user is not None:
        issuer, actor_kind = user.email, "person"
    elif client is not None:
        issuer, actor_kind = f"client {client.name}", "client"
    else:
        issuer, actor_kind = "cli", "cli"
    claims = minted.claims
    record = IssuedToken(
        fingerprint=minted.fingerprint,
        key_id=key.id,
        key_label=key.label,
        apikey=key.apikey,
        claims=claims,
        room_id=_str_or_none(claims.get("roomId")),
        participant_id=_str_or_none(claims.get("participantId")),
        issued_at=minted.issued_at,
        expires_at=minted.expires_at,
        user_id=user.id if user is not None else None,
        client_id=client.id if client is not None else None,
        issuer=issuer,
    )

    def audit_it() -> None:
        audit.record(
            "token.minted",
            actor=issuer if actor_kind != "person" else None,
            actor_kind=actor_kind,
            target=key.label,
            details={
                "via": via,
                "key": key.label,
                "claims": claims,
                "fingerprint": minted.fingerprint,
                "expiresAt": minted.as_dict()["expiresAt"],
            },
            commit=False,
        )

    # The same claims in the same second sign to the same token (as jsonwebtoken would): it is
    # recorded once, and every mint of it is audited.
    if lookup(minted.fingerprint) is None:
        db.session.add(record)
    audit_it()
    try:
        db.session.commit()
    except IntegrityError:
        # Another request recorded this very token between our look-up and our commit.
        db.session.rollback()
        audit_it()
        db.session.commit()
    return minted


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


def lookup(fingerprint: str) -> Issuance | None:
    """Who issued the token with this SHA-256 fingerprint here, if it was issued here."""
    row = db.session.execute(
        select(IssuedToken).where(IssuedToken.fingerprint == fingerprint)
    ).scalar_one_or_none()
    if row is None:
        return None
    return Issuance(
        issuer=row.client.name if row.client is not None else row.issuer,
        issuer_kind="client" if row.client_id is not None else "person",
        issued_at=row.issued_at,
        key_label=row.key_label,
        client_id=row.client.name if row.client is not None else None,
    )


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
    diagnosis = diagnose(
        raw,
        keys=known_keys(),
        lookup=lookup,
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
                 "fingerprint": diagnosis.fingerprint},
    )
    current_app.logger.debug("inspected token %s: %s", diagnosis.fingerprint[:12],
                             diagnosis.verdict)
    return diagnosis
