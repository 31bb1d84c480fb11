"""The JSON API for the team's apps: mint, inspect, introspect, and the example servers' drop-in.

Bearer client keys only: a session cookie never authenticates here, so CSRF does not apply.
"""

from flask import Blueprint, Flask

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# The drop-in for VideoSDK's example servers lives at the root, where their apps call it.
dropin = Blueprint("dropin", __name__)

from webapp.api import authentication, cors, views  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Register both blueprints, free of CSRF and cookies, with CORS where configured."""
    from webapp.extensions import csrf

    # Bearer keys, never cookies, authenticate the API: there is no session to forge.
    csrf.exempt(bp)
    csrf.exempt(dropin)
    app.register_blueprint(bp)
    app.register_blueprint(dropin)
    authentication.init_app(app)
    cors.init_app(app)
