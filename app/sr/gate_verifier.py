"""Verify one gate of a sealed pack by recomputing every digest: no PASS, no read.

A gate passes only when its ``_passed.flag`` names the sha256 of its ``index.json``, every
indexed file exists with the indexed sha256 and size, and the files of each covered output are
exactly the indexed ones (an added, removed or swapped part fails the gate).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.oracle.interface_pack import GateSpec
from app.oracle.pack_files import GateIndex, PackManifest, PassedFlag
from app.oracle.pack_reader import PackFileMissingError, PackReader
from app.rails.canonical_json import sha256_hex
from app.rails.digests import Digest
from app.rails.reason_codes import ReasonCode

__all__ = ["GateReceipt", "verify_gate"]


class GateReceipt(BaseModel):
    """SR's verdict on one gate, written to the run ledger and into run_facts_view."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gate_id: str
    passed: bool
    reason_code: ReasonCode | None = None
    detail: str = ""
    bundle_digest: Digest | None = None
    files_verified: int = Field(default=0, ge=0)
    bytes_verified: int = Field(default=0, ge=0)


def _fail(gate_id: str, code: ReasonCode, detail: str, **kw: object) -> GateReceipt:
    return GateReceipt(gate_id=gate_id, passed=False, reason_code=code, detail=detail, **kw)


async def verify_gate(reader: PackReader, gate: GateSpec, manifest: PackManifest) -> GateReceipt:
    """Recompute and compare every digest of ``gate``; never raises for a bad pack."""
    gid = gate.gate_id
    base = f"gates/{gid}"
    try:
        flag_bytes = await reader.read(f"{base}/_passed.flag")
    except PackFileMissingError:
        return _fail(gid, ReasonCode.GATE_FLAG_MISSING, f"{base}/_passed.flag is missing")
    try:
        index_bytes = await reader.read(f"{base}/index.json")
    except PackFileMissingError:
        return _fail(gid, ReasonCode.GATE_INDEX_INVALID, f"{base}/index.json is missing")
    try:
        flag = PassedFlag.model_validate_json(flag_bytes)
        index = GateIndex.model_validate_json(index_bytes)
    except ValidationError as exc:
        return _fail(gid, ReasonCode.GATE_INDEX_INVALID, f"unreadable flag or index: {exc}")
    if flag.gate_id != gid or index.gate_id != gid:
        return _fail(gid, ReasonCode.GATE_INDEX_INVALID, "flag or index names another gate")
    bundle_hex = sha256_hex(index_bytes)
    bundle = Digest(algo="sha256", hex=bundle_hex)
    if flag.bundle_digest.hex != bundle_hex:
        return _fail(gid, ReasonCode.GATE_DIGEST_MISMATCH,
                     "index.json does not match the digest _passed.flag names")
    listed = {f.path: f for f in index.files}
    for output_id in gate.outputs:
        entry = manifest.output(output_id)
        if entry is None:
            return _fail(gid, ReasonCode.OUTPUT_MISSING, f"manifest has no output {output_id}")
        present = set(await reader.list(f"outputs/{output_id}"))
        indexed = {p for p in listed if p.startswith(f"outputs/{output_id}/")}
        if not present:
            return _fail(gid, ReasonCode.OUTPUT_MISSING, f"output {output_id} has no files")
        if present != indexed or set(entry.files) != indexed:
            extra, missing = sorted(present - indexed), sorted(indexed - present)
            code = ReasonCode.OUTPUT_MISSING if missing else ReasonCode.GATE_DIGEST_MISMATCH
            return _fail(gid, code, f"output {output_id}: files differ from the gate index "
                                    f"(unlisted {extra[:3]}, missing {missing[:3]})")
    files = bytes_total = 0
    for path, expected in sorted(listed.items()):
        try:
            actual_hex, size = await reader.sha256(path)
        except PackFileMissingError:
            return _fail(gid, ReasonCode.OUTPUT_MISSING, f"{path} is missing")
        if actual_hex != expected.sha256 or size != expected.size_bytes:
            return _fail(gid, ReasonCode.GATE_DIGEST_MISMATCH,
                         f"{path}: sha256/size differ from the gate index")
        files += 1
        bytes_total += size
    return GateReceipt(gate_id=gid, passed=True, bundle_digest=bundle, files_verified=files,
                       bytes_verified=bytes_total)
