"""Liveness and readiness probes for load balancers and orchestrators."""

from flask import Blueprint

bp = Blueprint("health", __name__)

from webapp.health import views  # noqa: E402,F401
