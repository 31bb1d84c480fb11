"""Forms of the admin pages: keys, people, API clients and the audit filters."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (  # type: ignore[attr-defined]
    DateField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.auth.forms import EMAIL_SHAPE
from webapp.characters import refusal, visible
from webapp.extensions import db
from webapp.models import ApiClient, UserRole, VideoSDKKey
from webapp.services import videosdk_keys
from webapp.services.accounts import find_user, normalize_email
from webapp.services.api_clients import SCOPES, rate_limit_problem
from webapp.tokens import LifetimeError, Permission, Role, parse_lifetime

ROLE_CHOICES = [SelectChoice(role.value, role.value.capitalize())
                for role in (UserRole.DEVELOPER, UserRole.SUPPORT, UserRole.ADMIN)]

PERMISSION_CHOICES = [p.value for p in Permission]
ROLE_CLAIM_CHOICES = [r.value for r in Role]
SCOPE_CHOICES = list(SCOPES)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value



def _refuse_unsafe_characters(what: str, field: StringField) -> None:
    """A control or format character refused beside the field, as the service refuses it
    (``characters.refusal``): names and ids are printed to terminals and shown on pages."""
    if problem := refusal(what, field.data or ""):
        raise ValidationError(problem)

class MultiCheckboxField(SelectMultipleField):
    """A set of checkboxes for a multiple choice (rendered by the checkbox_group macro)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActionForm(FlaskForm):
    """A bare form for one-button actions (disable, enable, revoke): its CSRF token only."""


def _check_secret(secret: str) -> None:
    if len(secret.encode("utf-8")) < videosdk_keys.MIN_SECRET_BYTES:
        raise ValidationError(
            f"Too short: a secret needs at least {videosdk_keys.MIN_SECRET_BYTES} bytes "
            f"(this one has {len(secret.encode('utf-8'))}). VideoSDK secrets are 64 "
            "hexadecimal characters; copy the whole secret from the VideoSDK dashboard."
        )


def _check_lifetime(value: str) -> None:
    try:
        seconds = parse_lifetime(value)
    except LifetimeError as error:
        raise ValidationError(str(error)) from error
    ceiling = current_app.config["MAX_TOKEN_LIFETIME"]
    if seconds > parse_lifetime(ceiling):
        raise ValidationError(f"At most {ceiling} (MAX_TOKEN_LIFETIME).")


class KeyPolicyFields(FlaskForm):
    """What a key allows: shared by the new-key and edit-key forms."""

    max_lifetime = StringField(
        "Maximum token lifetime",
        validators=[DataRequired(message="Give a lifetime such as 24h."), Length(max=32)],
        filters=[_strip],
    )
    permissions = MultiCheckboxField("Allowed permissions", choices=PERMISSION_CHOICES,  # type: ignore[arg-type]
                                     default=[p.value for p in Permission])
    roles = MultiCheckboxField("Allowed roles", choices=ROLE_CLAIM_CHOICES,  # type: ignore[arg-type]
                               default=[r.value for r in Role])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_submitted() and not self.max_lifetime.data:
            self.max_lifetime.data = current_app.config["DEFAULT_KEY_MAX_LIFETIME"]

    def validate_max_lifetime(self, field: StringField) -> None:
        _check_lifetime(field.data or "")

    def validate_permissions(self, field: MultiCheckboxField) -> None:
        if not field.data:
            raise ValidationError("Allow at least one permission, or no token can be minted.")


class NewKeyForm(KeyPolicyFields):
    label = StringField("Label", validators=[DataRequired(), Length(max=80)], filters=[_strip])
    apikey = StringField("API key", validators=[DataRequired(), Length(max=255)],
                         filters=[_strip])
    # Never rendered back: a refused form asks for the secret again.
    secret = PasswordField("Secret", validators=[DataRequired()], filters=[_strip])
    submit = SubmitField("Add key")

    def validate_label(self, field: StringField) -> None:
        _refuse_unsafe_characters("The label", field)
        if videosdk_keys.key_by_label(field.data or "") is not None:
            raise ValidationError("A key with this label exists already; choose another.")

    def validate_apikey(self, field: StringField) -> None:
        if any(ch.isspace() for ch in field.data or ""):
            raise ValidationError("An API key has no spaces; copy it again from the dashboard.")
        _refuse_unsafe_characters("The API key", field)
        taken = db.session.execute(
            select(VideoSDKKey.label).where(VideoSDKKey.apikey == field.data)
        ).scalar_one_or_none()
        if taken is not None:
            raise ValidationError(f"This API key is stored already, as {taken!r}.")

    def validate_secret(self, field: PasswordField) -> None:
        _check_secret(field.data or "")


