"""The team's console: the token generator, the inspector and the history."""

from flask import Blueprint

bp = Blueprint("console", __name__)

from webapp.console import views  # noqa: E402,F401
