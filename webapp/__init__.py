"""Token Console: mint, inspect and audit VideoSDK access tokens."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build a configured Token Console application: one ``init_app`` per concern.

    Settings come from the defaults, the instance folder, the environment and finally
    ``test_config`` (see webapp.config). Nothing here writes to the database.
    """
    from webapp import api, cli, config, database, health, logs
    from webapp.admin import bp as admin_bp
    from webapp.auth import bp as auth_bp
    from webapp.console import bp as console_bp
    from webapp.extensions import bootstrap
    from webapp.health import bp as health_bp
    from webapp.services import passwords, videosdk_api, videosdk_keys
    from webapp.web import display, errors, middleware, navigation, rate_limits, security

    test_config = dict(test_config or {})
    instance_path = test_config.pop("INSTANCE_PATH", None) or os.environ.get(
        "TOKEN_CONSOLE_INSTANCE_PATH")
    app = Flask(__name__, instance_path=str(instance_path) if instance_path else None,
                instance_relative_config=True, template_folder=str(PROJECT_ROOT / "templates"),
                static_folder=str(PROJECT_ROOT / "static"))
    config.init_app(app, test_config)
    logs.init_app(app)
    middleware.init_app(app)
    database.init_app(app)
    security.init_app(app)
    rate_limits.init_app(app)
    passwords.init_app(app)
    videosdk_keys.init_app(app)
    videosdk_api.init_app(app)
    videosdk_api.init_app(app)
    bootstrap.init_app(app)
    for blueprint in (health_bp, auth_bp, console_bp, admin_bp):
        app.register_blueprint(blueprint)
    api.init_app(app)
    cli.init_app(app)
    display.init_app(app)
    health.init_app(app)
    errors.init_app(app)
    navigation.init_app(app)
    return app
