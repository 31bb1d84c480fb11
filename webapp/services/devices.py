"""Device cookies (OWASP's defence against lock-out by strangers; SPEC 4).

A browser that signed in as a person holds, for 30 days, a cookie signed with the app's
SECRET_KEY naming that person and a random device id. Its sign-in attempts for that person's
email are counted apart (``accounts.begin_attempt``), so five wrong passwords sent by
anyone else never lock the person out of their own browser. A cookie that is expired,
forged, or names someone else counts as no cookie.

https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Response, current_app, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from webapp.models import User, utcnow

COOKIE_NAME = "tc_device"
LIFETIME = timedelta(days=30)
_SALT = "token-console device cookie"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(str(current_app.config["SECRET_KEY"]), salt=_SALT)


def recognised_device(cookie: str | None, user: User | None) -> str | None:
    """The device id of ``cookie`` when it is genuine, under 30 days old and names ``user``;
    None otherwise (no cookie, forged, expired, another person's, or no such account)."""
    if not cookie or user is None:
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
        COOKIE_NAME, value, max_age=int(LIFETIME.total_seconds()), path=url_for("auth.login"),
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]), httponly=True,
        samesite="Lax")
