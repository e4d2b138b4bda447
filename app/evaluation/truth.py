"""Ground truth for evaluation, read by reference from a sealed world pack, after the run.

Truth (the output whose role is ``truth``: a generated world's ``flow_truth``, an import's
``<event_type>_truth``; found by its role, never by its name) is never streamed and never a
feature input; this
module is its only reader, and nothing on the hot path imports it. It keeps *no PASS, no read*:
the pack's seal and manifest digest are checked, the truth output's gate is re-verified with SR's
own :func:`~app.sr.gate_verifier.verify_gate`, and every part's bytes are hashed against the
verified gate index before a row is decoded (so a part swapped after verification is caught too).
A run's world is found through SR's ledger (``run_facts_view``), never by scanning the Oracle.

Errors (all :class:`~app.rails.errors.FraudPlatformError`)::

    EvaluationError            base; ``reason_code`` says what an operator must fix
    ├── RunNotEvaluableError   run id malformed, unknown to SR, FAILED or not READY
    ├── TruthGateError         the pack's seal, manifest or truth gate does not PASS: refused
    └── TruthContentError      verified bytes that are not a usable truth table
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from app.objectstore.base import ObjectStore
from app.objectstore.config import S3ObjectStoreConfig
from app.oracle.interface_pack import InterfacePack, OutputSpec, parse_interface_pack
from app.oracle.locator import WorldLocator, parse_locator
from app.oracle.pack_files import GateIndex, PackManifest, SealedMarker
from app.oracle.pack_reader import PackFileMissingError, PackReader, open_pack
from app.rails.canonical_json import sha256_hex
from app.rails.control import ObjectLocator
from app.rails.digests import Digest
from app.rails.errors import ContractError, FraudPlatformError
from app.rails.ids import HEX32_PATTERN
from app.rails.run_facts import RunFactsView
from app.sr.gate_verifier import verify_gate
from app.sr.ledger import RunLedger

__all__ = [
    "TRUTH_LABELS",
    "TRUTH_OUTPUT_ID",
    "EvaluationError",
    "RunNotEvaluableError",
    "TruthContentError",
    "TruthGateError",
    "TruthRow",
    "load_truth",
    "locator_of_run",
    "run_facts_of",
    "truth_of_run",
    "truth_output_of",
]

TRUTH_OUTPUT_ID = "flow_truth"
"""The synthetic engine's truth output. Kept for readers of that engine's packs; evaluation
finds a world's truth by its role (``truth``), whatever the output is called."""
TRUTH_LABELS = ("legit", "fraud", "abuse")
"""Closed label vocabulary of a truth output's ``label`` column (interface pack v1)."""
_BAD_COLUMNS = ("is_fraud_or_abuse", "is_fraud")
"""The boolean "not legitimate" column: the generated world's, or an import's."""
_RUN_ID = re.compile(HEX32_PATTERN)


class EvaluationError(FraudPlatformError):
    """Base of evaluation refusals."""

    reason_code = "EVALUATION_ERROR"


class RunNotEvaluableError(EvaluationError):
    """The run cannot be evaluated: malformed id, unknown to SR, FAILED or not READY."""

    def __init__(self, run_id: str, reason_code: str, problem: str) -> None:
        self.run_id = run_id
        super().__init__(f"run {run_id!r}: {problem}", reason_code=reason_code)


class TruthGateError(EvaluationError):
    """No PASS, no read: the pack's truth is not verified, so it is not read at all."""

    def __init__(self, world: str, reason_code: str, detail: str) -> None:
        self.world, self.detail = world, detail
        super().__init__(f"world {world}: truth refused ({detail}); no PASS, no read: "
                         "evaluate against an intact sealed pack", reason_code=reason_code)


class TruthContentError(EvaluationError):
    """Verified truth bytes that still do not form a usable truth table."""

    reason_code = "TRUTH_CONTENT_INVALID"

    def __init__(self, world: str, path: str, problem: str) -> None:
        self.world, self.path = world, path
        super().__init__(f"world {world}: {path}: {problem}")


@dataclass(frozen=True, slots=True)
class TruthRow:
    """What one flow really was; joined to decisions by ``flow_id`` only after the run."""

    flow_id: str
    label: str
    subtype: str
    campaign_id: str | None
    is_fraud_or_abuse: bool


