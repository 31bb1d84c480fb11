"""Command line: thin click commands over the same services the views call (SPEC 6)."""

from __future__ import annotations

from flask import Flask

from webapp.cli.clients import clients_cli
from webapp.cli.keys import keys_cli
from webapp.cli.setup import setup_command
from webapp.cli.tokens import token_cli
from webapp.cli.users import users_cli


def init_app(app: Flask) -> None:
    """Register the commands on the app's `flask` command."""
    app.cli.add_command(setup_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(token_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(clients_cli)
