"""Forms of the console: the generator, the inspector and the history filters.

The forms check only what a form can know (a choice, a length, a date). The rules of a
VideoSDK token belong to the domain: the generator hands them to `issuance.issue` and puts
the domain's messages beside the fields (see `GenerateForm.place_errors`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (  # type: ignore[attr-defined]
    BooleanField,
    DateField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from webapp.characters import visible
from webapp.tokens import PRESETS, Permission, Role, format_lifetime, parse_lifetime, read_moment

DEFAULT_PRESET = "1h"
PRESET_WORDS = {"10m": "10 minutes", "1h": "1 hour", "24h": "24 hours", "7d": "7 days",
                "30d": "30 days"}


class CheckboxesField(SelectMultipleField):
    """A multiple choice drawn as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class GenerateForm(FlaskForm):
    """What a developer asks of a token; the domain decides whether it may be signed."""

    key = SelectField("Sign with", validate_choice=False,
                      validators=[InputRequired("Choose the key that signs the token.")])
    join_mode = RadioField(
        "How the holder joins",
        choices=[SelectChoice(Permission.ALLOW_JOIN.value, "allow_join: joins directly"),
                 SelectChoice(Permission.ASK_JOIN.value, "ask_join: asks to be let in")],
        default=Permission.ALLOW_JOIN.value,
        validators=[InputRequired("Choose allow_join or ask_join.")],
    )
    allow_mod = BooleanField("allow_mod: may turn others' camera and microphone on and off")
    roles = CheckboxesField(
        "Roles",
        choices=[SelectChoice(Role.RTC.value, "rtc: meetings only"),
                 SelectChoice(Role.CRAWLER.value, "crawler: server-side APIs only")],
        validate_choice=False,
    )
    room = StringField("Room", filters=[_strip], validators=[Optional(), Length(max=255)])
    participant = StringField("Participant", filters=[_strip],
                              validators=[Optional(), Length(max=255)])
    lifetime = SelectField("Preset", default=DEFAULT_PRESET, validate_choice=False)
    expires_in = StringField("Or type a lifetime", filters=[_strip],
                             validators=[Optional(), Length(max=100)])
    agent = BooleanField("AI-agent token: only apikey and permissions")

    def setup(self, keys: Sequence[KeyChoice]) -> None:
        """Offer the usable keys and the presets, the default within the chosen key's maximum."""
        self.key.choices = [
            SelectChoice(k.label, k.option_text, {"data-max-lifetime": str(k.max_lifetime)})
            for k in keys
        ]
        if not self.key.data and keys:
            self.key.data = next((k.label for k in keys if not k.sandbox), keys[0].label)
        chosen = next((k for k in keys if k.label == self.key.data), None)
        limit = chosen.max_lifetime if chosen is not None else 0
        allowed = [p for p in PRESETS if parse_lifetime(p) <= limit]
        if not self.is_submitted() and allowed and self.lifetime.data not in allowed:
            self.lifetime.data = allowed[-1]
        # Every preset is drawn, so that without script a key with a longer maximum can still
        # be used with one; the script hides those beyond the chosen key's maximum, and the
        # server refuses one beside its field (policy_violation), never trims it.
        self.lifetime.choices = [
            SelectChoice(preset, PRESET_WORDS[preset],
                         {"data-seconds": str(int(parse_lifetime(preset)))})
            for preset in PRESETS
        ]

    def validate_key(self, field: SelectField) -> None:
        if field.data not in {choice.value for choice in field.iter_choices()}:  # type: ignore[attr-defined]
            raise ValidationError("Choose one of the active keys.")

    def validate_lifetime(self, field: SelectField) -> None:
        if field.data not in PRESETS:
            raise ValidationError(f"Choose one of {', '.join(PRESETS)}, or type a lifetime.")

    def validate_roles(self, field: CheckboxesField) -> None:
        unknown = [r for r in field.data or () if r not in {role.value for role in Role}]
        if unknown:
            raise ValidationError("Roles are crawler and rtc.")

    @property
    def asked_lifetime(self) -> str:
        """The lifetime as asked: the typed text when there is one, else the preset."""
        return self.expires_in.data or self.lifetime.data or DEFAULT_PRESET

    @property
    def permissions(self) -> tuple[str, ...]:
        """The permissions claim this form asks for."""
        chosen = [self.join_mode.data or ""]
        if self.allow_mod.data:
            chosen.append(Permission.ALLOW_MOD.value)
        return tuple(chosen)

    def place_errors(self, errors: Mapping[str, Sequence[str]]) -> None:
        """Put the domain's messages (keyed by API field name) beside the fields they concern."""
        for name, messages in errors.items():
            for message in messages:
                self._field_for(name, message).errors.append(message)

    def _field_for(self, name: str, message: str) -> Any:
        if name == "permissions":
            # The join mode is one radio choice, so a clash or a refusal that names allow_mod
            # can only be about the checkbox.
            return self.allow_mod if self.allow_mod.data and "allow_mod" in message \
                else self.join_mode
        if name == "expiresIn":
            return self.expires_in if self.expires_in.data else self.lifetime
        return {"roles": self.roles, "roomId": self.room, "participantId": self.participant,
                "apikey": self.key}.get(name, self.key)


