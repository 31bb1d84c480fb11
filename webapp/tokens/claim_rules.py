"""The claim rules of SPEC 2 and 3: apikey, permissions, roles, version, ids and the attempt.

Each check reads the decoded payload and adds its reasons to a `Findings`; none raises.
Values compare case-sensitively, as node jsonwebtoken and VideoSDK compare them.
"""

from __future__ import annotations

from collections.abc import Mapping

from webapp.tokens.reading import js_number, show
from webapp.tokens.reasons import Findings, Use, kind, names
from webapp.tokens.vocabulary import (
    CONFLICTS_WITH_ASK_JOIN,
    Permission,
    Role,
)

# jsonwebtoken's sign() options, which do nothing when put among the claims (SPEC 3).
JWT_SIGN_OPTIONS = ("expiresIn", "notBefore", "algorithm", "audience", "issuer", "subject",
                    "jwtid", "keyid", "noTimestamp", "header")


def apikey_damaged(value: object) -> bool:
    """True for an apikey holding a character outside printable ASCII (SPEC 3 reading rules):
    no real VideoSDK key looks like that, so it was changed in transit."""
    return isinstance(value, str) and any(not "\x21" <= c <= "\x7e" for c in value)


def _is_version_two(value: object) -> bool:
    return js_number(value) == 2


def check_apikey(found: Findings, claims: Mapping[str, object], *,
                 signer: tuple[str, str] | None) -> None:
    """`missing_apikey` for an absent or empty apikey; `signer` is (label, apikey) of the
    stored key whose secret verified the signature, if one did."""
    value = claims.get("apikey")
    if "apikey" in claims and value != "":
        return
    what = "has no apikey claim" if "apikey" not in claims else "has an empty apikey"
    if signer is not None:
        label, apikey = signer
        found.add(
            "missing_apikey",
            f"The token {what}; VideoSDK needs it to know which key signed the token. Its "
            f"signature matches the secret of stored key '{label}'.",
            f"Add apikey: '{apikey}' to the payload and sign again.",
        )
        return
    found.add(
        "missing_apikey",
        f"The token {what}; VideoSDK needs it to know which key signed the token.",
        "Add the claim apikey with your VideoSDK API key (the public key, not the secret) "
        "and sign again with that key's secret.",
    )


def check_permissions(found: Findings, claims: Mapping[str, object]) -> None:
    """`missing_permissions`, `invalid_permissions` and `conflicting_permissions`."""
    if "permissions" not in claims or claims["permissions"] == []:
        what = (
            "has no permissions claim"
            if "permissions" not in claims
            else "has an empty permissions list"
        )
        found.add(
            "missing_permissions",
            f"The token {what}: it allows nothing.",
            "Add permissions: ['allow_join'] (join directly) or ['ask_join'] (ask to be let "
            "in), and sign again.",
        )
        return
    value = claims["permissions"]
    if not _list_of(found, "invalid_permissions", "permissions", value, Permission,
                    fixes=("Write permissions as a list, such as permissions: ['allow_join'].",
                           "Use only allow_join, ask_join and allow_mod, spelled exactly so.")):
        return
    assert isinstance(value, list)  # noqa: S101 - _list_of said so
    clashing = [p for p in CONFLICTS_WITH_ASK_JOIN if p in value]
    if Permission.ASK_JOIN in value and clashing:
        others = names(sorted(clashing))
        found.add(
            "conflicting_permissions",
            f"permissions holds ask_join together with {others}: ask_join means waiting to "
            "be let in, which the others contradict.",
            f"Keep ask_join alone (a participant who asks to join), or drop it and keep "
            f"{others}.",
        )


def check_roles(found: Findings, claims: Mapping[str, object]) -> None:
    """`invalid_roles`: roles present but not a list of crawler and rtc."""
    if "roles" not in claims:
        return
    _list_of(found, "invalid_roles", "roles", claims["roles"], Role,
             fixes=("Write roles as a list such as roles: ['rtc'], or leave roles out.",
                    "Use only crawler (server-side APIs) and rtc (meetings), or leave roles "
                    "out."))


_KINDS = {"permissions": "permission", "roles": "role"}


def _list_of(found: Findings, code: str, name: str, value: object,
             vocabulary: type[Permission] | type[Role], *, fixes: tuple[str, str]) -> bool:
    """`code` when `value` is not a list, or holds values outside `vocabulary` (compared
    case-sensitively); True when it is a list, so that further rules may read it."""
    not_a_list, unknown_values = fixes
    allowed = [v.value for v in vocabulary]
    if not isinstance(value, list):
        found.add(code, f"{name} must be a list, but is {kind(value)} ({show(value)}).",
                  not_a_list)
        return False
    unknown = [v for v in value if not (isinstance(v, str) and v in allowed)]
    if unknown:
        hint = ""
        if any(isinstance(v, str) and v.lower() in allowed for v in unknown):
            hint = " Values are case-sensitive."
        known = names(allowed)
        found.add(
            code,
            f"{name} holds {names([show(v) for v in unknown])}, which "
            f"{'is' if len(unknown) == 1 else 'are'} not a VideoSDK {_KINDS[name]}; the known "
            f"ones are {known}.{hint}",
            unknown_values,
        )
    return True


