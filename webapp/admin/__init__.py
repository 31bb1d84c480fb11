"""Admin pages: VideoSDK keys, people, API clients and the audit trail (SPEC 4)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from webapp.admin import clients, keys, people, trail  # noqa: E402,F401
