"""SR on real packs and the real broker: READY exactly once; every tampering case FAILED.

Issue #3: SR on a good pack publishes READY exactly once; on each tampering case it ends FAILED
with the right reason code and nothing reaches the control topic.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from app.cli.sr_cmd import sr_run
from app.eb.embedded_broker import BrokerState
from app.eb.topics import Topic, topic_name
from app.objectstore.config import open_object_store
from app.profiles.loader import Profile, load_profile
from app.rails.errors import ContractError
from app.rails.reason_codes import ReasonCode
from app.rails.run_facts import RunFactsView
from app.sr.run_request import RunRequest
from app.sr.runner import RunConflictError, RunOutcome
from tests.fixtures.broker import ProfileFactory
from tests.integration.bus_io import read_all

pytestmark = pytest.mark.integration


def _control_records(profile: Profile, bootstrap: str) -> list[tuple[bytes | None, bytes | None]]:
    topic = topic_name(Topic.CONTROL, profile.wiring.worker.topic_prefix)
    parts = asyncio.run(read_all(bootstrap, topic, profile.wiring.worker.partitions))
    return [(k, v) for records in parts.values() for _, k, v in records]


@pytest.fixture
def sr_profile(make_profile: ProfileFactory) -> Profile:
    return load_profile(str(make_profile("sr")))


@pytest.fixture
def world_copy(tiny_world: Path, tmp_path: Path) -> Callable[[], Path]:
    """A private copy of the session's tiny sealed world (tampering never touches the original)."""

    def copy() -> Path:
        rel = tiny_world.relative_to(tiny_world.parents[3])
        target = tmp_path / "oracle" / rel
        shutil.copytree(tiny_world, target)
        return target

    return copy


def _run(profile: Profile, world: Path, **kw: object) -> RunOutcome:
    request = RunRequest(world_locator=str(world), scenario_id=world.name.split("=", 1)[1], **kw)
    return asyncio.run(sr_run(profile, request))


def test_good_pack_is_ready_exactly_once(
    sr_profile: Profile, world_copy: Callable[[], Path], embedded_broker: BrokerState
) -> None:
    world = world_copy()
    first = _run(sr_profile, world)
    again = _run(sr_profile, world)
    assert first.status == "READY" and not first.reused
    assert again.status == "READY" and again.reused and again.run_id == first.run_id
    assert again.ready == first.ready  # same message_id, same bytes
    records = _control_records(sr_profile, embedded_broker.bootstrap)
    assert len(records) == 1
    key, value = records[0]
    assert key == first.run_id.encode()
    assert orjson.loads(value or b"{}")["message_id"] == first.ready.message_id  # type: ignore[union-attr]


def test_run_facts_view_lists_verified_outputs_by_reference(
    sr_profile: Profile, world_copy: Callable[[], Path]
) -> None:
    outcome = _run(sr_profile, world_copy())
    assert outcome.facts is not None

    async def read() -> bytes:
        async with open_object_store(sr_profile.wiring.object_store) as store:
            return await store.get(outcome.facts.object_key, expected=outcome.facts.digest)  # type: ignore[union-attr]

    view = RunFactsView.model_validate_json(asyncio.run(read()))
    roles = {o.output_id: o.role for o in view.outputs}
    streamed = {o.output_id for o in view.outputs if o.streamed}
    assert streamed == {o for o, r in roles.items() if r in ("business_traffic", "label_feed")}
    assert "truth" in roles.values() and not any(roles[o] == "truth" for o in streamed)
    assert all(o.files and o.row_count > 0 for o in view.outputs)
    assert view.pins.run_id == outcome.run_id and view.policy_rev == sr_profile.policy_rev


def _first_part(world: Path) -> Path:
    return sorted((world / "outputs").rglob("*.parquet"))[0]


def _tamper_output(world: Path) -> None:
    part = _first_part(world)
    part.write_bytes(part.read_bytes()[:-1] + b"\x00")


def _remove_flag(world: Path) -> None:
    next((world / "gates").rglob("_passed.flag")).unlink()


def _wrong_flag(world: Path) -> None:
    flag = next((world / "gates").rglob("_passed.flag"))
    body = orjson.loads(flag.read_bytes())
    body["bundle_digest"]["hex"] = "0" * 64
    flag.write_bytes(orjson.dumps(body))


def _unseal(world: Path) -> None:
    (world / "_SEALED.json").unlink()


def _remove_output(world: Path) -> None:
    _first_part(world).unlink()


TAMPERING = {
    "tampered_output_file": (_tamper_output, ReasonCode.GATE_DIGEST_MISMATCH),
    "missing_passed_flag": (_remove_flag, ReasonCode.GATE_FLAG_MISSING),
    "wrong_passed_flag": (_wrong_flag, ReasonCode.GATE_DIGEST_MISMATCH),
    "pack_without_seal": (_unseal, ReasonCode.PACK_NOT_SEALED),
    "missing_output_file": (_remove_output, ReasonCode.OUTPUT_MISSING),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_tampered_pack_fails_with_reason_and_no_ready(
    case: str, sr_profile: Profile, world_copy: Callable[[], Path],
    embedded_broker: BrokerState,
) -> None:
    tamper, expected = TAMPERING[case]
    world = world_copy()
    tamper(world)
    outcome = _run(sr_profile, world)
    assert (outcome.status, outcome.reason_code) == ("FAILED", expected)
    assert _run(sr_profile, world).status == "FAILED"  # stays failed; no second attempt
    assert _control_records(sr_profile, embedded_broker.bootstrap) == []


def test_truth_asked_for_streaming_fails_the_run(
    sr_profile: Profile, world_copy: Callable[[], Path], embedded_broker: BrokerState
) -> None:
    outcome = _run(sr_profile, world_copy(), streamed_outputs=("flow_truth",))
    assert (outcome.status, outcome.reason_code) == ("FAILED", ReasonCode.TRUTH_NOT_STREAMABLE)
    assert _control_records(sr_profile, embedded_broker.bootstrap) == []


def test_conflicting_request_with_same_equivalence_key_is_refused(
    sr_profile: Profile, world_copy: Callable[[], Path]
) -> None:
    world = world_copy()
    assert _run(sr_profile, world).status == "READY"
    with pytest.raises(RunConflictError):
        _run(sr_profile, world, streamed_outputs=("auth_request",))
    relabelled = _run(sr_profile, world, streamed_outputs=("auth_request",), run_label="r2")
    assert relabelled.status == "READY"


def test_scenario_not_matching_the_locator_is_a_clear_error(
    sr_profile: Profile, world_copy: Callable[[], Path]
) -> None:
    world = world_copy()
    with pytest.raises(ContractError, match="does not match"):
        asyncio.run(sr_run(sr_profile, RunRequest(world_locator=str(world), scenario_id="other")))
