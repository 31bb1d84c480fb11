"""The time rules of SPEC 3: iat, exp and nbf read as node jsonwebtoken 9 reads them.

Time claims are finite JSON numbers of seconds since 1970 (never booleans or strings); the
moment checked is floored to a whole second, as jsonwebtoken's clockTimestamp is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from webapp.tokens.lifetimes import format_lifetime
from webapp.tokens.moments import duration, iso_utc
from webapp.tokens.reading import js_number, show
from webapp.tokens.reasons import Findings, kind, names

MILLISECONDS_THRESHOLD = 1e11  # seconds-since-1970 values stay below this until the year 5138
FUTURE_TOLERANCE = 60  # seconds of clock skew forgiven on iat
ZONE_STEP = 15 * 60  # every time zone in use is a multiple of 15 minutes from UTC
MAX_ZONE = 14 * 3600  # UTC+14 (Kiribati) is the furthest ahead of UTC any clock runs
TIME_CLAIMS = ("iat", "exp", "nbf")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def moment(seconds: float) -> datetime | None:
    """The UTC datetime `seconds` after 1970, or None outside the calendar."""
    try:
        return _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return None


def when(seconds: float) -> str:
    """A time claim in words: ISO 8601 UTC, or the bare number outside the calendar."""
    at = moment(seconds)
    return iso_utc(at) if at is not None and at.year >= 1 else f"{seconds:g}"


def zone(gap: float) -> str | None:
    """'UTC+5:30' when a clock running `gap` seconds ahead looks like a local time taken as UTC.

    Only within FUTURE_TOLERANCE of a multiple of 15 minutes, and at most 14 h (SPEC 3
    `issued_in_future`): no clock runs further ahead of UTC.
    """
    steps = round(gap / ZONE_STEP)
    if steps < 1 or abs(gap - steps * ZONE_STEP) > FUTURE_TOLERANCE:
        return None
    offset = steps * ZONE_STEP
    if offset > MAX_ZONE:
        return None
    hours, minutes = divmod(offset // 60, 60)
    return f"UTC+{hours}" + (f":{minutes:02d}" if minutes else "")


def usable_times(found: Findings, claims: Mapping[str, object]) -> dict[str, float]:
    """The time claims that read as seconds; `invalid_time_claim` and `timestamps_in_ms` for
    the others (SPEC 3: `timestamps_in_ms` replaces that claim's other time codes)."""
    usable: dict[str, float] = {}
    invalid: list[str] = []
    in_ms: list[str] = []
    for name in TIME_CLAIMS:
        if name not in claims:
            continue
        number = js_number(claims[name])
        if number is None:
            invalid.append(f"{name} is {kind(claims[name])} ({show(claims[name])})")
        elif number > MILLISECONDS_THRESHOLD:
            in_ms.append(name)
        else:
            usable[name] = number
    if invalid:
        found.add(
            "invalid_time_claim",
            "Time claims must be finite numbers of seconds since 1970, but "
            f"{'; '.join(invalid)}. jsonwebtoken refuses such a token.",
            f"Set {names([i.split(' ')[0] for i in invalid])} as a whole number of seconds, "
            "or let jsonwebtoken do it: it sets iat itself, and exp from expiresIn: '1h'.",
        )
    if in_ms:
        shown = "; ".join(
            f"{n} is {show(claims[n])}, which as milliseconds is "
            f"{when((js_number(claims[n]) or 0) / 1000)}"
            for n in in_ms
        )
        found.add(
            "timestamps_in_ms",
            f"{names(in_ms)} {'is' if len(in_ms) == 1 else 'are'} in milliseconds, not "
            f"seconds ({shown}): read as seconds, they lie thousands of years ahead.",
            f"Divide {names(in_ms)} by 1000: in JavaScript use Math.floor(Date.now() / 1000), "
            "or let jsonwebtoken set iat and exp (expiresIn: '1h').",
        )
    return usable


DROPIN_LIFETIME = "10m"  # the example servers' lifetime, which /get-token keeps (SPEC 5)


def _expired_fix(usable: Mapping[str, float], now: float, via: str | None) -> str:
    """The fix for `expired` that fits the case (issue 16.6): a token of /get-token cannot be
    given another lifetime; a short-lived token used long after its end was stored."""
    exp, iat = usable["exp"], usable.get("iat")
    mark = unitless_string(exp - iat) if iat is not None else None
    if mark is not None:
        string, meant = mark
        return (f"Give expiresIn its unit where the token is signed (expiresIn: '{meant}', not "
                f"'{string}'), then mint a new one: minting again as before expires as fast.")
    if via == "get-token":
        return (f"Call /get-token again when the user joins: its tokens live {DROPIN_LIFETIME}"
                ", so fetch one for each join rather than keeping one.")
    if iat is not None and 0 < exp - iat <= 2 * 3600 and now - exp >= max(exp - iat, 600):
        return (f"Fetch a new token from your server when the user joins rather than storing "
                f"one: this one lived {duration(exp - iat)} and was used {duration(now - exp)} "
                "after it ended.")
    return ("Mint a new token. It is checked only when joining, so its lifetime must cover "
            "the time until the join (for example expiresIn: '1h'), not the whole meeting.")


def check_window(found: Findings, claims: Mapping[str, object], usable: Mapping[str, float],
                 now: float, *, via: str | None = None) -> None:
    """`expired`, `not_yet_valid` and `no_expiry` at the moment `now` (whole seconds); `via`
    is how this service minted the token, when it did."""
    exp = usable.get("exp")
    nbf = usable.get("nbf")
    if exp is not None and now >= exp:
        ago = f"expired {duration(now - exp)} ago" if now - exp >= 1 else "expired just now"
        found.add(
            "expired",
            f"The token {ago}: exp is {when(exp)}, checked at {when(now)}. VideoSDK "
            "answers 'Token is invalid or expired'.",
            _expired_fix(usable, now, via),
        )
    if nbf is not None and nbf > now:
        found.add(
            "not_yet_valid",
            f"The token is not valid before {when(nbf)} (nbf), {duration(nbf - now)} after "
            f"the moment checked ({when(now)}).",
            "Leave nbf out (no notBefore option), or set it at or before the moment of use.",
        )
    if "exp" not in claims:
        found.add(
            "no_expiry",
            "The token has no exp claim: it never expires, so a leaked copy works forever.",
            "Move expiresIn out of the payload into jwt.sign's options: jwt.sign(payload, "
            "secret, { expiresIn: '1h' })."
            if "expiresIn" in claims
            else "Sign with an expiry, for example jsonwebtoken's expiresIn: '1h'.",
        )


def check_iat(found: Findings, iat: float, exp: float | None, now: float) -> None:
    """`issued_in_future`, `born_expired` and `very_short_lifetime`, given a usable iat."""
    gap = iat - now
    if gap > FUTURE_TOLERANCE:
        offset = zone(gap)
        cause = (
            f"That looks like a {offset} clock: the signing server took its local time for UTC."
            if offset
            else "The signing server's clock is wrong."
        )
        found.add(
            "issued_in_future",
            f"iat says the token was signed at {when(iat)}, {duration(gap)} after the moment "
            f"checked ({when(now)}). {cause}",
            "Take iat from a UTC clock (Math.floor(Date.now() / 1000), or let jsonwebtoken "
            "set it) and keep the server's clock in sync (NTP).",
        )
    if exp is None:
        return
    if exp < iat:
        found.add(
            "born_expired",
            f"exp ({when(exp)}) is {duration(iat - exp)} before iat ({when(iat)}): the "
            "token was expired the moment it was signed.",
            "Set exp after iat; with jsonwebtoken pass expiresIn (for example '1h') instead "
            "of computing exp by hand.",
        )
    else:
        check_unitless(found, exp - iat)


# exp - iat that jsonwebtoken makes of a unitless expiresIn string (read as milliseconds,
# exp = iat + floor(N / 1000)), for the strings of hours and days in seconds (SPEC 3).
UNITLESS_MARKS: dict[int, tuple[str, str]] = {
    3: ("3600", "1h"), 7: ("7200", "2h"), 10: ("10800", "3h"), 14: ("14400", "4h"),
    21: ("21600", "6h"), 28: ("28800", "8h"), 43: ("43200", "12h"), 86: ("86400", "24h"),
    172: ("172800", "2d"), 259: ("259200", "3d"), 604: ("604800", "7d"),
    2592: ("2592000", "30d"),
}


def unitless_string(lifetime: float) -> tuple[str, str] | None:
    """(the likely expiresIn string, what it should have been) when `lifetime` (exp - iat, in
    seconds) is the mark of a unitless expiresIn string; None otherwise (SPEC 3)."""
    if 0 <= lifetime <= 1:
        return "120", "120m"
    if lifetime in UNITLESS_MARKS:
        return UNITLESS_MARKS[int(lifetime)]
    return None


def check_unitless(found: Findings, lifetime: float) -> None:
    """`very_short_lifetime`: exp - iat is what a unitless expiresIn string becomes."""
    mark = unitless_string(lifetime)
    if mark is None:
        return
    string, meant = mark
    if 0 <= lifetime <= 1:
        likely = ("a unitless expiresIn string under '2000' such as '120', '600' or '1800', "
                  "which jsonwebtoken reads as milliseconds; '120' should have been '120m'")
        fix = ("Sign with expiresIn: '120m' rather than '120': always give the unit ('120s', "
               "'120m', '2h'), or pass a number of seconds (7200).")
    else:
        likely = (f"expiresIn: '{string}' (a number of seconds written as a string, often from "
                  f"an environment variable), which jsonwebtoken reads as {string} "
                  f"milliseconds; it should have been '{meant}'")
        fix = (f"Sign with expiresIn: '{meant}' rather than '{string}': give the unit, or pass "
               f"the number itself (Number(process.env...), {string}), not a string.")
    found.add(
        "very_short_lifetime",
        f"exp is only {lifetime:g} s after iat. That is the mark of {likely}.",
        fix,
    )


def check_lifetime(found: Findings, usable: Mapping[str, float], now: float, *,
                   label: str, max_lifetime: float) -> None:
    """`long_lifetime`: exp beyond key `label`'s policy maximum, from iat or else from `now`."""
    exp = usable.get("exp")
    if exp is None:
        return
    iat = usable.get("iat")
    start = iat if iat is not None else now
    lifetime = exp - start
    if lifetime <= max_lifetime:
        return
    span = "from iat to exp" if iat is not None else "from the moment checked to exp"
    limit = format_lifetime(max_lifetime)
    found.add(
        "long_lifetime",
        f"The token lives {duration(lifetime)} ({span}), more than key "
        f"'{label}' allows here ({limit}).",
        f"Sign with a shorter lifetime, such as expiresIn: '{limit}' or less.",
    )
