"""The VideoSDK token domain: vocabulary, lifetimes, signing, minting and diagnosis.

Plain Python with no Flask import: the views, the API and the CLI are thin adapters over it.
"""

from webapp.tokens.cleaning import clean_paste
from webapp.tokens.diagnosis import (
    REASON_CODES,
    Diagnosis,
    Issuance,
    KnownKey,
    Lookup,
    Reason,
    ReplacedSecret,
    Severity,
    Use,
    Verdict,
    diagnose,
)
from webapp.tokens.field_errors import FIELD_ERROR_MEANINGS, FieldError, FieldErrorCode
from webapp.tokens.lifetimes import PRESETS, LifetimeError, format_lifetime, parse_lifetime
from webapp.tokens.minting import (
    MintedToken,
    MintError,
    MintRequest,
    Policy,
    PolicyViolation,
    mint,
)
from webapp.tokens.moments import describe_expiry, iso_utc, read_moment, relative
from webapp.tokens.signing import TRIMMED_NOTE, fingerprint, sign, signature_matches, trim_secret
from webapp.tokens.vocabulary import (
    PERMISSION_EXPLANATIONS,
    ROLE_EXPLANATIONS,
    Permission,
    Role,
    explain_claim,
)

__all__ = [
    "FIELD_ERROR_MEANINGS",
    "PERMISSION_EXPLANATIONS",
    "PRESETS",
    "REASON_CODES",
    "ROLE_EXPLANATIONS",
    "TRIMMED_NOTE",
    "Diagnosis",
    "FieldError",
    "FieldErrorCode",
    "Issuance",
    "KnownKey",
    "LifetimeError",
    "Lookup",
    "MintError",
    "MintRequest",
    "MintedToken",
    "Permission",
    "Policy",
    "PolicyViolation",
    "Reason",
    "ReplacedSecret",
    "Role",
    "Severity",
    "Use",
    "Verdict",
    "clean_paste",
    "describe_expiry",
    "diagnose",
    "explain_claim",
    "fingerprint",
    "format_lifetime",
    "iso_utc",
    "mint",
    "parse_lifetime",
    "read_moment",
    "relative",
    "sign",
    "signature_matches",
    "trim_secret",
]
