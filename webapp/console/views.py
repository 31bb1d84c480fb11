"""Console pages: the generator, its one-time result page, the inspector and the history.

Thin adapters: minting and diagnosis go through `services.issuance`, which applies the policy,
records the issue and writes the audit trail, as it does for the API and the CLI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import (
    Response,
    abort,
    make_response,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import Select
from wtforms import SelectChoice  # type: ignore[attr-defined]

from webapp.characters import visible, visible_json, visible_lines
from webapp.console import ask_videosdk, bp, snippets, timeline
from webapp.console.forms import GenerateForm, HistoryFilterForm, InspectForm, KeyChoice
from webapp.models import ROLES, IssuedToken, User, UserRole, VideoSDKKey
from webapp.services import issuance, token_history
from webapp.services.authorization import MINTING_ROLES, roles_required
from webapp.services.spreadsheets import check_export
from webapp.services.videosdk_keys import KeyringError, active_keys, key_by_label
from webapp.tokens import (
    PRESETS,
    Diagnosis,
    MintedToken,
    MintError,
    MintRequest,
    Verdict,
    describe_expiry,
    explain_claim,
    format_lifetime,
    iso_utc,
    parse_lifetime,
    relative,
)
from webapp.tokens.reading import decode_segment, parse_object
from webapp.web.pagination import paginate, requested_page

FINGERPRINT = re.compile(r"[0-9a-f]{64}")  # a token's SHA-256, as the history knows it
HEADER_EXPLANATIONS = {
    "alg": "the signing algorithm; VideoSDK accepts only HS256.",
    "typ": "the kind of token: JWT.",
}


@bp.context_processor
def _words() -> dict[str, object]:
    """Moments in words, for the console's templates."""
    return {"describe_expiry": describe_expiry, "relative": relative}


