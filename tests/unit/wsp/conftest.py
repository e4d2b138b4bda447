"""Fixtures for the WSP core: a real tiny world (the session's ``tiny_world``), SR's verified
run_facts_view for it, and the pack's rows read directly with pyarrow as the expected answer.

The view is built exactly as SR builds it: ``verify_pack`` over the sealed pack, then the view's
fields from the verdict (as ``app.sr.runner`` does), so WSP is tested against SR's real output.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pyarrow.parquet as pq
import pytest

from app.oracle.locator import parse_locator
from app.oracle.pack_reader import PackReader, open_pack
from app.rails.canonical_json import canonical_loads
from app.rails.pins import ContextPins
from app.rails.policy_rev import policy_rev_of
from app.rails.run_facts import RunFactsView
from app.rails.timefmt import to_epoch_micros
from app.sr.pack_verifier import verify_pack
from app.sr.run_request import RunRequest, request_digest, run_id_for
from app.wsp.stream_plan import StreamPlan, plan_for

T = TypeVar("T")

STREAMED = ("auth_request", "clearing", "refund", "reversal", "label_event")
"""The engine's business_traffic and label_feed outputs, in catalogue order."""


async def collect(items: AsyncIterator[T]) -> list[T]:
    return [item async for item in items]


def build_view(world: Path, **request: Any) -> RunFactsView:
    """SR's run_facts_view of ``world`` for a RunRequest with ``request`` overrides."""
    locator = parse_locator(str(world))
    req = RunRequest(world_locator=str(world), scenario_id=locator.scenario_id, **request)
    policy_rev = policy_rev_of("wsp.test", "r1", {"speedup": 0})

    async def verify() -> RunFactsView:
        async with open_pack(locator) as reader:
            verdict = await verify_pack(reader, locator, req)
        assert verdict.passed, verdict.detail
        manifest = verdict.manifest
        assert manifest is not None and verdict.manifest_digest and verdict.interface_digest
        run_id = run_id_for(req, locator)
        return RunFactsView(
            run_id=run_id,
            pins=ContextPins(manifest_fingerprint=manifest.manifest_fingerprint,
                             parameter_hash=manifest.parameter_hash,
                             scenario_id=manifest.scenario_id, run_id=run_id),
            seed=manifest.seed, world_locator=str(world), pack_format=manifest.pack_format,
            manifest_digest=verdict.manifest_digest,
            interface_pack_digest=verdict.interface_digest,
            engine={k: str(v) for k, v in manifest.engine.items()},
            outputs=tuple(verdict.outputs), gates=tuple(verdict.gates),
            request_digest=request_digest(req, policy_rev), policy_rev=policy_rev,
        )

    return asyncio.run(verify())


@pytest.fixture(scope="session")
def view(tiny_world: Path) -> RunFactsView:
    return build_view(tiny_world)


@pytest.fixture(scope="session")
def plan(view: RunFactsView) -> StreamPlan:
    return plan_for(view)


@pytest.fixture
def reader(tiny_world: Path) -> PackReader:
    return open_pack(parse_locator(str(tiny_world)))


@pytest.fixture(scope="session")
def manifest(tiny_world: Path) -> dict[str, Any]:
    return canonical_loads((tiny_world / "manifest.json").read_bytes())  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def pack_rows(tiny_world: Path, manifest: dict[str, Any]) -> Callable[[str], list[dict[str, Any]]]:
    """Expected rows of an output straight from its parts (timestamps as epoch micros)."""
    cache: dict[str, list[dict[str, Any]]] = {}

    def rows(output_id: str) -> list[dict[str, Any]]:
        if output_id not in cache:
            entry = next(o for o in manifest["outputs"] if o["output_id"] == output_id)
            out: list[dict[str, Any]] = []
            for path in sorted(entry["files"]):
                for row in pq.read_table(tiny_world / path).to_pylist():
                    out.append({k: to_epoch_micros(v) if isinstance(v, datetime) else v
                                for k, v in row.items()})
            cache[output_id] = out
        return cache[output_id]

    return rows


@pytest.fixture
def world_copy(tiny_world: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny world, same identity path, safe to tamper with."""
    target = tmp_path / "oracle" / tiny_world.relative_to(tiny_world.parents[3])
    shutil.copytree(tiny_world, target)
    return target
