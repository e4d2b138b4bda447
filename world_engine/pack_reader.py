"""Reads a sealed local world pack's manifest, after checking the seal names its bytes.

This module owns the engine-side read used by ``fp world show`` and the tests: a pack is readable
only when ``_SEALED.json`` exists and its ``manifest_sha256`` equals the sha256 of
``manifest.json``. Verifying gates (every file's digest) is the platform's job (SR); this reader
never decides that a pack's outputs may be consumed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from app.rails.canonical_json import canonical_loads, sha256_hex
from app.rails.reason_codes import ReasonCode
from world_engine.errors import WorldPackReadError
from world_engine.pack_writer import PACK_FORMAT

__all__ = ["read_sealed_manifest"]


def read_sealed_manifest(locator: str | os.PathLike[str]) -> dict[str, Any]:
    """The parsed ``manifest.json`` of the sealed pack at ``locator``.

    Raises:
        WorldPackReadError: no folder, no seal (reason ``PACK_NOT_SEALED``), or a seal whose
            digest or format does not match the manifest.
    """
    folder = Path(locator)
    where = str(folder)
    if not folder.is_dir():
        raise WorldPackReadError(where, "no such folder")
    seal_path = folder / "_SEALED.json"
    if not seal_path.is_file():
        raise WorldPackReadError(
            where,
            "no _SEALED.json: the pack is incomplete or still being written",
            reason_code=ReasonCode.PACK_NOT_SEALED.value,
        )
    try:
        seal = canonical_loads(seal_path.read_bytes())
        manifest_bytes = (folder / "manifest.json").read_bytes()
    except (OSError, ValueError) as exc:
        raise WorldPackReadError(where, f"cannot read the seal or manifest: {exc}") from exc
    if not isinstance(seal, dict) or seal.get("pack_format") != PACK_FORMAT:
        raise WorldPackReadError(where, f"_SEALED.json is not a {PACK_FORMAT} seal")
    if seal.get("manifest_sha256") != sha256_hex(manifest_bytes):
        raise WorldPackReadError(
            where,
            "manifest.json does not match the digest in _SEALED.json",
            reason_code=ReasonCode.GATE_DIGEST_MISMATCH.value,
        )
    manifest = canonical_loads(manifest_bytes)
    if not isinstance(manifest, dict):
        raise WorldPackReadError(where, "manifest.json is not a JSON object")
    return manifest
