"""IG's view of runs from SR's real ledger: READY with its window, FAILED, PLANNED, unknown."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.ig.event_time import event_time_window
from app.ig.run_directory import RunDirectory
from app.objectstore.local import LocalObjectStore
from app.rails.run_facts import RunFactsView
from app.sr.ledger import RunLedger
from tests.unit.wsp.conftest import build_view


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def view(tiny_world: Path) -> RunFactsView:
    return build_view(tiny_world)


async def _plan(store: LocalObjectStore, view: RunFactsView) -> RunLedger:
    """What SR writes first: the plan, then the PLANNED status."""
    ledger = RunLedger(store, view.run_id)
    await ledger.write_plan({"run_id": view.run_id,
                             "request": {"world_locator": view.world_locator,
                                         "scenario_id": view.pins.scenario_id}})
    await ledger.set_status(1, "PLANNED")
    return ledger


async def _ready(ledger: RunLedger, view: RunFactsView) -> None:
    """What SR writes to make a run READY: the facts, their record, then the status."""
    facts = await ledger.write_facts(view)
    await ledger.record(2, "facts_written", {"run_facts": facts.model_dump(mode="json")})
    await ledger.set_status(3, "READY")


def test_a_planned_run_is_not_ready_and_is_looked_up_again_until_it_is(
        tmp_path: Path, view: RunFactsView) -> None:
    """Regression #11 item 10: a run in the ledger but not READY must be told apart from an
    unknown one (RUN_NOT_READY vs PINS_UNKNOWN_RUN), and must not be cached as final."""
    async def scenario() -> None:
        store, clock = LocalObjectStore(tmp_path), _Clock()
        directory = RunDirectory(store, now=clock, unknown_ttl_s=2.0, event_time_skew_s=600)
        await directory.refresh([view.run_id])
        assert directory.get(view.run_id) is None  # not in the ledger at all
        ledger = await _plan(store, view)
        clock.t = 3.0
        await directory.refresh([view.run_id])
        planned = directory.get(view.run_id)
        assert planned is not None and planned.status == "PLANNED"
        assert planned.pins == view.pins and planned.seed == view.seed
        await _ready(ledger, view)
        clock.t = 4.0  # within the TTL: still the last answer, no lookup
        await directory.refresh([view.run_id])
        assert directory.get(view.run_id) == planned
        clock.t = 6.0
        await directory.refresh([view.run_id])
        ready = directory.get(view.run_id)
        assert ready is not None and ready.status == "READY" and ready.pins == view.pins
        assert ready.event_time_window == event_time_window(view, skew_s=600)
        clock.t = 1e9  # final: never looked up again
        await store.close()
        await directory.refresh([view.run_id])
        assert directory.get(view.run_id) == ready

    asyncio.run(scenario())


def test_a_failed_run_is_final_with_the_pins_of_its_request(
        tmp_path: Path, view: RunFactsView) -> None:
    async def scenario() -> None:
        store = LocalObjectStore(tmp_path)
        ledger = await _plan(store, view)
        await ledger.set_status(2, "FAILED", "GATE_FLAG_MISSING", "no flag")
        directory = RunDirectory(store, now=_Clock())
        await directory.refresh([view.run_id])
        failed = directory.get(view.run_id)
        assert failed is not None and failed.status == "FAILED" and failed.pins == view.pins
        assert failed.event_time_window is None

    asyncio.run(scenario())


def test_a_ready_status_whose_facts_are_not_recorded_is_not_ready(
        tmp_path: Path, view: RunFactsView) -> None:
    async def scenario() -> None:
        store = LocalObjectStore(tmp_path)
        ledger = await _plan(store, view)
        await ledger.set_status(3, "READY")
        directory = RunDirectory(store, now=_Clock())
        await directory.refresh([view.run_id])
        state = directory.get(view.run_id)
        assert state is not None and state.status == "PLANNED"

    asyncio.run(scenario())