class EditKeyForm(KeyPolicyFields):
    new_secret = PasswordField("New secret", validators=[Optional()], filters=[_strip])
    submit = SubmitField("Save changes")

    def validate_new_secret(self, field: PasswordField) -> None:
        _check_secret(field.data or "")


def _check_new_password(field: PasswordField) -> None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if field.data and not field.data.strip():
        raise ValidationError("Spaces alone are no password: type one, or leave the field "
                              "empty to generate one.")
    if field.data and len(field.data) < minimum:
        raise ValidationError(f"At least {minimum} characters, or leave empty to generate one.")


# Empty means "generate one"; spaces alone are not empty, and are refused beside the field.
_PASSWORD_OR_EMPTY = [Optional(strip_whitespace=False), Length(max=1024)]


class NewUserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)], filters=[_strip])
    role = SelectField("Role", choices=ROLE_CHOICES, default=UserRole.DEVELOPER.value)
    password = PasswordField("Password", validators=_PASSWORD_OR_EMPTY)
    submit = SubmitField("Create person")

    def validate_email(self, field: EmailField) -> None:
        if not EMAIL_SHAPE.fullmatch(field.data or ""):
            raise ValidationError("Enter an email address such as name@example.com.")
        _refuse_unsafe_characters("The email", field)
        if find_user(field.data or "") is not None:
            raise ValidationError(f"{normalize_email(field.data or '')} already has an account.")

    def validate_password(self, field: PasswordField) -> None:
        _check_new_password(field)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)
    submit = SubmitField("Change role")


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=_PASSWORD_OR_EMPTY)
    submit = SubmitField("Reset password")

    def validate_password(self, field: PasswordField) -> None:
        _check_new_password(field)


class ClientPolicyFields(FlaskForm):
    """What an API client may do: shared by the new-client and edit-client forms."""

    scopes = MultiCheckboxField("Scopes", choices=SCOPE_CHOICES, default=["tokens:mint"])  # type: ignore[arg-type]
    keys = MultiCheckboxField("Allowed keys", choices=[])
    max_lifetime = StringField("Maximum token lifetime", validators=[Optional(), Length(max=32)],
                               filters=[_strip])
    rate_limit = StringField("Rate limit", validators=[DataRequired(), Length(max=64)],
                             filters=[_strip])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keys.choices = [SelectChoice(key.label, visible(key.label))
                             for key in videosdk_keys.all_keys()]
        if not self.is_submitted() and not self.rate_limit.data:
            self.rate_limit.data = current_app.config["API_CLIENT_DEFAULT_RATE_LIMIT"]

    def validate_scopes(self, field: MultiCheckboxField) -> None:
        if not field.data:
            raise ValidationError("Choose at least one scope.")

    def validate_max_lifetime(self, field: StringField) -> None:
        _check_lifetime(field.data or "")

    def validate_rate_limit(self, field: StringField) -> None:
        problem = rate_limit_problem(field.data or "")
        if problem is not None:
            raise ValidationError(problem)


class NewClientForm(ClientPolicyFields):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)], filters=[_strip])
    submit = SubmitField("Create client")

    def validate_name(self, field: StringField) -> None:
        _refuse_unsafe_characters("The name", field)
        taken = db.session.execute(select(ApiClient.id).where(ApiClient.name == field.data))
        if taken.first() is not None:
            raise ValidationError("A client with this name exists already; choose another.")


class EditClientForm(ClientPolicyFields):
    submit = SubmitField("Save changes")


class AuditFilterForm(FlaskForm):
    """The audit trail's filters, read from the query string (GET: no CSRF)."""

    class Meta:
        csrf = False

    actor = StringField("Actor", validators=[Optional(), Length(max=254)], filters=[_strip])
    action = SelectField("Action", choices=[], validators=[Optional()])
    outcome = SelectField("Outcome", choices=[], validators=[Optional()])
    since = DateField("From (UTC)", validators=[Optional()])
    until = DateField("Until (UTC, inclusive)", validators=[Optional()])

    def validate_until(self, field: DateField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end date is before the start date.")