async def run_facts_of(store: ObjectStore, run_id: str) -> RunFactsView:
    """The READY run's ``run_facts_view``, read through SR's ledger and checked by digest.

    Raises:
        RunNotEvaluableError: RUN_ID_INVALID, RUN_UNKNOWN, RUN_FAILED or RUN_NOT_READY.
    """
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
        raise RunNotEvaluableError(str(run_id), "RUN_ID_INVALID",
                                   "a run_id is 32 lowercase hex characters (see `fp sr run`)")
    ledger = RunLedger(store, run_id)
    if await ledger.read_plan() is None:
        raise RunNotEvaluableError(run_id, "RUN_UNKNOWN",
                                   "SR has no such run in this profile's object store")
    status = await ledger.latest_status() or {}
    if status.get("status") == "FAILED":
        raise RunNotEvaluableError(run_id, "RUN_FAILED", f"SR failed the run "
                                   f"({status.get('reason_code')}): there is nothing to evaluate")
    facts = next((r for r in await ledger.records() if r.get("event") == "facts_written"), None)
    if status.get("status") != "READY" or facts is None:
        raise RunNotEvaluableError(run_id, "RUN_NOT_READY", "SR has not declared the run READY")
    ref = ObjectLocator.model_validate(facts["run_facts"])
    return RunFactsView.model_validate_json(await store.get(ref.object_key, expected=ref.digest))


async def locator_of_run(store: ObjectStore, run_id: str) -> WorldLocator:
    """The world of a READY run whose view lists SR-verified truth (errors: run_facts_of)."""
    return _truth_world(await run_facts_of(store, run_id))


async def truth_of_run(store: ObjectStore, run_id: str, *,
                       s3: S3ObjectStoreConfig | None = None) -> dict[str, TruthRow]:
    """Truth of a run's world, pinned to the manifest SR verified for that run."""
    view = await run_facts_of(store, run_id)
    return await load_truth(_truth_world(view), s3=s3, manifest_digest=view.manifest_digest,
                            output_id=truth_output_of(view))


def truth_output_of(view: RunFactsView) -> str:
    """The output id of the view's truth: the one output whose role is ``truth``.

    Raises:
        TruthGateError: OUTPUT_MISSING (no verified truth output) or TRUTH_AMBIGUOUS (several).
    """
    found = [o.output_id for o in view.outputs if o.role == "truth"]
    if not found:
        raise TruthGateError(view.world_locator, "OUTPUT_MISSING",
                             f"run {view.run_id}'s run_facts_view lists no verified output "
                             "with role truth")
    if len(found) > 1:
        raise TruthGateError(view.world_locator, "TRUTH_AMBIGUOUS",
                             f"run {view.run_id}'s run_facts_view lists several truth outputs "
                             f"{sorted(found)}")
    return found[0]


def _truth_world(view: RunFactsView) -> WorldLocator:
    """The view's world, provided SR listed its truth output as verified (no PASS, no read)."""
    truth_output_of(view)
    return parse_locator(view.world_locator)


async def load_truth(locator: WorldLocator | str, *, s3: S3ObjectStoreConfig | None = None,
                     manifest_digest: Digest | None = None, output_id: str | None = None
                     ) -> dict[str, TruthRow]:
    """flow id -> :class:`TruthRow` of the pack at ``locator``, after its truth gate PASSes.

    The flow id is the truth output's primary key (a generated world's ``flow_id``, an
    import's ``txn_id``: the flow id its decisions carry).

    Args:
        locator: the world locator (as SR recorded it).
        s3: S3 wiring, needed only for ``s3://`` packs.
        manifest_digest: when given (SR's view of a run), the pack must be that exact manifest.
        output_id: the truth output (as the run's view names it); None: the pack's one output
            whose role is ``truth``.

    Raises:
        TruthGateError: unsealed pack, manifest or interface digest mismatch, or the truth gate
            fails (reason code from SR's gate verifier); nothing of truth was decoded.
        TruthContentError: a part differs from the gate index at read time, is not Parquet,
            lacks a column, holds an unknown label or repeats a flow_id.
    """
    loc = parse_locator(locator) if isinstance(locator, str) else locator
    async with open_pack(loc, s3=s3) as reader:
        files, key = await _verified_truth_files(reader, loc, manifest_digest, output_id)
        truth: dict[str, TruthRow] = {}
        for path in files:
            data = await reader.read(path)
            if await asyncio.to_thread(sha256_hex, data) != files[path]:
                raise TruthContentError(loc.uri, path, "bytes differ from the verified gate index")
            _add_rows(truth, loc.uri, path, data, key)
    return truth


def _truth_spec(interface: InterfacePack, output_id: str | None) -> OutputSpec:
    """The truth output's catalogue entry: by id when given, else the one with role truth."""
    if output_id is not None:
        return interface.output(output_id)
    found = [o for o in interface.outputs if o.role == "truth"]
    if len(found) != 1:
        raise KeyError(f"{len(found)} outputs with role truth")
    return found[0]


