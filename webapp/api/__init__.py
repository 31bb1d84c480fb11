"""The JSON API for the team's apps: mint, inspect, introspect, and the example servers' drop-in.

Bearer client keys only: a session cookie never authenticates here, so CSRF does not apply.
"""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# The drop-in for VideoSDK's example servers lives at the root, where their apps call it.
dropin = Blueprint("dropin", __name__)

from webapp.api import views  # noqa: E402,F401
