"""Admin pages: VideoSDK keys, people, API clients and the audit trail (SPEC 4)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import views  # noqa: E402,F401
