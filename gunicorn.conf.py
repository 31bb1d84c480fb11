"""gunicorn settings for Token Console; override any of them on the command line.

    gunicorn --config gunicorn.conf.py wsgi:app

Environment: HOST, PORT, WEB_CONCURRENCY (workers), GUNICORN_THREADS, GUNICORN_TIMEOUT,
GUNICORN_MAX_REQUESTS, FORWARDED_ALLOW_IPS.
"""

import logging.handlers
import multiprocessing
import os
import re

from gunicorn import util
from gunicorn.glogging import Logger

from webapp.logs import OneLineFormatter

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
# Minting is CPU work (HMAC, JSON) plus a short database write: one process per core, plus
# one to use a core while another waits for the database. More processes than that only
# fight over the cores and over SQLite's single writer lock (bench/run.py: 5 workers on 2
# cores spent ~40% more CPU per token than 3, and doubled p99). On PostgreSQL, where a worker
# waits on the network, raise WEB_CONCURRENCY.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
# 1 thread: the sync worker. More: gthread, whose threads share one process and its pool.
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A request stuck longer than this (a database that stopped answering) gets its worker
# replaced; graceful_timeout is what SIGTERM and SIGHUP leave running requests to finish.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers after this many requests (0: never), staggered so they do not all restart
# together; a restart is graceful, like SIGHUP's.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
# The app is created in each worker after the fork, so no database connection or lock is ever
# shared between processes. Should someone turn preload on, webapp drops any pooled
# connection a forked worker inherited (os.register_at_fork) and each worker opens its own.
preload_app = False
accesslog = "-"
errorlog = "-"
# The path only (%(U)s), never the query string (%(q)s, or %(r)s which holds it) nor a request
# header: nothing secret may ride in a URL, but a careless client could still put a token
# there, and the Authorization header carries client keys. tests/scale checks this.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
# gunicorn's control socket is one fixed path per user: several instances on one machine (two
# apps, the benchmark) would fight over it, and nothing here uses it.
control_socket_disable = True
# Whose X-Forwarded-* headers gunicorn itself believes (for wsgi.url_scheme); the app's own
# ProxyFix settings (PROXY_FIX_X_FOR / _PROTO / _HOST) decide what Flask sees.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


# What gunicorn says of a request it could not parse quotes that request: a header line such
# as `Authorization Bearer tck_...` (no colon), a request line holding `?token=...`. Its log
# keeps the client's address and the kind of fault, never the quote; an error while handling
# a request names the path, never the query string. tests/test_no_leaks.py sends both.
_QUOTE = re.compile(r"""\s*b?['"].*""", re.DOTALL)


class RedactingLogger(Logger):
    """gunicorn's logger without the request text its messages about bad requests carry, and
    whose every line is one record with control characters escaped (webapp.logs): nothing a
    client sends can forge a line of the access or the error log. tests/scale checks both."""

    def setup(self, cfg):
        super().setup(cfg)
        # Built on each (re)configuration, after gunicorn has set its handlers up.
        formats = ((self.error_log, self.error_fmt, self.datefmt),
                   (self.access_log, self.access_fmt, None))
        for log, fmt, datefmt in formats:
            for handler in log.handlers:
                if not isinstance(handler, logging.handlers.SysLogHandler):
                    handler.setFormatter(OneLineFormatter(fmt, datefmt))

    def warning(self, msg, *args, **kwargs):
        if isinstance(msg, str) and msg.startswith("Invalid request from ip="):
            head, _, fault = msg.partition(": ")
            fault = _QUOTE.sub("", fault).rstrip(": ") or "malformed request"
            msg = f"{head}: {fault} (the rest, which quotes the request, is not logged)"
        super().warning(msg, *args, **kwargs)

    def exception(self, msg, *args, **kwargs):
        if isinstance(msg, str) and msg.startswith("Error handling request"):
            args = tuple(str(arg).split("?", 1)[0] for arg in args)
        super().exception(msg, *args, **kwargs)


logger_class = RedactingLogger


# The 400 page gunicorn writes for such a request quotes it back too: keep its status and
# reason, drop the quote. (Wrapped once, however often this file is read.)
def _write_error_without_quote(sock, status_int, reason, mesg):
    _write_error_without_quote.wrapped(sock, status_int, reason, "")


if not hasattr(util.write_error, "wrapped"):
    _write_error_without_quote.wrapped = util.write_error
    util.write_error = _write_error_without_quote