def _as_json(value: object) -> str:
    """A decoded value written out whole, as JSON; the claims echoed by the domain are JSON-safe."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return repr(value)


# What the apikey claim's explanation says of the signature, by the diagnosis's
# signature status: only a verified signature lets it say that the key's secret signed it.
APIKEY_SIGNATURE_WORDS = {
    "verified": "the public VideoSDK API key; its secret signed the token",
    "mismatch": "the public VideoSDK API key; VideoSDK checks the signature with its secret, "
                "and here the signature does not match",
    "unchecked": "the public VideoSDK API key; VideoSDK checks the signature with its secret, "
                 "which is not stored here, so the signature was not checked",
}


def _explained(claims: dict[str, object] | None,
               signature_status: str = "verified") -> list[tuple[str, str, str]]:
    """Each claim as (name, value as JSON, what it means in plain words).

    The words agree with the verdict (SPEC 4 `/inspect`): the apikey's claims of the
    signature follow `signature_status` ("verified", "mismatch" or "unchecked").
    """
    rows = []
    for name, value in (claims or {}).items():
        shown = _as_json(value)
        words = explain_claim(name, value).removeprefix(f"{name}: ")
        if name == "apikey":
            signed = APIKEY_SIGNATURE_WORDS["verified"]
            words = words.replace(signed, APIKEY_SIGNATURE_WORDS.get(signature_status, signed))
        purpose, _, detail = words.partition(". Here: ")
        # The value sits in its own column: repeat the domain's reading only when it adds
        # something (a date for a time, the meaning of a permission).
        if detail and detail.rstrip(".") != shown:
            purpose = f"{purpose}: {detail}"
        elif detail:
            purpose = f"{purpose}."
        # A token is anyone's text: a roomId holding U+202E would show reversed.
        rows.append((visible(name), visible_json(shown), visible(purpose)))
    return rows


def _pretty_json(value: dict[str, object] | None) -> str | None:
    """A decoded header or payload as jwt.io shows it: indented JSON, keys in token order."""
    if value is None:
        return None
    try:
        return visible_json(json.dumps(value, ensure_ascii=False, allow_nan=False, indent=2))
    except (TypeError, ValueError):
        return visible(repr(value))


def _report(diagnosis: Diagnosis, form: InspectForm) -> str:
    """The report to copy: the diagnosis's report, with the summary and what the customer
    tried (room, participant, use, moment) after its verdict line (SPEC 4 `/inspect`)."""
    report = diagnosis.report()
    lines = report.split("\n")
    # After the verdict and the moment checked, where a reader looks first.
    after = next((i + 1 for i, line in enumerate(lines) if line.startswith("checked at:")), 1)
    added = []
    if diagnosis.summary not in report:
        added.append(f"summary: {diagnosis.summary}")
    tried = []
    if form.room.data:
        tried.append(f"room {form.room.data!r}")
    if form.participant.data:
        tried.append(f"participant {form.participant.data!r}")
    if form.use.data:
        tried.append({"join": "to join a meeting", "api": "to call the server-side API"}.get(
            form.use.data, form.use.data))
    if form.at.data:
        tried.append(f"at {iso_utc(diagnosis.checked_at)}")
    added.append("customer tried: " + (", ".join(tried) if tried else "not given"))
    return "\n".join([*lines[:after], *added, *lines[after:]])


def _expiry_words(diagnosis: Diagnosis) -> str | None:
    """The expiry in words, agreeing with the verdict: an open time window is "valid for"
    only when the token is valid; otherwise it says that the window is open but the token
    fails for another reason (or is not checked)."""
    if diagnosis.expires_at is None:
        return None
    words = describe_expiry(diagnosis.expires_at, diagnosis.checked_at)
    if diagnosis.expires_at <= diagnosis.checked_at or diagnosis.verdict is Verdict.VALID:
        return words
    when = relative(diagnosis.expires_at, diagnosis.checked_at)
    if diagnosis.verdict is Verdict.INVALID:
        return f"{when}: the time window is open, but the token fails for another reason"
    return f"{when}: the time window is open; the signature is not checked"


def _header_rows(header: dict[str, object] | None) -> list[tuple[str, str, str]]:
    return [
        (visible(name), visible_json(_as_json(value)),
         HEADER_EXPLANATIONS.get(name, "not used by VideoSDK."))
        for name, value in (header or {}).items()
    ]


def _decoded_header(token: str) -> dict[str, object] | None:
    """The header of a token signed here, read back with the domain's decoder."""
    decoded = decode_segment(token.split(".", 1)[0])
    parsed = decoded if isinstance(decoded, str) else parse_object(decoded)
    return None if isinstance(parsed, str) else parsed


def _offered(keys: list[VideoSDKKey]) -> list[KeyChoice]:
    # Real keys first: a sandbox key signs tokens that VideoSDK refuses.
    ordered = sorted(keys, key=lambda k: (bool(k.sandbox), k.label))
    return [KeyChoice(k.label, int(k.max_lifetime), bool(k.sandbox)) for k in ordered]


def settings_query(claims: Mapping[str, object], key_label: str, lifetime: float,
                   agent: bool = False) -> dict[str, str | list[str]]:
    """The generator's fields for a token's settings, as query parameters that pre-fill it
    ("generate again with these settings"); never the token, only what it was asked with."""
    permissions = claims.get("permissions")
    permissions = permissions if isinstance(permissions, list) else []
    roles = claims.get("roles")
    query: dict[str, str | list[str]] = {
        "key": key_label,
        "join_mode": "ask_join" if "ask_join" in permissions else "allow_join",
    }
    if "allow_mod" in permissions:
        query["allow_mod"] = "y"
    if isinstance(roles, list) and roles:
        query["roles"] = [str(role) for role in roles]
    for claim, name in (("roomId", "room"), ("participantId", "participant")):
        if isinstance(claims.get(claim), str):
            query[name] = str(claims[claim])
    preset = next((p for p in PRESETS if parse_lifetime(p) == lifetime), None)
    if preset:
        query["lifetime"] = preset
    else:
        query["expires_in"] = format_lifetime(lifetime)
    if agent:
        query["agent"] = "y"
    return query


def _person() -> User:
    """The signed-in person (Flask-Login's proxy stands in for them wherever a User goes)."""
    person: User = current_user
    return person


