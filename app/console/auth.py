"""Who is acting in the console: per-investigator tokens from the environment, signed session
cookies and CSRF tokens.

Tokens are read once from an environment variable (default ``FP_CONSOLE_TOKENS``, the form
``ann=<token>,bob=<token>``) and are never written to an artifact or a log; a request
authenticates with ``Authorization: Bearer <token>`` or with the session cookie a login set.
The cookie and the CSRF token are HMACs under a key made when the console starts (sessions end
with the process). Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["TOKENS_ENV", "Investigators"]

TOKENS_ENV = "FP_CONSOLE_TOKENS"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@dataclass
class Investigators:
    tokens: Mapping[str, str]
    """investigator -> token."""
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    @classmethod
    def from_env(cls, variable: str = TOKENS_ENV,
                 environ: Mapping[str, str] | None = None) -> Investigators:
        """Parse ``name=token`` pairs; a malformed entry or a short token is refused (by name,
        never echoing a token)."""
        raw = (os.environ if environ is None else environ).get(variable, "")
        tokens: dict[str, str] = {}
        for entry in filter(None, (e.strip() for e in raw.split(","))):
            name, sep, token = entry.partition("=")
            if not sep or not _NAME.match(name) or len(token) < 16:
                raise ValueError(f"{variable}: each entry is name=token (a lower-case name, a "
                                 f"token of 16+ characters); entry {name[:64]!r} is not")
            tokens[name] = token
        return cls(tokens)

    def by_token(self, token: str) -> str | None:
        found = None
        for name, held in self.tokens.items():
            if hmac.compare_digest(held.encode(), token.encode()):
                found = name
        return found

    def _mac(self, purpose: str, name: str) -> str:
        return hmac.new(self.key, f"{purpose}:{name}".encode(), hashlib.sha256).hexdigest()

    def session_cookie(self, name: str) -> str:
        return f"{name}.{self._mac('session', name)}"

    def by_cookie(self, cookie: str) -> str | None:
        name, _, mac = cookie.rpartition(".")
        if name in self.tokens and hmac.compare_digest(mac, self._mac("session", name)):
            return name
        return None

    def csrf(self, name: str) -> str:
        return self._mac("csrf", name)

    def csrf_ok(self, name: str, token: str) -> bool:
        return hmac.compare_digest(token, self.csrf(name))