async def _verified_truth_files(reader: PackReader, loc: WorldLocator, expected: Digest | None,
                                output_id: str | None) -> tuple[dict[str, str], str]:
    """Seal, manifest, interface pack and truth gate checks; returns ({part path: sha256 hex},
    the truth output's key column)."""
    try:
        sealed = SealedMarker.model_validate_json(await reader.read("_SEALED.json"))
        raw = await reader.read("manifest.json")
    except (PackFileMissingError, ValidationError) as exc:
        raise TruthGateError(loc.uri, "PACK_NOT_SEALED", f"no usable seal: {exc}") from exc
    if sha256_hex(raw) != sealed.manifest_sha256 or (
            expected is not None and expected.hex != sealed.manifest_sha256):
        raise TruthGateError(loc.uri, "MANIFEST_DIGEST_MISMATCH",
                             "manifest.json differs from the sealed (or SR-verified) digest")
    try:
        manifest = PackManifest.model_validate_json(raw)
        interface_raw = await reader.read("interface_pack.yaml")
        if sha256_hex(interface_raw) != manifest.interface_pack.sha256:
            raise ContractError("interface_pack.yaml differs from the manifest's digest")
        interface = parse_interface_pack(interface_raw)
        spec = _truth_spec(interface, output_id)
        gate = interface.gate(spec.gate)
    except (ValidationError, PackFileMissingError, ContractError, KeyError) as exc:
        raise TruthGateError(loc.uri, "INTERFACE_PACK_INVALID",
                             f"cannot locate the truth output and its gate: {exc}") from exc
    if spec.role != "truth" or spec.output_id not in gate.outputs:
        raise TruthGateError(loc.uri, "INTERFACE_PACK_INVALID",
                             f"{spec.output_id} is not a gated truth output")
    receipt = await verify_gate(reader, gate, manifest)
    if not receipt.passed:
        raise TruthGateError(loc.uri, str(receipt.reason_code),
                             f"{gate.gate_id} did not PASS: {receipt.detail}")
    index_raw = await reader.read(f"gates/{gate.gate_id}/index.json")
    if receipt.bundle_digest is None or sha256_hex(index_raw) != receipt.bundle_digest.hex:
        raise TruthGateError(loc.uri, "GATE_DIGEST_MISMATCH",
                             f"{gate.gate_id}/index.json changed after it was verified")
    prefix = f"outputs/{spec.output_id}/"
    files = sorted(GateIndex.model_validate_json(index_raw).files, key=lambda f: f.path)
    return {f.path: f.sha256 for f in files if f.path.startswith(prefix)}, spec.primary_key[0]


def _add_rows(truth: dict[str, TruthRow], world: str, path: str, data: bytes, key: str) -> None:
    """Decode one verified part into ``truth`` (column-wise: far cheaper than row dicts).

    Columns: the flow key (the output's primary key), ``label``, ``subtype`` (null: the label),
    ``campaign_id`` (optional) and the "not legitimate" flag (``is_fraud_or_abuse`` or an
    import's ``is_fraud``)."""
    try:
        table = pq.read_table(pa.BufferReader(data))
        names = set(table.column_names)
        bad_column = next(c for c in _BAD_COLUMNS if c in names)
        keys = table.column(key).to_pylist()
        labels = table.column("label").to_pylist()
        subtypes = table.column("subtype").to_pylist()
        bads = table.column(bad_column).to_pylist()
    except (pa.ArrowException, OSError, KeyError, StopIteration) as exc:
        raise TruthContentError(world, path, f"not a readable truth table: {exc!r}") from exc
    campaigns = (table.column("campaign_id").to_pylist() if "campaign_id" in names
                 else [None] * len(keys))
    for flow_id, label, subtype, campaign_id, bad in zip(keys, labels, subtypes, campaigns, bads,
                                                          strict=True):
        if subtype is None and key != "flow_id":
            subtype = label  # an import without a subtype column
        if not isinstance(flow_id, str) or label not in TRUTH_LABELS or not subtype:
            raise TruthContentError(world, path, f"bad truth row for flow {flow_id!r}")
        if bool(bad) != (label != "legit"):
            raise TruthContentError(world, path,
                                    f"flow {flow_id}: is_fraud_or_abuse contradicts {label!r}")
        if flow_id in truth:
            raise TruthContentError(world, path, f"flow {flow_id} appears twice")
        truth[flow_id] = TruthRow(flow_id, label, subtype, campaign_id, bool(bad))
