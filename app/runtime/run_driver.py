"""``fp run start``: SR + streaming in one go for people, with progress and a summary.

Uses the running worker of the profile when one answers ``/v1/health`` (otherwise starts one,
and the embedded broker for the ``tansu`` wiring, and stops what it started). Progress is read
from IG's receipts in the object store (the durable record), not from a worker's counters.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from app.cli.sr_cmd import sr_run
from app.ig.receipt_log import ReceiptFollower
from app.objectstore.config import open_object_store
from app.profiles.loader import Profile
from app.profiles.wiring import TansuBroker
from app.rails.run_facts import RunFactsView
from app.runtime.bus_address import embedded_broker
from app.runtime.supervisor import WorkerProcess, http_json
from app.sr.run_request import RunRequest
from app.wsp.stream_plan import plan_for

__all__ = ["RunSummary", "start_run"]

_POLL_S = 1.0
_STALL_S = 120.0  # no new receipt for this long: report and stop waiting


@dataclass
class RunSummary:
    run_id: str
    status: str
    reason: str = ""
    planned_rows: int = 0
    receipts: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    reused: bool = False

    def lines(self) -> list[str]:
        if self.status != "READY":
            return [f"run {self.run_id}: {self.status} ({self.reason})"]
        rate = sum(self.receipts.values()) / self.seconds if self.seconds else 0.0
        again = " (an existing run: nothing new streamed; use another --label)" if self.reused \
            else ""
        out = [f"run {self.run_id}: READY{again}, {self.planned_rows:,} rows planned",
               "  receipts: " + ", ".join(f"{k} {v:,}" for k, v in sorted(self.receipts.items())),
               f"  streamed and decided in {self.seconds:.1f}s ({rate:,.0f} receipts/s)"]
        if self.reasons:
            out.append("  reasons: " + ", ".join(f"{k} {v:,}" for k, v in
                                                 self.reasons.most_common()))
        return out


async def _count_new_receipts(profile: Profile, run_id: str, follower: ReceiptFollower,
                              decisions: Counter[str], reasons: Counter[str]) -> None:
    """Add the receipts of ``run_id`` written since the follower's last poll to the counters."""
    async with open_object_store(profile.wiring.object_store, base_dir=profile.base_dir) as store:
        for receipt in await follower.poll(store):
            if receipt.run_id == run_id:
                decisions[receipt.decision.value] += 1
                reasons.update(c.value for c in receipt.reason_codes)


async def _planned_rows(profile: Profile, facts_key: str) -> int:
    async with open_object_store(profile.wiring.object_store, base_dir=profile.base_dir) as store:
        view = RunFactsView.model_validate_json(await store.get(facts_key))
    testing = profile.policy.testing
    return plan_for(view, testing.max_rows_per_output if testing.mode == "smoke" else None
                    ).total_rows


def _progress(done: int, total: int) -> None:
    width = 30
    filled = int(width * min(done, total) / total) if total else width
    sys.stderr.write(f"\r  streaming [{'#' * filled}{'.' * (width - filled)}] "
                     f"{done:,}/{total:,}")
    sys.stderr.flush()


def start_run(profile: Profile, profile_arg: str, world: str, scenario: str, *,
              log_dir: Path, run_label: str = "default") -> RunSummary:
    """Run SR for the world, wait until IG decided every planned row, summarize."""
    started_broker = False
    if isinstance(profile.wiring.broker, TansuBroker):
        broker = embedded_broker(profile)
        started_broker = broker.running() is None
        asyncio.run(broker.up(timeout_s=profile.wiring.broker.start_timeout_s))
    worker = WorkerProcess(profile_arg, profile.wiring.worker.web_port, log_dir / "worker.log")
    started_worker = http_json(f"{worker.base_url}/v1/health")[0] != 200
    try:
        if started_worker:
            worker.start()
        worker.wait_ready()
        t0 = time.monotonic()
        outcome = asyncio.run(sr_run(profile, RunRequest(world_locator=world,
                                                         scenario_id=scenario,
                                                         run_label=run_label)))
        summary = RunSummary(outcome.run_id, outcome.status, outcome.reason_code or "",
                             reused=outcome.reused)
        if outcome.ready is None:
            return summary
        summary.planned_rows = asyncio.run(_planned_rows(profile,
                                                         outcome.ready.run_facts.object_key))
        last_change, last_total = time.monotonic(), -1
        follower, decisions, reasons = ReceiptFollower(), Counter[str](), Counter[str]()
        while True:
            asyncio.run(_count_new_receipts(profile, outcome.run_id, follower, decisions, reasons))
            total = decisions["ADMIT"] + decisions["QUARANTINE"]  # re-sends are no new rows
            _progress(total, summary.planned_rows)
            if total != last_total:
                last_change, last_total = time.monotonic(), total
            if total >= summary.planned_rows or time.monotonic() - last_change > _STALL_S:
                break
            time.sleep(_POLL_S)
        sys.stderr.write("\n")
        summary.receipts, summary.reasons = decisions, reasons
        summary.seconds = time.monotonic() - t0
        return summary
    finally:
        if started_worker:
            worker.stop()
        if started_broker:
            embedded_broker(profile).down()
