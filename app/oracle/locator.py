"""World locators: where a sealed pack lives, and the identity its path claims.

``<oracle_root>/seed=<n>/parameter_hash=<hex64>/manifest_fingerprint=<hex64>/scenario_id=<id>``
as a local folder or ``s3://bucket/prefix/...``. The path's claims are checked against the
pack's manifest by SR; a locator alone proves nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.rails.errors import ContractError

__all__ = ["WorldLocator", "parse_locator"]

_TAIL = re.compile(
    r"(?:^|/)seed=(?P<seed>\d+)/parameter_hash=(?P<ph>[0-9a-f]{64})"
    r"/manifest_fingerprint=(?P<mf>[0-9a-f]{64})/scenario_id=(?P<sid>[A-Za-z0-9][A-Za-z0-9._-]*)/?$"
)


@dataclass(frozen=True)
class WorldLocator:
    """A parsed locator: the store root it lives under plus the four identity tokens."""

    uri: str
    root: str
    seed: int
    parameter_hash: str
    manifest_fingerprint: str
    scenario_id: str

    @property
    def is_s3(self) -> bool:
        return self.uri.startswith("s3://")

    @property
    def relative(self) -> str:
        """The pack folder relative to the Oracle root."""
        return (f"seed={self.seed}/parameter_hash={self.parameter_hash}/"
                f"manifest_fingerprint={self.manifest_fingerprint}/scenario_id={self.scenario_id}")


def parse_locator(uri: str) -> WorldLocator:
    """Parse a locator string.

    Raises:
        ContractError: the path does not end in the four identity tokens (LOCATOR_INVALID).
    """
    text = uri.rstrip("/")
    match = _TAIL.search(text)
    if match is None:
        raise ContractError(
            f"world locator {uri!r} must end in seed=N/parameter_hash=<hex64>/"
            "manifest_fingerprint=<hex64>/scenario_id=<id> (as printed by `fp world generate`)",
            reason_code="LOCATOR_INVALID",
        )
    root = text[: match.start()] or "."
    return WorldLocator(uri=text, root=root, seed=int(match["seed"]), parameter_hash=match["ph"],
                        manifest_fingerprint=match["mf"], scenario_id=match["sid"])
