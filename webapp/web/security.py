"""Security for the people's side: CSRF, sign-in sessions, and security headers on every answer."""

from __future__ import annotations

from flask import Flask, Response, request

from webapp.extensions import csrf, login_manager

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)


# Added to every answer that does not set its own; (name, lower-case name, value).
_ALWAYS = tuple((name, name.lower(), value) for name, value in (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
))
HSTS = "max-age=63072000; includeSubDomains"


def _headers(response: Response) -> Response:
    headers = response.headers
    # What the answer set itself, read once: werkzeug's setdefault scans the whole list for
    # each header, which cost more than everything else here together.
    present = {name.lower() for name in headers.keys()}
    for name, lowered, value in _ALWAYS:
        if lowered not in present:
            headers.add(name, value)
    if request.is_secure and "strict-transport-security" not in present:
        headers.add("Strict-Transport-Security", HSTS)
    if response.mimetype == "text/html" and "cache-control" not in present:
        # Pages may show claims, keys and the audit trail: keep them out of caches.
        headers.add("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """CSRF on every form (OWASP CSRF cheat sheet), Flask-Login over the server-side session
    records of services.sessions, and the security headers on every answer."""
    from webapp.services import sessions

    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to open that page."
    login_manager.login_message_category = "info"
    # The server-side session record carries the protection (see services.sessions).
    login_manager.session_protection = None
    login_manager.user_loader(sessions.load_user)
    app.after_request(_headers)
