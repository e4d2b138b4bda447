"""The run ledger: SR's create-only record of a run in the platform object store (``sr/``).

    sr/runs/<run_id>/run_plan.json                   the request, its equivalence key and digest
    sr/runs/<run_id>/records/<seq>-<event>.json      what SR did, in order
    sr/runs/<run_id>/gates/<gate_id>.json            one receipt per verified gate
    sr/runs/<run_id>/status/<seq>-<STATUS>.json      status changes (latest = highest seq)
    sr/runs/<run_id>/run_facts_view.json             written before READY is published
    sr/runs/<run_id>/records/900-run_drained.json    the main job saw every planned step done

Every object is create-only and its bytes are a pure function of the run's evidence (no wall
clock), so a resumed or repeated request rewrites identical bytes (a no-op) and a conflicting
one is refused by the store.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from app.objectstore.base import ObjectStore
from app.rails.canonical_json import canonical_dumps, canonical_loads
from app.rails.control import ObjectLocator

__all__ = ["DRAINED_EVENT", "RunLedger", "RunStatus"]

RunStatus = Literal["PLANNED", "READY", "FAILED"]
DRAINED_SEQ = 900  # after every record SR itself writes
DRAINED_EVENT = "run_drained"


class RunLedger:
    """Reads and writes one run's ledger objects."""

    def __init__(self, store: ObjectStore, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self.prefix = f"sr/runs/{run_id}"

    async def _put(self, key: str, body: Any) -> ObjectLocator:
        data = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
        ref = await self.store.put(f"{self.prefix}/{key}", canonical_dumps(data))
        return ObjectLocator(object_key=ref.key, digest=ref.digest)

    async def write_plan(self, plan: dict[str, Any]) -> ObjectLocator:
        """Create-only: ObjectExistsError when a different plan holds this run_id."""
        return await self._put("run_plan.json", plan)

    async def read_plan(self) -> dict[str, Any] | None:
        return await self._get_json("run_plan.json")

    async def record(self, seq: int, event: str, body: dict[str, Any]) -> None:
        await self._put(f"records/{seq:03d}-{event}.json", {"event": event, **body})

    async def mark_drained(self) -> None:
        """Record that the run drained: every planned row has its receipt and every step the
        deployment runs is complete. IG then leaves the run behind when the bus is replaced
        (``app.ig.restore``). Idempotent (same bytes each time)."""
        await self.record(DRAINED_SEQ, DRAINED_EVENT, {"run_id": self.run_id})

    async def drained(self) -> bool:
        """Whether :meth:`mark_drained` was recorded."""
        return await self.store.exists(
            f"{self.prefix}/records/{DRAINED_SEQ:03d}-{DRAINED_EVENT}.json")

    async def write_gate_receipt(self, gate_id: str, receipt: BaseModel) -> None:
        await self._put(f"gates/{gate_id}.json", receipt)

    async def set_status(self, seq: int, status: RunStatus, reason_code: str | None = None,
                         detail: str = "") -> None:
        await self._put(f"status/{seq:03d}-{status}.json",
                        {"run_id": self.run_id, "status": status, "reason_code": reason_code,
                         "detail": detail})

    async def write_facts(self, view: BaseModel) -> ObjectLocator:
        return await self._put("run_facts_view.json", view)

    async def latest_status(self) -> dict[str, Any] | None:
        keys = await self.store.list(f"{self.prefix}/status")
        return await self._get_json(keys[-1].removeprefix(f"{self.prefix}/")) if keys else None

    async def records(self) -> list[dict[str, Any]]:
        keys = await self.store.list(f"{self.prefix}/records")
        return [await self._get_json(k.removeprefix(f"{self.prefix}/")) or {} for k in keys]

    async def gate_receipts(self) -> list[dict[str, Any]]:
        keys = await self.store.list(f"{self.prefix}/gates")
        return [await self._get_json(k.removeprefix(f"{self.prefix}/")) or {} for k in keys]

    async def _get_json(self, key: str) -> dict[str, Any] | None:
        full = f"{self.prefix}/{key}"
        if not await self.store.exists(full):
            return None
        return dict(canonical_loads(await self.store.get(full)))
