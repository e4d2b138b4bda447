"""Truth by reference: loaded from a real sealed pack only after its gate PASSes; runs via SR."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from app.evaluation import (
    TRUTH_LABELS,
    RunNotEvaluableError,
    TruthGateError,
    load_truth,
    locator_of_run,
    truth_of_run,
)
from app.objectstore.config import open_object_store
from app.oracle.locator import parse_locator
from app.profiles.loader import Profile
from app.rails.digests import Digest
from tests.unit.evaluation.conftest import sr_run


def _truth_parts(world: Path) -> list[Path]:
    return sorted((world / "outputs" / "flow_truth").rglob("*.parquet"))


@pytest.fixture
def world_copy(tiny_world: Path, tmp_path: Path) -> Callable[[], Path]:
    """A private copy of the session's tiny world (tampering never touches the original)."""

    def copy() -> Path:
        target = tmp_path / "oracle" / tiny_world.relative_to(tiny_world.parents[3])
        shutil.copytree(tiny_world, target)
        return target

    return copy


async def test_truth_of_a_sealed_world_has_one_row_per_flow(tiny_world: Path) -> None:
    truth = await load_truth(str(tiny_world))
    table = pq.read_table([str(p) for p in _truth_parts(tiny_world)])
    assert len(truth) == table.num_rows == len(set(table.column("flow_id").to_pylist()))
    assert {r.label for r in truth.values()} <= set(TRUTH_LABELS)
    assert all(r.is_fraud_or_abuse == (r.label != "legit") for r in truth.values())
    assert all((r.subtype == "none") == (r.label == "legit") for r in truth.values())
    first = table.slice(0, 1).to_pylist()[0]
    row = truth[first["flow_id"]]
    assert (row.label, row.subtype, row.campaign_id) == (
        first["label"], first["subtype"], first["campaign_id"])
    assert any(r.is_fraud_or_abuse for r in truth.values())


async def test_a_tampered_truth_part_is_refused_before_any_read(
    world_copy: Callable[[], Path],
) -> None:
    world = world_copy()
    part = _truth_parts(world)[0]
    part.write_bytes(part.read_bytes()[:-1] + b"\x00")
    with pytest.raises(TruthGateError) as info:
        await load_truth(parse_locator(str(world)))
    assert info.value.reason_code == "GATE_DIGEST_MISMATCH"
    assert "gate.truth" in str(info.value)


async def test_an_extra_truth_part_is_refused(world_copy: Callable[[], Path]) -> None:
    world = world_copy()
    part = _truth_parts(world)[0]
    shutil.copy(part, part.with_name("part-09999.parquet"))
    with pytest.raises(TruthGateError) as info:
        await load_truth(str(world))
    assert info.value.reason_code == "GATE_DIGEST_MISMATCH"


async def test_a_missing_truth_flag_is_refused(world_copy: Callable[[], Path]) -> None:
    world = world_copy()
    (world / "gates" / "gate.truth" / "_passed.flag").unlink()
    with pytest.raises(TruthGateError) as info:
        await load_truth(str(world))
    assert info.value.reason_code == "GATE_FLAG_MISSING"


async def test_a_forged_flag_is_refused(world_copy: Callable[[], Path]) -> None:
    world = world_copy()
    flag = world / "gates" / "gate.truth" / "_passed.flag"
    body = orjson.loads(flag.read_bytes())
    body["bundle_digest"]["hex"] = "0" * 64
    flag.write_bytes(orjson.dumps(body))
    with pytest.raises(TruthGateError) as info:
        await load_truth(str(world))
    assert info.value.reason_code == "GATE_DIGEST_MISMATCH"


async def test_an_unsealed_pack_is_refused(world_copy: Callable[[], Path]) -> None:
    world = world_copy()
    (world / "_SEALED.json").unlink()
    with pytest.raises(TruthGateError) as info:
        await load_truth(str(world))
    assert info.value.reason_code == "PACK_NOT_SEALED"


async def test_a_pack_other_than_the_one_sr_verified_is_refused(tiny_world: Path) -> None:
    with pytest.raises(TruthGateError) as info:
        await load_truth(str(tiny_world), manifest_digest=Digest(algo="sha256", hex="1" * 64))
    assert info.value.reason_code == "MANIFEST_DIGEST_MISMATCH"


async def test_truth_of_a_ready_run_follows_the_ledger(
    eval_profile: Profile, ready_run: str, tiny_world: Path,
) -> None:
    async with open_object_store(eval_profile.wiring.object_store) as store:
        locator = await locator_of_run(store, ready_run)
        truth = await truth_of_run(store, ready_run)
    assert locator == parse_locator(str(tiny_world))
    assert truth == await load_truth(locator)


@pytest.mark.parametrize(("run_id", "code"), [
    ("0" * 32, "RUN_UNKNOWN"), ("not-a-run", "RUN_ID_INVALID"), ("A" * 32, "RUN_ID_INVALID"),
])
async def test_runs_sr_never_made_are_refused(eval_profile: Profile, run_id: str,
                                              code: str) -> None:
    async with open_object_store(eval_profile.wiring.object_store) as store:
        with pytest.raises(RunNotEvaluableError) as info:
            await truth_of_run(store, run_id)
    assert info.value.reason_code == code


def test_a_failed_run_is_not_evaluated(eval_profile: Profile,
                                       world_copy: Callable[[], Path]) -> None:
    world = world_copy()
    (world / "gates" / "gate.truth" / "_passed.flag").unlink()
    run_id, status = sr_run(eval_profile, world)
    assert status == "FAILED"

    async def lookup() -> None:
        async with open_object_store(eval_profile.wiring.object_store) as store:
            await locator_of_run(store, run_id)

    with pytest.raises(RunNotEvaluableError) as info:
        asyncio.run(lookup())
    assert info.value.reason_code == "RUN_FAILED"
