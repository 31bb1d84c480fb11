"""Forms of the sign-in pages."""

from __future__ import annotations

import re

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

# Only the shape: enough to refuse a password typed into the email box before it is
# counted or audited, without claiming to validate deliverability. No control characters
# either: PostgreSQL cannot even look up a text holding NUL.
EMAIL_SHAPE = re.compile(r"[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+")


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()
    submit = SubmitField("Sign in")

    def validate_email(self, field: EmailField) -> None:
        if not EMAIL_SHAPE.fullmatch((field.data or "").strip()):
            raise ValidationError("Enter an email address, such as name@example.com.")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("new_password", message="The two entries differ.")],
    )
    submit = SubmitField("Change password")

    def validate_new_password(self, field: PasswordField) -> None:
        minimum = current_app.config["PASSWORD_MIN_LENGTH"]
        if len(field.data or "") < minimum:
            raise ValidationError(f"At least {minimum} characters.")
