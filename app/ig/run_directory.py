"""IG's view of runs: what SR declared, read by reference from SR's ledger, cached.

SR is the only readiness authority and its ledger (``sr/runs/<run_id>/``) is the truth; the
READY on the control topic is the trigger. IG looks runs up in the ledger because a Faust table
fed from the control topic is partitioned (an IG worker would see only some runs) and a global
table would race the first traffic of a fresh run. READY and FAILED are final, so they are cached
for good; a run in the ledger that is neither yet (``PLANNED``: its traffic is ``RUN_NOT_READY``)
and a run absent from the ledger (``PINS_UNKNOWN_RUN``) are re-checked after ``unknown_ttl_s``
(either may become READY). A READY run carries its plausible event-time window
(:mod:`app.ig.event_time`), derived from its ``run_facts_view``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from app.ig.admission import RunState
from app.ig.event_time import event_time_window
from app.objectstore.base import ObjectStore
from app.oracle.locator import parse_locator
from app.rails.control import ObjectLocator
from app.rails.payloads import PAYLOAD_MODELS
from app.rails.payloads.declared import declared_contracts
from app.rails.pins import ContextPins
from app.rails.run_facts import RunFactsView
from app.sr.ledger import RunLedger

__all__ = ["DEFAULT_EVENT_TIME_SKEW_S", "RunDirectory"]

DEFAULT_EVENT_TIME_SKEW_S = 3600.0
"""The skew of the profiles' ``policy.ingest.event_time_skew_s``, for readers without a policy."""


class RunDirectory:
    """``await refresh(run_ids)`` before a batch, then ``get(run_id)`` synchronously.

    Args:
        event_time_skew_s: widening of a READY run's declared span on both sides (seconds); IG
            passes ``policy.ingest.event_time_skew_s``.
    """

    def __init__(self, store: ObjectStore, *, now: Callable[[], float],
                 unknown_ttl_s: float = 2.0,
                 event_time_skew_s: float = DEFAULT_EVENT_TIME_SKEW_S) -> None:
        self.store = store
        self.now = now
        self.unknown_ttl_s = unknown_ttl_s
        self.event_time_skew_s = event_time_skew_s
        self._final: dict[str, RunState] = {}
        self._pending: dict[str, RunState] = {}
        self._unknown_until: dict[str, float] = {}

    def get(self, run_id: str) -> RunState | None:
        """READY or FAILED (final), PLANNED (as last looked up), or None (not in the ledger)."""
        return self._final.get(run_id) or self._pending.get(run_id)

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
            if state is None or state.status == "PLANNED":
                self._unknown_until[run_id] = now + self.unknown_ttl_s
                if state is not None:
                    self._pending[run_id] = state
            else:
                self._final[run_id] = state
                self._pending.pop(run_id, None)
                self._unknown_until.pop(run_id, None)

    async def _lookup(self, run_id: str) -> RunState | None:
        if not _is_hex32(run_id):
            return None  # not a key the ledger could hold; the envelope check reports it
        ledger = RunLedger(self.store, run_id)
        status = await ledger.latest_status()
        plan = await ledger.read_plan()
        if plan is None:
            return None  # SR writes the plan first: no plan, no run
        if status is None or status["status"] not in ("READY", "FAILED"):
            return _state_from_plan(run_id, plan, "PLANNED")
        if status["status"] == "FAILED":
            return _state_from_plan(run_id, plan, "FAILED")
        records = await ledger.records()
        facts = next((r for r in records if r.get("event") == "facts_written"), None)
        if facts is None:  # SR writes the facts before READY; not readable yet: not READY yet
            return _state_from_plan(run_id, plan, "PLANNED")
        locator = ObjectLocator.model_validate(facts["run_facts"])
        view = RunFactsView.model_validate_json(
            await self.store.get(locator.object_key, expected=locator.digest))
        return RunState(pins=view.pins, seed=view.seed, status="READY",
                        event_time_window=event_time_window(view, skew_s=self.event_time_skew_s),
                        declared=declared_contracts(view, frozenset(PAYLOAD_MODELS)))


def _is_hex32(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def _state_from_plan(run_id: str, plan: dict[str, object],
                     status: Literal["FAILED", "PLANNED"]) -> RunState | None:
    """A run that is not READY: pins from the request's locator tokens (enough to refuse its
    traffic with the right reason code)."""
    request = plan.get("request")
    if not isinstance(request, dict):
        return None
    locator = parse_locator(str(request["world_locator"]))
    pins = ContextPins(manifest_fingerprint=locator.manifest_fingerprint,
                       parameter_hash=locator.parameter_hash, scenario_id=locator.scenario_id,
                       run_id=run_id)
    return RunState(pins=pins, seed=locator.seed, status=status)
