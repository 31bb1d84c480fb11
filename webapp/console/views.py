"""Console pages: the generator, its one-time result page, the inspector and the history.

Thin adapters: minting and diagnosis go through `services.issuance`, which applies the policy,
records the issue and writes the audit trail, as it does for the API and the CLI.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import make_response, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import SelectChoice

from webapp.characters import visible, visible_json, visible_lines
from webapp.console import ask_videosdk, bp, snippets, timeline
from webapp.console.forms import GenerateForm, HistoryFilterForm, InspectForm, KeyChoice
from webapp.models import ROLES, User, UserRole, VideoSDKKey
from webapp.services import issuance, token_history
from webapp.services.authorization import MINTING_ROLES, roles_required
from webapp.services.videosdk_keys import KeyringError, active_keys, key_by_label
from webapp.tokens import (
    MintedToken,
    MintError,
    MintRequest,
    describe_expiry,
    explain_claim,
    format_lifetime,
    parse_lifetime,
    relative,
)
from webapp.tokens.reading import decode_segment, parse_object
from webapp.web.pagination import paginate, requested_page

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


def _explained(claims: dict[str, object] | None) -> list[tuple[str, str, str]]:
    """Each claim as (name, value as JSON, what it means in plain words)."""
    rows = []
    for name, value in (claims or {}).items():
        shown = _as_json(value)
        words = explain_claim(name, value).removeprefix(f"{name}: ")
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


def _person() -> User:
    """The signed-in person (Flask-Login's proxy stands in for them wherever a User goes)."""
    person: User = current_user
    return person


@bp.route("/", methods=["GET", "POST"])
@roles_required(*MINTING_ROLES)
def generate() -> ResponseReturnValue:
    keys = active_keys()
    form = GenerateForm()
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
    return _result(minted, key, format_lifetime(parse_lifetime(asked)))


def _result(minted: MintedToken, key: VideoSDKKey, lifetime: str) -> ResponseReturnValue:
    """The one page that ever shows the token: the direct answer to the POST, never cached."""
    now = datetime.now(UTC)
    api_url = request.url_root.rstrip("/") + "/api/v1/tokens"
    page = render_template(
        "console/result.html",
        minted=minted,
        key=key,
        lifetime=lifetime,
        header_rows=_header_rows(_decoded_header(minted.token)),
        claim_rows=_explained(minted.claims),
        expiry_words=describe_expiry(minted.expires_at, now),
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
    if request.method == "GET":
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
        claim_rows=_explained(diagnosis.claims),
        timeline=picture,
        now=now,
        report=visible_lines(diagnosis.report()),
        ask_videosdk=asking,
    )


@bp.route("/tokens", endpoint="history")
@roles_required(*MINTING_ROLES)
def history_page() -> ResponseReturnValue:
    person = _person()
    is_admin = person.role == UserRole.ADMIN
    form = HistoryFilterForm(request.args)
    if not is_admin:
        del form.person
    visible = token_history.visible_to(person)
    labels = token_history.key_labels(request.args.get("key"))
    form.key.choices = [SelectChoice("", "Any key")] + [SelectChoice(x, x) for x in labels]
    if is_admin:
        people = token_history.issuers(request.args.get("person"))
        form.person.choices = [SelectChoice("", "Anyone")] + [SelectChoice(p, p) for p in people]
    valid = form.validate() if request.args else True
    filters = token_history.Filters(
        key=form.key.data or None,
        room=(form.room.data or None) if not form.room.errors else None,
        issuer=(form.person.data or None) if is_admin else None,
        issued_from=form.issued_from.data if not form.issued_from.errors else None,
        issued_to=form.issued_to.data if not form.issued_to.errors else None,
    )
    page_number = requested_page(request.args)
    page = paginate(token_history.filtered(visible, filters), page_number, token_history.PER_PAGE)
    # The page links carry the filters on, and nothing else from the URL: a name such as
    # `endpoint` or `_external` would otherwise reach url_for itself.
    kept: dict[str, Any] = {field.name: request.args[field.name] for field in form
                            if request.args.get(field.name)}

    def page_url(number: int) -> str:
        return url_for("console.history", page=number, **kept)

    return render_template(
        "console/history.html",
        form=form,
        page=page,
        page_url=page_url,
        is_admin=is_admin,
        now=datetime.now(UTC),
        filtering=bool(kept),
    ), (200 if valid else 400)