@dataclass(frozen=True)
class KeyChoice:
    """A key as the generator offers it: label, maximum lifetime, sandbox mark."""

    label: str
    max_lifetime: int
    sandbox: bool

    @property
    def option_text(self) -> str:
        """The words in the key menu: label, sandbox mark and maximum lifetime."""
        mark = " (sandbox: unknown to VideoSDK)" if self.sandbox else ""
        # A limit is written one way everywhere, as the refusals and the admin pages write it.
        return f"{visible(self.label)}{mark}, max lifetime {format_lifetime(self.max_lifetime)}"


USES = [SelectChoice("", "Not given"), SelectChoice("join", "Join a meeting"),
        SelectChoice("api", "Call the server-side API")]


class InspectForm(FlaskForm):
    """A pasted token and, optionally, what the customer tried with it."""

    token = TextAreaField("Token", validators=[InputRequired("Paste a token to inspect.")])
    room = StringField("Room tried", filters=[_strip], validators=[Optional(), Length(max=255)])
    participant = StringField("Participant tried", filters=[_strip],
                              validators=[Optional(), Length(max=255)])
    use = RadioField("Used to", choices=USES, default="",
                     validators=[Optional()])
    at = StringField("When it was tried", filters=[_strip],
                     validators=[Optional(), Length(max=64)],
                     # Text, not datetime-local: a picker gives the viewer's local time without
                     # its offset, which would then be read as UTC.
                     render_kw={"placeholder": "2025-03-01T14:30+05:30", "inputmode": "text",
                                "autocomplete": "off", "spellcheck": "false",
                                "data-offset-hint": "true"})
    secret = PasswordField("One-off secret", validators=[Optional(), Length(max=1024)],
                           render_kw={"autocomplete": "off"})

    def validate_token(self, field: TextAreaField) -> None:
        limit = int(current_app.config["MAX_TOKEN_LENGTH"])
        size = len((field.data or "").encode("utf-8"))
        if size > limit:
            raise ValidationError(
                f"This paste is {size:,} bytes long; a token is at most {limit:,} bytes "
                f"({limit // 1024} KiB). Paste the token alone."
            )
        if not (field.data or "").strip():
            raise ValidationError("Paste a token to inspect.")

    def validate_at(self, field: StringField) -> None:
        parse_moment(field.data or "")

    @property
    def moment(self) -> datetime | None:
        """The moment of the attempt, or None for now."""
        return parse_moment(self.at.data) if self.at.data else None


def parse_moment(text: str) -> datetime:
    """An ISO 8601 moment typed by a person: UTC unless it carries an offset (or a Z)."""
    try:
        return read_moment(text)
    except OverflowError:
        raise ValidationError("This moment falls outside the calendar once moved to UTC.") from None
    except ValueError:
        raise ValidationError(
            "Write the moment as 2025-03-01T14:30 (taken as UTC) or with an offset, such as "
            "2025-03-01T14:30+05:30."
        ) from None


DATE_MESSAGE = "Write the date as YYYY-MM-DD."


class HistoryFilterForm(FlaskForm):
    """Filters of the token history, read from the query string."""

    class Meta:
        csrf = False  # a GET search changes nothing

    key = SelectField("Key", default="", validate_choice=False)
    room = StringField("Room", filters=[_strip], validators=[Optional(), Length(max=255)])
    person = SelectField("Issued by", default="", validate_choice=False)
    issued_from = DateField("Issued from", validators=[Optional()],  # type: ignore[call-arg]
                            invalid_value_message=DATE_MESSAGE)
    issued_to = DateField("Issued until", validators=[Optional()],  # type: ignore[call-arg]
                          invalid_value_message=DATE_MESSAGE)

    def validate_issued_to(self, field: DateField) -> None:
        if field.data and self.issued_from.data and field.data < self.issued_from.data:
            raise ValidationError("The end of the range is before its start.")
