"""In-process rate-limit counters for fixed windows, through `limits`' public storage API.

limits' own ``memory://`` storage starts a timer thread whenever a count is made and none is
running (about every other request under load), to sweep expired windows every 10 ms; on a
busy worker that cost more than the count itself (bench/run.py). A fixed window needs no
sweeping to stay correct: here a window that has ended counts as empty when it is next read,
and ended windows are dropped in one pass whenever the table grows past ``SWEEP_AT`` keys.

It registers the ``swept-memory://`` scheme (``limits.storage.Storage`` subclasses register
their ``STORAGE_SCHEME``, as limits documents for custom backends); web.rate_limits uses it
for ``memory://`` with the fixed-window strategy. Per process, like ``memory://``.
"""

from __future__ import annotations

import threading
import time

from limits.storage import Storage

SCHEME = "swept-memory"


class SweptMemoryStorage(Storage):
    """Counters per key, each with the moment its window ends; thread-safe within a process."""

    STORAGE_SCHEME = [SCHEME]
    SWEEP_AT = 10_000

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 **options: float | str | bool) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.windows: dict[str, tuple[int, float]] = {}  # key -> (count, window ends at)
        self.lock = threading.Lock()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to the key's count, opening a window of ``expiry`` seconds if none is
        open; the count after adding."""
        now = time.time()
        with self.lock:
            count, ends = self.windows.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + expiry
                if len(self.windows) >= self.SWEEP_AT:
                    self.windows = {name: window for name, window in self.windows.items()
                                    if window[1] > now}
            count += amount
            self.windows[key] = (count, ends)
        return count

    def get(self, key: str) -> int:
        """The key's count in its open window (0 when none is open)."""
        count, ends = self.windows.get(key, (0, 0.0))
        return count if ends > time.time() else 0

    def get_expiry(self, key: str) -> float:
        """When the key's open window ends (now when none is open), in epoch seconds."""
        now = time.time()
        ends = self.windows.get(key, (0, 0.0))[1]
        return ends if ends > now else now

    def check(self) -> bool:
        """Always reachable: it lives in this process."""
        return True

    def reset(self) -> int | None:
        """Forget every count; how many keys there were."""
        with self.lock:
            forgotten = len(self.windows)
            self.windows = {}
        return forgotten

    def clear(self, key: str) -> None:
        """Forget one key's count."""
        with self.lock:
            self.windows.pop(key, None)
