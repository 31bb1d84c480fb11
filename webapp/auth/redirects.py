"""Where to send a person after signing in: only ever a path on this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a plain path on this site, else None.

    Refuses absolute and scheme-relative URLs, backslashes (which browsers
    read as slashes) and control characters.
    """
    if not target or len(target) > 2048:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
