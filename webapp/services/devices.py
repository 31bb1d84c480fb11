"""Device cookies (OWASP's defence against lock-out by strangers; SPEC 4).

A browser that signed in as a person holds, for 30 days, a cookie of that person's own,
signed with the app's SECRET_KEY, naming that person and a random device id. Its sign-in
attempts for that person's email are counted apart (``accounts.begin_attempt``), so five
wrong passwords sent by anyone else never lock the person out of their own browser. A
cookie that is expired, forged, or names someone else counts as no cookie.

https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta

from flask import Response, current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from webapp.models import User, utcnow

COOKIE_PREFIX = "tc_device_"
LIFETIME = timedelta(days=30)
_SALT = "token-console device cookie"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(str(current_app.config["SECRET_KEY"]), salt=_SALT)


def cookie_name(user: User) -> str:
    """One cookie per person a browser signed in as, so that a second person signing in on
    the same browser leaves the first one's protection in place."""
    return f"{COOKIE_PREFIX}{user.id}"


def recognised_device(cookies: Mapping[str, str], user: User | None) -> str | None:
    """The device id of ``user``'s cookie among ``cookies`` when it is genuine, under 30 days
    old and names ``user``; None otherwise (no cookie, forged, expired, another person's, or
    no such account)."""
    if user is None:
        return None
    cookie = cookies.get(cookie_name(user))
    if not cookie:
        return None
    try:
        payload = _serializer().loads(cookie)
    except BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    person, device, issued = payload.get("user"), payload.get("device"), payload.get("issued")
    if person != user.id or not isinstance(device, str) or not isinstance(issued, int | float):
        return None
    age = utcnow().timestamp() - issued
    if not 0 <= age <= LIFETIME.total_seconds():
        return None
    return device


def remember_device(response: Response, user: User) -> None:
    """Give the browser that just signed in as ``user`` a fresh device cookie for 30 days."""
    value = _serializer().dumps({"user": user.id, "device": secrets.token_urlsafe(16),
                                 "issued": int(utcnow().timestamp())})
    response.set_cookie(
        cookie_name(user), value, max_age=int(LIFETIME.total_seconds()), path=url_for("auth.login"),
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]), httponly=True,
        samesite="Lax")
