"""What /readyz knows beyond one request: a failed write, and a shutdown under way (SPEC 7).

Both live in a few bytes that every gunicorn worker of an instance shares: gunicorn.conf.py
creates them in the master before any worker is forked (an anonymous memory file whose
descriptor the workers inherit, named by ``TOKEN_CONSOLE_STATE_FD``) and sets the draining
byte when SIGTERM arrives. Without gunicorn (``flask run``, the tests) the bytes are this
process's own. The layout, which gunicorn.conf.py writes without importing this package:

- byte 0: 1 while the instance drains (SIGTERM received, stopping soon), else 0;
- bytes 8-15: the time (``time.time()``, a little-endian double) of the last failed write
  since which no write has succeeded, else 0.0.

No Flask import here: the health views and the error handlers both use it.
"""

from __future__ import annotations

import mmap
import os
import stat
import struct
import threading
import time
from collections.abc import Mapping

STATE_FD = "TOKEN_CONSOLE_STATE_FD"
STATE_NAME = "token-console-state"  # the name gunicorn.conf.py gives its memory file
STATE_BYTES = 16
DRAINING_OFFSET = 0
WRITE_FAILED_OFFSET = 8
_DOUBLE = struct.Struct("<d")

# While writes are failing, /readyz tries one write of its own at most this often (seconds)
# per process, to learn that space (or write access) is back without a write on every probe.
WRITE_PROBE_INTERVAL = 2.0


class InstanceState:
    """The draining flag and the failed-write time, shared by the workers of one instance."""

    def __init__(self, buffer: mmap.mmap) -> None:
        self._buffer = buffer
        self._lock = threading.Lock()
        self._last_probe = 0.0

    @classmethod
    def attach(cls, environ: Mapping[str, str]) -> InstanceState:
        """The state the gunicorn master shares through ``TOKEN_CONSOLE_STATE_FD``, else a
        private one (a process not started by this repository's gunicorn.conf.py)."""
        descriptor = environ.get(STATE_FD, "")
        if descriptor.isdigit() and _is_state_file(int(descriptor)):
            try:
                return cls(mmap.mmap(int(descriptor), STATE_BYTES))
            except (OSError, ValueError):
                pass
        return cls(mmap.mmap(-1, STATE_BYTES))

    @property
    def draining(self) -> bool:
        """Whether SIGTERM has arrived: this instance stops accepting soon."""
        return self._buffer[DRAINING_OFFSET] == 1

    def begin_draining(self) -> None:
        """Mark the instance as draining (gunicorn.conf.py does this itself in the master)."""
        self._buffer[DRAINING_OFFSET] = 1

    @property
    def write_failed_at(self) -> float | None:
        """When a write last failed with no successful write since (epoch seconds), or None."""
        (failed_at,) = _DOUBLE.unpack_from(self._buffer, WRITE_FAILED_OFFSET)
        return failed_at or None

    def record_write_failure(self) -> None:
        """A write failed for want of space or write access: not ready until one succeeds."""
        _DOUBLE.pack_into(self._buffer, WRITE_FAILED_OFFSET, time.time())

    def record_write_success(self) -> None:
        """A write succeeded: storage takes writes again."""
        if self.write_failed_at is not None:
            _DOUBLE.pack_into(self._buffer, WRITE_FAILED_OFFSET, 0.0)

    def probe_due(self) -> bool:
        """Whether this process should try a write now (at most once per interval)."""
        now = time.monotonic()
        with self._lock:
            if now - self._last_probe < WRITE_PROBE_INTERVAL:
                return False
            self._last_probe = now
            return True


def _is_state_file(descriptor: int) -> bool:
    """Whether ``descriptor`` is the master's state file, not whatever a process that merely
    inherited the variable has open under that number (mapping that would corrupt it)."""
    try:
        found = os.fstat(descriptor)
    except OSError:
        return False
    if not stat.S_ISREG(found.st_mode) or found.st_size != STATE_BYTES:
        return False
    try:
        return os.readlink(f"/proc/self/fd/{descriptor}").startswith(f"/memfd:{STATE_NAME}")
    except OSError:
        return True  # no /proc (not Linux): gunicorn.conf.py made a 16-byte temporary file
