"""gunicorn settings for Token Console; override any of them on the command line.

    gunicorn --config gunicorn.conf.py wsgi:app

Environment: HOST, PORT, WEB_CONCURRENCY (workers), GUNICORN_THREADS, GUNICORN_TIMEOUT,
GUNICORN_MAX_REQUESTS, GUNICORN_DRAIN_SECONDS, FORWARDED_ALLOW_IPS.
"""

import ctypes
import importlib
import logging.handlers
import mmap
import multiprocessing
import os
import re
import signal
import socket
import struct
import tempfile
import threading
import time

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


# --- Start-up, SIGTERM and SIGHUP (SPEC 7) --------------------------------------------------

# On SIGTERM an instance first drains: /readyz answers 503 at once (so that a load balancer
# or an orchestrator sends new requests elsewhere) while the workers keep serving, then, this
# many seconds later, gunicorn stops as usual (stops accepting, lets running requests end
# within graceful_timeout). A second SIGTERM stops at once. 0 turns the drain off.
drain_seconds = float(os.environ.get("GUNICORN_DRAIN_SECONDS", "5"))

# The readiness state every worker of this instance shares (see webapp/health/lifecycle.py,
# whose byte layout this writes): a small memory file made by the master before any worker
# is forked, found by the workers through TOKEN_CONSOLE_STATE_FD.
STATE_FD = "TOKEN_CONSOLE_STATE_FD"
STATE_NAME = "token-console-state"
STATE_BYTES = 16
DRAINING_OFFSET = 0

# Libraries every worker imports, imported once in the master so that each worker (on start,
# and on each SIGHUP, which replaces them all) inherits them from the fork instead of reading
# them again: most of a worker's start-up time (see the README's "Restarts"). The app is still
# created in each worker and its blueprints and services imported there, so a SIGHUP loads
# their new code; upgrading one of these libraries needs a restart, not a SIGHUP (as does a
# change to webapp/logs.py and what it imports, which this file needs at its top).
PRELOADED_LIBRARIES = (
    "flask", "werkzeug", "jinja2", "click", "itsdangerous", "sqlalchemy", "sqlalchemy.orm",
    "sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.postgresql", "flask_sqlalchemy",
    "flask_migrate", "alembic.script", "flask_login", "flask_wtf", "flask_wtf.csrf", "wtforms",
    "flask_limiter", "limits", "flask_bootstrap", "flask_cors", "jwt", "cryptography.fernet",
    "argon2", "psycopg", "redis",
)


_state = None  # the master's mapping of the shared bytes, once on_starting has run


def _shared_state():
    """The shared readiness bytes, new for each master (a re-executed master too)."""
    if hasattr(os, "memfd_create"):  # Linux: memory only, whatever the disks hold
        fd = os.memfd_create(STATE_NAME)
        os.ftruncate(fd, STATE_BYTES)
    else:
        handle = tempfile.TemporaryFile()
        handle.write(bytes(STATE_BYTES))
        handle.flush()
        fd = os.dup(handle.fileno())
        handle.close()
    os.environ[STATE_FD] = str(fd)
    return mmap.mmap(fd, STATE_BYTES)


def on_starting(server):
    """In the master, before any worker: the shared state, then the preloaded libraries."""
    global _state
    _state = _shared_state()
    for name in PRELOADED_LIBRARIES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # an optional driver not installed here: the workers will not need it


def when_ready(server):
    """Once listening: SIGTERM drains first (see drain_seconds), then stops as gunicorn does."""
    stop = signal.getsignal(signal.SIGTERM)  # gunicorn's own: queue a graceful stop
    state = _state
    if drain_seconds <= 0 or not callable(stop) or state is None:
        return

    def drain_then_stop(signum, frame):
        if state[DRAINING_OFFSET] == 1:
            stop(signum, frame)  # a second SIGTERM: no more waiting
            return
        state[DRAINING_OFFSET] = 1
        handover = _Handover(server.LISTENERS, lambda: stop(signum, None))
        signal.signal(signal.SIGALRM, lambda _signum, _frame: handover.step())
        signal.setitimer(signal.ITIMER_REAL, drain_seconds)
        # Not from the handler itself, which may have interrupted a log call.
        threading.Thread(target=server.log.info, daemon=True, args=(
            "SIGTERM: /readyz answers 503; serving %.1f s more before stopping",
            drain_seconds)).start()

    signal.signal(signal.SIGTERM, drain_then_stop)


# Closing a listening socket resets every connection still waiting in its accept queue: a
# request nginx has already sent there is lost (a 502; nginx never resends a POST). So the
# drain ends in two steps. First the listening sockets stop answering new connections (a
# classic BPF socket filter drops incoming SYNs: a new connection attempt times out, before
# anything was sent, and nginx tries the next server) while the workers serve what is
# queued; once the queue is empty (Linux reports its length in TCP_INFO), gunicorn stops.
SO_ATTACH_FILTER = 26  # <asm-generic/socket.h>
_DROP_SYN = (  # ldb [13] (TCP flags); and #SYN|ACK; jeq #SYN, drop, keep; drop: ret #0
    (0x30, 0, 0, 13), (0x54, 0, 0, 0x12), (0x15, 0, 1, 0x02), (0x06, 0, 0, 0),
    (0x06, 0, 0, 0xFFFFFFFF),  # keep: ret #-1 (the whole packet)
)
HANDOVER_POLL = 0.05  # seconds between looks at the accept queue
HANDOVER_LIMIT = 10.0  # seconds at most, then stop anyway


class _Handover:
    """The end of the drain, run from SIGALRM in the master: close the door, empty the room."""

    def __init__(self, listeners, stop):
        self.listeners = list(listeners)
        self.stop = stop
        self.started = None
        self.empty_looks = 0
        self._program = None  # kept alive while the kernel copies it

    def step(self):
        if self.started is None:
            self.started = time.monotonic()
            if not self._refuse_new_connections():
                self.stop()
                return
        queued = sum(self._queued(listener) for listener in self.listeners)
        self.empty_looks = self.empty_looks + 1 if queued == 0 else 0
        if self.empty_looks >= 2 or time.monotonic() - self.started > HANDOVER_LIMIT:
            self.stop()
        else:
            signal.setitimer(signal.ITIMER_REAL, HANDOVER_POLL)

    def _tcp(self, listener):
        sock = socket.socket(fileno=os.dup(listener.fileno()))
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            sock.close()
            return None
        return sock

    def _refuse_new_connections(self):
        code = b"".join(struct.pack("HBBI", *line) for line in _DROP_SYN)
        self._program = ctypes.create_string_buffer(code)
        fprog = struct.pack("HP", len(_DROP_SYN), ctypes.addressof(self._program))
        done = False
        for listener in self.listeners:
            sock = self._tcp(listener)
            if sock is None:
                continue
            with sock:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
                    done = True
                except OSError:
                    return False  # not Linux: stop as gunicorn always did
        return done

    def _queued(self, listener):
        sock = self._tcp(listener)
        if sock is None:
            return 0
        with sock:
            try:
                info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
            except (OSError, AttributeError):
                return 0
        # struct tcp_info: 8 single bytes, then rto, ato, snd_mss, rcv_mss, unacked; on a
        # listening socket "unacked" is the length of the accept queue.
        return struct.unpack_from("I", info, 24)[0]