@bp.route("/", methods=["GET", "POST"])
@roles_required(*MINTING_ROLES)
def generate() -> ResponseReturnValue:
    keys = active_keys()
    # A GET with settings (from "generate again with these settings") pre-fills the form;
    # only a POST ever mints.
    form = GenerateForm(formdata=request.args) if request.method == "GET" and request.args \
        else GenerateForm()
    form.setup(_offered(keys))
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("console/generate.html", form=form, keys=keys), status
    key = key_by_label(form.key.data or "")
    assert key is not None  # noqa: S101  validate_key accepted only an active key's label
    asked = form.asked_lifetime
    mint_request = MintRequest(
        permissions=form.permissions,
        roles=tuple(form.roles.data) if form.roles.data else None,
        room_id=form.room.data or None,
        participant_id=form.participant.data or None,
        expires_in=asked,
        agent=bool(form.agent.data),
    )
    try:
        minted = issuance.issue(mint_request, key, user=_person(), via="console")
    except MintError as error:
        # Refused whole, never trimmed: every message goes beside the field it concerns.
        issuance.refuse(error, key_label=key.label, via="console")
        form.place_errors(error.errors)
        return render_template("console/generate.html", form=form, keys=keys), 400
    except KeyringError as error:
        form.key.errors = [*form.key.errors, str(error)]
        return render_template("console/generate.html", form=form, keys=keys), 503
    return _result(minted, key, format_lifetime(parse_lifetime(asked)), bool(form.agent.data))


def _result(minted: MintedToken, key: VideoSDKKey, lifetime: str,
            agent: bool = False) -> ResponseReturnValue:
    """The one page that ever shows the token: the direct answer to the POST, never cached."""
    api_url = request.url_root.rstrip("/") + "/api/v1/tokens"
    page = render_template(
        "console/result.html",
        minted=minted,
        key=key,
        lifetime=lifetime,
        header_rows=_header_rows(_decoded_header(minted.token)),
        claim_rows=_explained(minted.claims),
        # Counted from the moment of signing, so a 2 h token reads "2 h" and not "1 h 59 min".
        expiry_words=describe_expiry(minted.expires_at, minted.issued_at),
        again_url=url_for("console.generate", **settings_query(  # type: ignore[arg-type]
            minted.claims, key.label, minted.expires_in, agent)),
        snippets=snippets.all_snippets(api_url, minted.claims, lifetime, minted.expires_in),
    )
    response = make_response(page, 200)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.route("/inspect", methods=["GET", "POST"])
@roles_required(*ROLES)
def inspect() -> ResponseReturnValue:
    form = InspectForm()
    if request.method != "POST":  # GET, and HEAD (link prefetchers) which must not act
        return render_template("console/inspect.html", form=form, diagnosis=None)
    if not form.validate_on_submit():
        form.secret.data = ""
        return render_template("console/inspect.html", form=form, diagnosis=None), 400
    secret = form.secret.data or None
    # The one-off secret is used for this request only: it leaves the form before rendering.
    form.secret.data = ""
    try:
        diagnosis = issuance.inspect(
            form.token.data or "",
            via="console",
            room_id=form.room.data or None,
            participant_id=form.participant.data or None,
            use=form.use.data or None,
            at=form.moment,
            secret=secret,
        )
    except KeyringError as error:
        return render_template("console/inspect.html", form=form, diagnosis=None,
                               failure=str(error)), 503
    # A paste that holds a stored or the one-off secret is not shown back (SPEC 3: no output
    # shows a value that holds one): the box comes back empty and the token is not split.
    exposes_secret = "secret_exposed" in diagnosis.codes
    if exposes_secret:
        form.token.data = ""
    asking = ask_videosdk.offer(diagnosis, form.room.data or None)
    if asking is not None and request.form.get("ask") == ask_videosdk.ASK:
        asking = ask_videosdk.ask(asking, diagnosis)
    now = datetime.now(UTC)
    picture = timeline.build(
        checked_at=diagnosis.checked_at,
        now=now,
        issued_at=diagnosis.issued_at,
        not_before=diagnosis.not_before,
        expires_at=diagnosis.expires_at,
    )
    return render_template(
        "console/inspect.html",
        form=form,
        diagnosis=diagnosis,
        header_rows=_header_rows(diagnosis.header),
        claim_rows=_explained(diagnosis.claims, diagnosis.signature_status),
        header_json=_pretty_json(diagnosis.header),
        payload_json=_pretty_json(diagnosis.claims),
        expiry_words=_expiry_words(diagnosis),
        timeline=picture,
        now=now,
        report=visible_lines(_report(diagnosis, form)),
        ask_videosdk=asking,
        show_parts=not exposes_secret,
    )


