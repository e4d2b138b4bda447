"""Models of a pack's own files (docs/world_pack_format.md): manifest, seal, gate index, flag.

Open models (``extra="ignore"``) for what engines write — the platform reads the fields it needs
and verifies them by digest, it does not police an engine's extra documentation fields.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.rails.digests import Digest

__all__ = [
    "PACK_FORMAT",
    "GateIndex",
    "GateIndexFile",
    "ManifestGate",
    "ManifestOutput",
    "PackManifest",
    "PassedFlag",
    "SealedMarker",
]

PACK_FORMAT = "fp.world_pack.v1"
_Read = ConfigDict(extra="ignore", frozen=True)


class SealedMarker(BaseModel):
    model_config = _Read

    pack_format: str
    manifest_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ManifestOutput(BaseModel):
    model_config = _Read

    output_id: str
    role: str
    row_count: int = Field(ge=0)
    files: tuple[str, ...]


class ManifestGate(BaseModel):
    model_config = _Read

    gate_id: str
    index_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class InterfaceRef(BaseModel):
    model_config = _Read

    version: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class PackManifest(BaseModel):
    model_config = _Read

    pack_format: str
    engine: dict[str, Any]
    interface_pack: InterfaceRef
    seed: int = Field(ge=0)
    parameter_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    manifest_fingerprint: str = Field(pattern=r"^[0-9a-f]{64}$")
    scenario_id: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    outputs: tuple[ManifestOutput, ...]
    gates: tuple[ManifestGate, ...]

    def output(self, output_id: str) -> ManifestOutput | None:
        return next((o for o in self.outputs if o.output_id == output_id), None)


class GateIndexFile(BaseModel):
    model_config = _Read

    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size_bytes: int = Field(ge=0)


class GateIndex(BaseModel):
    model_config = _Read

    gate_id: str
    files: tuple[GateIndexFile, ...]


class PassedFlag(BaseModel):
    model_config = _Read

    gate_id: str
    bundle_digest: Digest
