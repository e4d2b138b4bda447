"""The digest rail: ``{"algo": "sha256", "hex": <hex64>}`` over raw bytes or canonical JSON.

This module owns the one shape every digest takes on the wire (receipts, manifests, policy
revisions, quarantine references). Naming the algorithm in the value lets a later algorithm be
added without guessing what an old record meant; hashing JSON only through ``canonical_dumps``
means two producers of the same value always agree on its digest.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from app.rails.canonical_json import canonical_dumps, sha256_hex
from app.rails.ids import Hex64

__all__ = ["Digest", "digest_bytes", "digest_json", "digest_matches"]


class Digest(BaseModel):
    """A content digest: the algorithm and the lowercase hex of the hash."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    algo: Literal["sha256"]
    hex: Hex64


def digest_bytes(data: bytes) -> Digest:
    """Digest of raw bytes (files, quarantined records) exactly as stored."""
    return Digest(algo="sha256", hex=sha256_hex(bytes(data)))


def digest_json(value: Any) -> Digest:
    """Digest of a JSON value over its canonical bytes, so key order never changes it.

    Raises:
        ContractError: ``value`` has no canonical JSON form (see ``app.rails.canonical_json``).
    """
    return Digest(algo="sha256", hex=sha256_hex(canonical_dumps(value)))


def digest_matches(expected: Digest, data: bytes) -> bool:
    """Whether ``data`` has digest ``expected``; the check behind every "verify by recompute"."""
    return expected.algo == "sha256" and expected.hex == sha256_hex(bytes(data))
