"""Sign-in, sign-out, password change, and the server-side sessions behind them."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import views  # noqa: E402,F401
