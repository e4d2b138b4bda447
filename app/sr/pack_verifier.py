"""Verify a whole sealed pack for a run request; returns facts or the first failure's reason.

Order: sealed → manifest digest → identity matches the locator → interface pack digest →
requested outputs exist and may be streamed → every gate of the gate map passes. Nothing is
read from an output before its gate passed (no PASS, no read).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from app.oracle.interface_pack import STREAMED_ROLES, InterfacePack, parse_interface_pack
from app.oracle.locator import WorldLocator
from app.oracle.pack_files import PACK_FORMAT, GateIndex, PackManifest, SealedMarker
from app.oracle.pack_reader import PackFileMissingError, PackReader
from app.rails.canonical_json import sha256_hex
from app.rails.digests import Digest
from app.rails.errors import ContractError
from app.rails.reason_codes import ReasonCode
from app.rails.run_facts import FactColumn, FactFile, FactGate, FactOutput
from app.sr.gate_verifier import GateReceipt, verify_gate
from app.sr.run_request import RunRequest

__all__ = ["PackVerdict", "verify_pack"]


@dataclass
class PackVerdict:
    """What SR learned: on success ``outputs``/``gates`` for the view; else a reason code."""

    reason_code: ReasonCode | None = None
    detail: str = ""
    manifest: PackManifest | None = None
    manifest_digest: Digest | None = None
    interface_digest: Digest | None = None
    receipts: list[GateReceipt] = field(default_factory=list)
    outputs: list[FactOutput] = field(default_factory=list)
    gates: list[FactGate] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.reason_code is None


def _digest(hex_: str) -> Digest:
    return Digest(algo="sha256", hex=hex_)


async def _manifest(reader: PackReader, verdict: PackVerdict) -> PackManifest | None:
    try:
        sealed = SealedMarker.model_validate_json(await reader.read("_SEALED.json"))
    except PackFileMissingError:
        verdict.reason_code, verdict.detail = ReasonCode.PACK_NOT_SEALED, "no _SEALED.json"
        return None
    except ValidationError as exc:
        verdict.reason_code, verdict.detail = ReasonCode.PACK_NOT_SEALED, f"bad seal: {exc}"
        return None
    try:
        raw = await reader.read("manifest.json")
    except PackFileMissingError:
        raw = b""
    if sealed.pack_format != PACK_FORMAT or sha256_hex(raw) != sealed.manifest_sha256:
        verdict.reason_code = ReasonCode.MANIFEST_DIGEST_MISMATCH
        verdict.detail = "manifest.json is missing or differs from the sealed digest"
        return None
    verdict.manifest_digest = _digest(sealed.manifest_sha256)
    try:
        return PackManifest.model_validate_json(raw)
    except ValidationError as exc:
        verdict.reason_code, verdict.detail = ReasonCode.MANIFEST_DIGEST_MISMATCH, str(exc)
        return None


def _identity_problem(manifest: PackManifest, locator: WorldLocator) -> str | None:
    claims = {"seed": locator.seed, "parameter_hash": locator.parameter_hash,
              "manifest_fingerprint": locator.manifest_fingerprint,
              "scenario_id": locator.scenario_id}
    wrong = [k for k, v in claims.items() if getattr(manifest, k) != v]
    return f"manifest disagrees with the locator on {wrong}" if wrong else None


async def _interface(reader: PackReader, manifest: PackManifest,
                     verdict: PackVerdict) -> InterfacePack | None:
    try:
        raw = await reader.read("interface_pack.yaml")
        if sha256_hex(raw) != manifest.interface_pack.sha256:
            raise ContractError("interface_pack.yaml differs from the manifest's digest")
        interface = parse_interface_pack(raw)
    except (PackFileMissingError, ContractError) as exc:
        verdict.reason_code, verdict.detail = ReasonCode.INTERFACE_PACK_INVALID, str(exc)
        return None
    verdict.interface_digest = _digest(manifest.interface_pack.sha256)
    return interface


def _streamed(request: RunRequest, interface: InterfacePack,
              verdict: PackVerdict) -> set[str] | None:
    if request.streamed_outputs is None:
        return {o.output_id for o in interface.outputs if o.role in STREAMED_ROLES}
    for output_id in request.streamed_outputs:
        try:
            role = interface.output(output_id).role
        except KeyError:
            verdict.reason_code = ReasonCode.OUTPUT_UNKNOWN
            verdict.detail = f"the engine catalogue has no output {output_id!r}"
            return None
        if role == "truth":
            verdict.reason_code = ReasonCode.TRUTH_NOT_STREAMABLE
            verdict.detail = f"{output_id!r} is truth: never streamed, evaluation only"
            return None
        if role == "reference":
            verdict.reason_code = ReasonCode.ROLE_NOT_STREAMABLE
            verdict.detail = f"{output_id!r} is reference data: read by reference, not streamed"
            return None
    return set(request.streamed_outputs)


async def verify_pack(reader: PackReader, locator: WorldLocator,
                      request: RunRequest) -> PackVerdict:
    """Run every check; never raises for a bad pack (infrastructure errors do raise)."""
    verdict = PackVerdict()
    manifest = await _manifest(reader, verdict)
    if manifest is None:
        return verdict
    verdict.manifest = manifest
    if (problem := _identity_problem(manifest, locator)) is not None:
        verdict.reason_code, verdict.detail = ReasonCode.LOCATOR_MISMATCH, problem
        return verdict
    interface = await _interface(reader, manifest, verdict)
    if interface is None:
        return verdict
    streamed = _streamed(request, interface, verdict)
    if streamed is None:
        return verdict
    for spec in interface.outputs:
        if manifest.output(spec.output_id) is None:
            verdict.reason_code = ReasonCode.OUTPUT_MISSING
            verdict.detail = f"the pack has no output {spec.output_id!r}"
            return verdict
    for gate in interface.gates:
        receipt = await verify_gate(reader, gate, manifest)
        verdict.receipts.append(receipt)
        if not receipt.passed:
            verdict.reason_code = receipt.reason_code
            verdict.detail = f"{gate.gate_id}: {receipt.detail}"
            return verdict
        assert receipt.bundle_digest is not None  # set on every PASS
        verdict.gates.append(FactGate(gate_id=gate.gate_id, bundle_digest=receipt.bundle_digest,
                                      files_verified=receipt.files_verified,
                                      bytes_verified=receipt.bytes_verified))
    verdict.outputs = await _fact_outputs(reader, interface, manifest, streamed)
    return verdict


async def _fact_outputs(reader: PackReader, interface: InterfacePack, manifest: PackManifest,
                        streamed: set[str]) -> list[FactOutput]:
    """Outputs with file digests taken from their (already verified) gate indexes."""
    indexed: dict[str, FactFile] = {}
    for gate in interface.gates:
        index = GateIndex.model_validate_json(await reader.read(f"gates/{gate.gate_id}/index.json"))
        for f in index.files:
            indexed[f.path] = FactFile(path=f.path, digest=_digest(f.sha256),
                                       size_bytes=f.size_bytes)
    outputs = []
    for spec in interface.outputs:
        entry = manifest.output(spec.output_id)
        assert entry is not None  # checked in verify_pack
        outputs.append(FactOutput(
            output_id=spec.output_id, role=spec.role, streamed=spec.output_id in streamed,
            event_type=spec.event_type, schema_version=spec.schema_version,
            time_column=spec.time_column, primary_key=spec.primary_key,
            row_count=entry.row_count, gate_id=spec.gate,
            files=tuple(indexed[p] for p in sorted(entry.files)),
            columns=tuple(FactColumn(name=c.name, type=c.type, nullable=c.nullable)
                          for c in spec.columns),
        ))
    return outputs
