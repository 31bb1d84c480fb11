"""Sign-in, sign-out, password change, and the server-side sessions behind them."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from webapp.auth import views  # noqa: E402,F401
