"""Same seed and parameters give a byte-identical pack; the seed and parameters change it."""

from __future__ import annotations

from collections.abc import Callable

from tests.unit.world_engine.conftest import TINY_SEED, Pack, file_digests


def _outputs(pack: Pack) -> dict[str, str]:
    return {k: v for k, v in file_digests(pack.path).items() if k.startswith("outputs/")}


def test_same_seed_and_params_give_byte_identical_packs(
    tiny_pack: Pack, make_pack: Callable[..., Pack]
) -> None:
    again = make_pack(seed=TINY_SEED)
    assert again.path.relative_to(again.path.parents[3]) == tiny_pack.path.relative_to(
        tiny_pack.path.parents[3]
    )
    assert file_digests(again.path) == file_digests(tiny_pack.path)
    assert again.locator.row_counts == tiny_pack.locator.row_counts


def test_a_different_seed_gives_a_different_world_with_the_same_identity(
    tiny_pack: Pack, make_pack: Callable[..., Pack]
) -> None:
    other = make_pack(seed=TINY_SEED + 1)
    assert other.locator.parameter_hash == tiny_pack.locator.parameter_hash
    assert other.locator.manifest_fingerprint == tiny_pack.locator.manifest_fingerprint
    mine, theirs = _outputs(tiny_pack), _outputs(other)
    traffic = [k for k in mine if k.startswith("outputs/auth_request/") and k in theirs]
    assert traffic and all(mine[k] != theirs[k] for k in traffic)


def test_scenario_id_is_a_label_that_does_not_change_outputs(
    tiny_pack: Pack, make_pack: Callable[..., Pack]
) -> None:
    other = make_pack(seed=TINY_SEED, scenario_id="what-if")
    assert other.path.name == "scenario_id=what-if"
    assert _outputs(other) == _outputs(tiny_pack)
    assert other.manifest["scenario_id"] == "what-if"


def test_changing_a_parameter_changes_parameter_hash_and_fingerprint(
    tiny_pack: Pack, make_pack: Callable[..., Pack]
) -> None:
    other = make_pack(seed=TINY_SEED, days=2)
    assert other.locator.parameter_hash != tiny_pack.locator.parameter_hash
    assert other.locator.manifest_fingerprint != tiny_pack.locator.manifest_fingerprint