def check_version(found: Findings, claims: Mapping[str, object]) -> None:
    """`version_required`: roomId, participantId or roles without the integer version 2."""
    needing = [name for name in ("roomId", "participantId", "roles") if name in claims]
    version = claims.get("version")
    if not needing or _is_version_two(version):
        return
    now = (
        "version is absent"
        if "version" not in claims
        else f"version is {show(version)} ({kind(version)})"
    )
    found.add(
        "version_required",
        f"{names(needing)} {'is' if len(needing) == 1 else 'are'} present, which needs "
        f"version: 2 (the number), but {now}.",
        "Add version: 2 to the payload, the number 2 and not the string '2'.",
    )


def check_claim_types(found: Findings, claims: Mapping[str, object], *,
                      damaged_apikey: bool = False) -> None:
    """`invalid_participant_id` and `invalid_claim` (SPEC 3 table and reading rules);
    `damaged_apikey` is apikey_damaged() of the apikey as signed (the claims given may show a
    secret's placeholder in its place)."""
    invalid: list[str] = []
    version = claims.get("version")
    if "version" in claims and not _is_version_two(version):
        invalid.append(f"version should be the number 2, but is {show(version)} ({kind(version)})")
    for name in ("apikey", "roomId", "participantId"):
        if name in claims and not isinstance(claims[name], str):
            invalid.append(
                f"{name} should be text, but is {kind(claims[name])} ({show(claims[name])})"
            )
    if damaged_apikey:
        invalid.append(
            f"apikey {show(claims['apikey'])} holds characters no VideoSDK key has (spaces, "
            "control or non-ASCII characters): it was changed in transit"
        )
    participant = claims.get("participantId")
    if isinstance(participant, str) and any(c.isspace() for c in participant):
        found.add(
            "invalid_participant_id",
            f"participantId {show(participant)} contains whitespace, which VideoSDK refuses.",
            "Use a participantId without spaces, tabs or line breaks (for example replace "
            "spaces with '_').",
        )
    if invalid:
        found.add(
            "invalid_claim",
            "Claims of the wrong type or value: " + "; ".join(invalid) + ".",
            "Give each claim the type VideoSDK expects: apikey, roomId and participantId as "
            "text, version as the number 2.",
        )


def check_attempt(
    found: Findings,
    claims: Mapping[str, object],
    *,
    room_id: str | None,
    participant_id: str | None,
    use: Use | None,
) -> None:
    """The room, participant and use tried against the token (SPEC 3 table, 4022-4024)."""
    if room_id is not None and "roomId" in claims and claims["roomId"] != room_id:
        found.add(
            "room_mismatch",
            f"The token is for roomId {show(claims['roomId'])}, but the room tried is "
            f"{show(room_id)} (case matters).",
            f"Mint a token for room {show(room_id)}, or leave roomId out so the token works "
            "in any room.",
        )
    if (
        participant_id is not None
        and "participantId" in claims
        and claims["participantId"] != participant_id
    ):
        found.add(
            "participant_mismatch",
            f"The token is for participantId {show(claims['participantId'])}, but the "
            f"participant tried is {show(participant_id)} (case matters).",
            f"Mint a token for participant {show(participant_id)}, or join as "
            f"{show(claims['participantId'])}.",
        )
    _check_roles_for_use(found, claims.get("roles"), use)


def _check_roles_for_use(found: Findings, roles: object, use: Use | None) -> None:
    if not isinstance(roles, list) or not roles:
        return
    if use is Use.JOIN and all(r == Role.CRAWLER for r in roles):
        found.add(
            "crawler_cannot_join",
            "roles holds only crawler: such a token is for server-side API calls and cannot "
            "join a meeting.",
            "For joining, mint a token with roles: ['rtc'] (or without roles).",
        )
    if use is Use.API and all(r == Role.RTC for r in roles):
        found.add(
            "rtc_cannot_call_api",
            "roles holds only rtc: such a token is for meetings and cannot call the "
            "server-side APIs.",
            "For API calls, mint a token with roles: ['crawler'] (or without roles).",
        )


def check_options_in_payload(found: Findings, claims: Mapping[str, object]) -> None:
    """`option_in_payload`: jsonwebtoken options written among the claims, where they do nothing
    (SPEC 3): `jwt.sign({apikey, expiresIn: '2h'}, secret)` signs a token without exp."""
    misplaced = [name for name in JWT_SIGN_OPTIONS if name in claims]
    if not misplaced:
        return
    written = ", ".join(f"{name}: {show(claims[name])}" for name in misplaced)
    effect = (" The token therefore has no exp from it." if "expiresIn" in misplaced
              and "exp" not in claims else "")
    found.add(
        "option_in_payload",
        f"The payload holds {names(misplaced)}, which {'is' if len(misplaced) == 1 else 'are'} "
        f"jsonwebtoken's option{'' if len(misplaced) == 1 else 's'}, not claims: there "
        f"{'it does' if len(misplaced) == 1 else 'they do'} nothing.{effect} "
        f"Move {'it' if len(misplaced) == 1 else 'them'} into jwt.sign's third argument.",
        f"Move {names(misplaced)} out of the payload into jwt.sign's third argument: "
        f"jwt.sign({{apikey, permissions}}, secret, {{ {written} }}).",
    )
