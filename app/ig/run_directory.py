"""IG's view of runs: what SR declared, read by reference from SR's ledger, cached.

SR is the only readiness authority and its ledger (``sr/runs/<run_id>/``) is the truth; the
READY on the control topic is the trigger. IG looks runs up in the ledger because a Faust table
fed from the control topic is partitioned (an IG worker would see only some runs) and a global
table would race the first traffic of a fresh run. READY and FAILED are final, so they are cached
for good; an unknown run is re-checked after ``unknown_ttl_s`` (it may become READY).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from app.ig.admission import RunState
from app.objectstore.base import ObjectStore
from app.oracle.locator import parse_locator
from app.rails.control import ObjectLocator
from app.rails.pins import ContextPins
from app.rails.run_facts import RunFactsView
from app.sr.ledger import RunLedger

__all__ = ["RunDirectory"]


class RunDirectory:
    """``await refresh(run_ids)`` before a batch, then ``get(run_id)`` synchronously."""

    def __init__(self, store: ObjectStore, *, now: Callable[[], float],
                 unknown_ttl_s: float = 2.0) -> None:
        self.store = store
        self.now = now
        self.unknown_ttl_s = unknown_ttl_s
        self._final: dict[str, RunState] = {}
        self._unknown_until: dict[str, float] = {}

    def get(self, run_id: str) -> RunState | None:
        return self._final.get(run_id)

    def remember(self, run_id: str, state: RunState) -> None:
        """Record a final state learned elsewhere (e.g. a READY on the control topic)."""
        self._final[run_id] = state

    async def refresh(self, run_ids: Iterable[str]) -> None:
        """Look up every run not known to be final (and not recently found unknown)."""
        now = self.now()
        for run_id in set(run_ids):
            if run_id in self._final or self._unknown_until.get(run_id, 0.0) > now:
                continue
            state = await self._lookup(run_id)
            if state is None:
                self._unknown_until[run_id] = now + self.unknown_ttl_s
            else:
                self._final[run_id] = state
                self._unknown_until.pop(run_id, None)

    async def _lookup(self, run_id: str) -> RunState | None:
        if not _is_hex32(run_id):
            return None  # not a key the ledger could hold; the envelope check reports it
        ledger = RunLedger(self.store, run_id)
        status = await ledger.latest_status()
        if status is None or status["status"] not in ("READY", "FAILED"):
            return None
        plan = await ledger.read_plan() or {}
        if status["status"] == "FAILED":
            return _failed_state(run_id, plan)
        records = await ledger.records()
        facts = next((r for r in records if r.get("event") == "facts_written"), None)
        if facts is None:
            return None
        locator = ObjectLocator.model_validate(facts["run_facts"])
        view = RunFactsView.model_validate_json(
            await self.store.get(locator.object_key, expected=locator.digest))
        return RunState(pins=view.pins, seed=view.seed, status="READY")


def _is_hex32(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def _failed_state(run_id: str, plan: dict[str, object]) -> RunState | None:
    """A FAILED run: pins from the request's locator tokens (enough to reject its traffic)."""
    request = plan.get("request")
    if not isinstance(request, dict):
        return None
    locator = parse_locator(str(request["world_locator"]))
    pins = ContextPins(manifest_fingerprint=locator.manifest_fingerprint,
                       parameter_hash=locator.parameter_hash, scenario_id=locator.scenario_id,
                       run_id=run_id)
    return RunState(pins=pins, seed=locator.seed, status="FAILED")