@bp.route("/tokens", endpoint="history")
@roles_required(*MINTING_ROLES)
def history_page() -> ResponseReturnValue:
    person = _person()
    is_admin = person.role == UserRole.ADMIN
    form = HistoryFilterForm(request.args)
    if not is_admin:
        del form.person
    theirs = token_history.visible_to(person)
    labels = token_history.key_labels(request.args.get("key"))
    form.key.choices = [SelectChoice("", "Any key")] + [SelectChoice(x, visible(x)) for x in labels]
    if is_admin:
        people = token_history.issuers(request.args.get("person"))
        form.person.choices = [SelectChoice("", "Anyone"),
                               *(SelectChoice(p, visible(p)) for p in people)]
    valid = form.validate() if request.args else True
    filters = token_history.Filters(
        key=form.key.data or None,
        room=(form.room.data or None) if not form.room.errors else None,
        issuer=(form.person.data or None) if is_admin else None,
        issued_from=form.issued_from.data if not form.issued_from.errors else None,
        issued_to=form.issued_to.data if not form.issued_to.errors else None,
    )
    if valid and request.args.get("format") == "csv":
        return _history_csv(token_history.filtered(theirs, filters))
    page_number = requested_page(request.args)
    page = paginate(token_history.filtered(theirs, filters), page_number, token_history.PER_PAGE)
    # The page links carry the filters on, and nothing else from the URL: a name such as
    # `endpoint` or `_external` would otherwise reach url_for itself.
    kept: dict[str, Any] = {field.name: request.args[field.name] for field in form
                            if request.args.get(field.name)}

    def page_url(number: int) -> str:
        return url_for("console.history", page=number, **kept)

    csv_url = url_for("console.history", format="csv", **kept)
    return render_template(
        "console/history.html",
        csv_url=csv_url,
        form=form,
        page=page,
        page_url=page_url,
        is_admin=is_admin,
        now=datetime.now(UTC),
        filtering=bool(kept),
    ), (200 if valid else 400)


def _history_csv(query: Select[tuple[IssuedToken]]) -> ResponseReturnValue:
    """The filtered history as a CSV download, as the audit page exports its trail."""
    check_export(query)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    response = Response(stream_with_context(token_history.csv_lines(query)),
                        mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="tokens-{stamp}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/tokens/<fingerprint>", endpoint="token")
@roles_required(*MINTING_ROLES)
def token_page(fingerprint: str) -> ResponseReturnValue:
    """One issued token: claims, full fingerprint, issuers, times, its audit lines (SPEC 4)."""
    if not FINGERPRINT.fullmatch(fingerprint):
        abort(404)
    person = _person()
    records = token_history.with_fingerprint(token_history.visible_to(person), fingerprint)
    if not records:
        abort(404)
    first = records[0]
    lifetime = (first.expires_at - first.issued_at).total_seconds()
    key = key_by_label(first.key_label)
    may_again = key is not None and not key.disabled
    return render_template(
        "console/token.html",
        records=records,
        token=first,
        claim_rows=_explained(first.claims),
        lifetime=format_lifetime(lifetime) if lifetime > 0 else None,
        now=datetime.now(UTC),
        events=token_history.audit_lines(fingerprint, person, since=first.issued_at),
        again_url=url_for("console.generate", **settings_query(  # type: ignore[arg-type]
            first.claims, first.key_label, lifetime)) if may_again and lifetime > 0 else None,
    )
