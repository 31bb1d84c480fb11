"""Log lines a client cannot forge (SPEC 7).

Every record is written on one line, with control, format and line-separator characters
escaped (``\\x0a``, ``\\x1b``, ``\\u202e``): a path such as ``/x%0a127.0.0.1 "POST ...``
cannot start a fake line, ``%1b[31m`` cannot colour a terminal, ``%00`` cannot cut a line.
A traceback stays in its record, its line breaks escaped. gunicorn's access and error logs
(gunicorn.conf.py) and the app's own log use it.
"""

from __future__ import annotations

import logging

from flask import Flask
from flask.logging import default_handler

from webapp.characters import visible

APP_LOG_FORMAT = "[%(asctime)s] %(levelname)s in %(module)s: %(message)s"


class OneLineFormatter(logging.Formatter):
    """A formatter whose every record is one line with unsafe characters escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record))


def init_app(app: Flask) -> None:
    """Set the app's log level and write its records (``webapp.*`` loggers) one line each."""
    level = getattr(logging, str(app.config["LOG_LEVEL"]).upper(), logging.INFO)
    app.logger.setLevel(level)
    default_handler.setFormatter(OneLineFormatter(APP_LOG_FORMAT))
    # Flask leaves its handler out when some handler of the level exists higher up (a test
    # runner's, say): this app's records still go through the escaping formatter.
    if default_handler not in app.logger.handlers:
        app.logger.addHandler(default_handler)
    # Flask-Limiter writes "falling back to in-memory storage" (and "recovered") to its own
    # logger, which it silences with a NullHandler: operators would never learn that limits
    # stopped being shared. Its records go to the app's log too, once each as it logs them.
    limiter_log = logging.getLogger("flask-limiter")
    if _TO_APP_LOG not in limiter_log.handlers:
        limiter_log.addHandler(_TO_APP_LOG)
    if limiter_log.level == logging.NOTSET:  # else someone's logging set it: theirs wins
        limiter_log.setLevel(level)  # "recovered" is an INFO line


class _ForwardToAppLog(logging.Handler):
    """Hands a library's records to the handlers of the app's own logger ("webapp").

    Only to those: a logging set up on the root logger already receives them, as the
    library's logger propagates, and must not see them twice.
    """

    def emit(self, record: logging.LogRecord) -> None:
        app_log = logging.getLogger("webapp")
        if not app_log.isEnabledFor(record.levelno):
            return
        for handler in app_log.handlers:
            if record.levelno >= handler.level:
                handler.handle(record)


_TO_APP_LOG = _ForwardToAppLog()
