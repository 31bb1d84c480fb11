"""Secrets a paste hands out, and outputs that never show one (SPEC 3 `secret_exposed`).

A header or claim value (at any depth) that is or contains a stored secret or the one-off
secret exposes it; every output shows such a value as `[secret of key 'LABEL']` or
`[the secret given]` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from webapp.tokens.signature_finding import KnownKey

# A shorter secret is found only as a whole value: inside longer text it would match by chance.
MIN_CONTAINED = 8


@dataclass(frozen=True)
class _Secret:
    value: str
    label: str | None  # None for the one-off secret
    current: bool  # a replaced secret is hidden too, but exposes nothing VideoSDK accepts

    @property
    def placeholder(self) -> str:
        return f"[secret of key '{self.label}']" if self.label is not None else "[the secret given]"


@dataclass(frozen=True)
class Exposure:
    """A secret found in the paste: whose (None: the one-off secret) and where, in words."""

    label: str | None
    where: str


class SecretGuard:
    """The secrets to look for in one diagnosis: stored (current and replaced) and one-off."""

    def __init__(self, keys: Sequence[KnownKey], one_off: str | None) -> None:
        secrets = [_Secret(one_off, None, True)] if one_off else []
        for key in keys:
            if key.secret:
                secrets.append(_Secret(key.secret, key.label, True))
            secrets.extend(_Secret(old.secret, key.label, False)
                           for old in key.replaced_secrets if old.secret)
        self.secrets = tuple(secrets)
        self.exact = {s.value: s for s in reversed(self.secrets)}
        contained = [s for s in self.secrets if len(s.value) >= MIN_CONTAINED]
        self.contained = tuple(contained)
        self.shortest = min((len(s.value) for s in contained), default=0)

    def holders(self, text: str) -> tuple[_Secret, ...]:
        """Every secret `text` is or contains (a value may hold several: an old and a current
        secret side by side), the one it equals first."""
        exact = self.exact.get(text)
        found = [exact] if exact is not None else []
        if self.contained and len(text) >= self.shortest:
            found.extend(s for s in self.contained if s.value in text and s not in found)
        return tuple(found)

    def holder(self, text: str) -> _Secret | None:
        """The secret `text` is or contains, if any; a current one before a replaced one, so
        that the value is shown by the secret VideoSDK still accepts."""
        found = self.holders(text)
        return next((s for s in found if s.current), found[0] if found else None)

    def hide(self, value: object) -> object:
        """A copy of `value` with every string (and key) holding a secret replaced."""
        if not self.secrets:
            return value
        return self._hide(value, 0)

    def _hide(self, value: object, depth: int) -> object:
        if isinstance(value, str):
            secret = self.holder(value)
            return secret.placeholder if secret is not None else value
        if depth > 64:
            return value
        if isinstance(value, dict):
            return {str(self._hide(str(k), depth)): self._hide(v, depth + 1)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self._hide(v, depth + 1) for v in value]
        return value

    def text(self, text: str) -> str:
        """`text` with every secret in it replaced by its placeholder (for typed inputs)."""
        for secret in self.secrets:
            if secret.value and (secret.value == text or len(secret.value) >= MIN_CONTAINED):
                text = text.replace(secret.value, secret.placeholder)
        return text

    def exposures(self, part: str, value: object, path: str = "", depth: int = 0
                  ) -> list[Exposure]:
        """Every current secret in the decoded `part` ("header" or "payload"), with its place."""
        found: list[Exposure] = []
        if isinstance(value, str):
            found.extend(Exposure(secret.label, _place(part, path))
                         for secret in self.holders(value) if secret.current)
        elif isinstance(value, dict) and depth <= 64:
            for name, item in value.items():
                hidden = str(self._hide(str(name), 0))
                inner = f"{path}.{hidden}" if path else hidden
                found.extend(self.exposures(part, str(name), inner, depth + 1))
                found.extend(self.exposures(part, item, inner, depth + 1))
        elif isinstance(value, list) and depth <= 64:
            for index, item in enumerate(value):
                found.extend(self.exposures(part, item, f"{path}[{index}]", depth + 1))
        return found


def _place(part: str, path: str) -> str:
    if part == "payload":
        return f"the {path} claim" if path else "the payload"
    return f"the header's {path}" if path else "the header"
