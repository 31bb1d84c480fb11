"""Liveness and readiness probes for load balancers and orchestrators."""

import os

from flask import Blueprint, Flask

from webapp.health.lifecycle import InstanceState

bp = Blueprint("health", __name__)


def init_app(app: Flask) -> None:
    """Attach the readiness state this instance's workers share (see health.lifecycle)."""
    app.extensions["instance_state"] = InstanceState.attach(os.environ)


from webapp.health import views  # noqa: E402,F401
