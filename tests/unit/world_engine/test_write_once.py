"""Packs are write-once and crash-safe: nothing is replaced, nothing half-written is left."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.world_engine.conftest import TINY_SEED, Pack, file_digests
from world_engine import (
    WorldPackExistsError,
    WorldPackWriteError,
    WorldParams,
    WorldParamsError,
    generate_world,
)
from world_engine.interface import load_interface_pack
from world_engine.pack_writer import locator_path, manifest_fingerprint


class _Crash(Exception):
    pass


def test_generating_onto_a_sealed_pack_is_refused_and_changes_nothing(tiny_pack: Pack) -> None:
    before = file_digests(tiny_pack.path)
    oracle_root = tiny_pack.path.parents[3]
    with pytest.raises(WorldPackExistsError) as info:
        generate_world(tiny_pack.params, TINY_SEED, oracle_root)
    assert info.value.sealed and info.value.reason_code == "WORLD_PACK_EXISTS"
    assert file_digests(tiny_pack.path) == before
    assert [p.name for p in tiny_pack.path.parent.iterdir()] == ["scenario_id=baseline"]


def test_an_unsealed_folder_at_the_locator_is_refused(tmp_path: Path) -> None:
    params = WorldParams(scale="tiny", days=1)
    _, iface, sha = load_interface_pack()
    fingerprint = manifest_fingerprint(
        iface.engine.name, iface.engine.version, sha, params.parameter_hash()
    )
    target = locator_path(tmp_path, 1, params.parameter_hash(), fingerprint, "baseline")
    target.mkdir(parents=True)
    (target / "stray.txt").write_text("someone else's")
    with pytest.raises(WorldPackExistsError) as info:
        generate_world(params, 1, tmp_path)
    assert not info.value.sealed
    assert sorted(p.name for p in target.iterdir()) == ["stray.txt"]


def test_a_crash_mid_generation_leaves_nothing_behind(tmp_path: Path) -> None:
    def crash_on_day_two(stage: str, done: int, total: int) -> None:
        if stage == "day" and done == 2:
            raise _Crash

    with pytest.raises(_Crash):
        generate_world(WorldParams(scale="tiny", days=4), 3, tmp_path, progress=crash_on_day_two)
    assert list(tmp_path.iterdir()) == []


def test_bad_seed_and_scenario_fail_before_writing(tmp_path: Path) -> None:
    params = WorldParams(scale="tiny", days=1)
    for seed, scenario in ((-1, "baseline"), (2**63, "baseline"), (1, "../escape"), (1, "")):
        with pytest.raises(WorldParamsError):
            generate_world(params, seed, tmp_path, scenario)
    assert list(tmp_path.iterdir()) == []


def test_object_store_urls_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(WorldPackWriteError, match="local folders only"):
        generate_world(WorldParams(scale="tiny", days=1), 1, "s3://bucket/oracle")
