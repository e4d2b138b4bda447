"""Scenario Runner: request → run_id → ledger → verify → run_facts_view → READY (once).

SR is the only readiness authority. READY is published only after ``run_facts_view`` is
written, carries a deterministic ``message_id``, and is recorded in the ledger; a repeated
request reuses the run (re-publishing an unrecorded READY with the same bytes), a conflicting
one is refused, and a FAILED run stays failed.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.objectstore.base import ObjectStore
from app.objectstore.config import S3ObjectStoreConfig
from app.oracle.locator import parse_locator
from app.oracle.pack_reader import open_pack
from app.rails.canonical_json import canonical_dumps
from app.rails.control import ObjectLocator, RunReady
from app.rails.errors import ContractError, FraudPlatformError, ObjectExistsError
from app.rails.ids import ready_message_id
from app.rails.pins import ContextPins
from app.rails.policy_rev import PolicyRev
from app.rails.run_facts import RunFactsView
from app.sr.control_publisher import ControlPublisher
from app.sr.ledger import RunLedger
from app.sr.pack_verifier import PackVerdict, verify_pack
from app.sr.run_request import RunRequest, equivalence_key, request_digest, run_id_for

__all__ = ["RunConflictError", "RunOutcome", "run_scenario"]


class RunConflictError(FraudPlatformError):
    """Same equivalence key, different evidence: refused, never a second run."""

    reason_code = "RUN_CONFLICT"

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(
            f"run {run_id} already exists with a different request or policy; ask for a new "
            "run with --label, or repeat the original request exactly"
        )


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    status: str
    reason_code: str | None
    detail: str
    reused: bool
    facts: ObjectLocator | None = None
    ready: RunReady | None = None


async def run_scenario(request: RunRequest, *, store: ObjectStore, publisher: ControlPublisher,
                       policy_rev: PolicyRev, s3: S3ObjectStoreConfig | None = None) -> RunOutcome:
    """Create (or find) the run for ``request``, verify its world, and publish READY once.

    Raises:
        ContractError: the locator is malformed or names another scenario (no run is created).
        RunConflictError: the run exists with different evidence.
    """
    locator = parse_locator(request.world_locator)
    if locator.scenario_id != request.scenario_id:
        raise ContractError(
            f"scenario {request.scenario_id!r} does not match the world locator's "
            f"{locator.scenario_id!r}", reason_code="LOCATOR_MISMATCH")
    run_id = run_id_for(request, locator)
    digest_hex = request_digest(request, policy_rev)
    ledger = RunLedger(store, run_id)
    plan = {"run_id": run_id, "equivalence_key": equivalence_key(request, locator),
            "request": request.model_dump(mode="json"), "request_digest": digest_hex,
            "policy_rev": policy_rev.model_dump(mode="json")}
    try:
        await ledger.write_plan(plan)
    except ObjectExistsError as exc:
        raise RunConflictError(run_id) from exc

    status = await ledger.latest_status()
    if status is not None and status["status"] in ("READY", "FAILED"):
        return await _reuse(ledger, status, publisher)

    await ledger.set_status(1, "PLANNED")
    async with open_pack(locator, s3=s3) as reader:
        verdict = await verify_pack(reader, locator, request)
    for receipt in verdict.receipts:
        await ledger.write_gate_receipt(receipt.gate_id, receipt)
    if not verdict.passed:
        await ledger.record(2, "run_failed", {"reason_code": verdict.reason_code,
                                              "detail": verdict.detail})
        await ledger.set_status(2, "FAILED", verdict.reason_code, verdict.detail)
        return RunOutcome(run_id, "FAILED", verdict.reason_code, verdict.detail, reused=False)

    view = _facts_view(run_id, request, verdict, digest_hex, policy_rev)
    facts = await ledger.write_facts(view)
    await ledger.record(2, "facts_written", {"run_facts": facts.model_dump(mode="json")})
    ready = RunReady(message_id=ready_message_id(run_id, facts.digest.hex), run_id=run_id,
                     pins=view.pins, seed=view.seed, run_facts=facts, policy_rev=policy_rev)
    await ledger.set_status(3, "READY")
    await _publish(ledger, ready, publisher)
    return RunOutcome(run_id, "READY", None, "", reused=False, facts=facts, ready=ready)


def _facts_view(run_id: str, request: RunRequest, verdict: PackVerdict, digest_hex: str,
                policy_rev: PolicyRev) -> RunFactsView:
    manifest = verdict.manifest
    assert manifest is not None and verdict.manifest_digest and verdict.interface_digest
    pins = ContextPins(manifest_fingerprint=manifest.manifest_fingerprint,
                       parameter_hash=manifest.parameter_hash, scenario_id=manifest.scenario_id,
                       run_id=run_id)
    return RunFactsView(
        run_id=run_id, pins=pins, seed=manifest.seed, world_locator=request.world_locator,
        pack_format=manifest.pack_format, manifest_digest=verdict.manifest_digest,
        interface_pack_digest=verdict.interface_digest,
        engine={k: str(v) for k, v in manifest.engine.items()},
        outputs=tuple(verdict.outputs), gates=tuple(verdict.gates),
        request_digest=digest_hex, policy_rev=policy_rev,
    )


async def _publish(ledger: RunLedger, ready: RunReady, publisher: ControlPublisher) -> None:
    eb_ref = await publisher.publish(ready.run_id.encode(), canonical_dumps(
        ready.model_dump(mode="json")))
    await ledger.record(4, "ready_published", {"message_id": ready.message_id,
                                               "eb_ref": eb_ref.model_dump(mode="json")})


async def _reuse(ledger: RunLedger, status: dict[str, object],
                 publisher: ControlPublisher) -> RunOutcome:
    """A repeated request: report the run; finish an interrupted READY publish."""
    run_id = ledger.run_id
    if status["status"] == "FAILED":
        return RunOutcome(run_id, "FAILED", str(status["reason_code"]), str(status["detail"]),
                          reused=True)
    records = await ledger.records()
    facts_rec = next(r for r in records if r.get("event") == "facts_written")
    facts = ObjectLocator.model_validate(facts_rec["run_facts"])
    view = RunFactsView.model_validate_json(await ledger.store.get(facts.object_key,
                                                                   expected=facts.digest))
    ready = RunReady(message_id=ready_message_id(run_id, facts.digest.hex), run_id=run_id,
                     pins=view.pins, seed=view.seed, run_facts=facts, policy_rev=view.policy_rev)
    if not any(r.get("event") == "ready_published" for r in records):
        await _publish(ledger, ready, publisher)
    return RunOutcome(run_id, "READY", None, "", reused=True, facts=facts, ready=ready)
