"""Factories for evaluation tests: real ``DecisionRecord``s (wire dicts) and a READY SR run.

Decisions are built with the rail's own pydantic model, so the evaluator is tested against the
exact shape DF writes to ``fp.bus.rtdl.v1``. The READY run is made by SR's real code over the
session's tiny world, with a local object store and a recording control publisher (no broker).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.objectstore.config import open_object_store
from app.profiles.loader import Profile, load_profile
from app.rails.decision import ActionIntent, ActionType, DecisionRecord, FeatureSnapshot, TriggerRef
from app.rails.ids import action_idempotency_key, decision_id, make_id
from app.rails.pins import ContextPins
from app.rails.policy_rev import policy_rev_of
from app.rails.receipts import EbRef
from app.rails.timefmt import epoch_micros_to_ts
from app.sr.run_request import RunRequest
from app.sr.runner import run_scenario
from tests.factories import make_pins
from tests.fixtures.broker import Cluster

MakeDecision = Callable[..., dict[str, Any]]
_T0 = 1_741_000_000_000_000
_ACTION = {"APPROVE": ActionType.APPROVE_AUTH, "STEP_UP": ActionType.REQUEST_STEP_UP,
           "REVIEW": ActionType.HOLD_FOR_REVIEW, "DECLINE": ActionType.DECLINE_AUTH}


def _decision(flow_id: str | None, outcome: str = "APPROVE", *, score: float | None = None,
              posture: str = "NORMAL", request: str = "run-1",
              run_id: str | None = None) -> dict[str, Any]:
    """One decision on ``flow_id`` (None: a subject without flow_id) as DF's wire dict.

    The run is ``make_pins(request=request)``'s unless ``run_id`` names one (e.g. SR's).
    """
    pins = ContextPins.model_validate(make_pins(request=request)
                                      | ({"run_id": run_id} if run_id else {}))
    event_id = make_id("test.trigger", pins.run_id, flow_id)
    did = decision_id(pins.run_id, event_id)
    subject = {"card_id": "card_1"} | ({"flow_id": flow_id} if flow_id is not None else {})
    snapshot = {"feature_sets": (), "as_of": epoch_micros_to_ts(_T0), "values": {},
                "input_basis": {}, "graph_version": None, "complete": True}
    record = DecisionRecord(
        decision_id=did, pins=pins,
        trigger=TriggerRef(event_id=event_id, event_type="auth_request",
                           ts_utc=epoch_micros_to_ts(_T0),
                           eb_ref=EbRef(topic="fp.bus.traffic.v1", partition=0, offset=0)),
        outcome=outcome, reason_codes=(), score=score, posture=posture, bundle=None,
        snapshot=FeatureSnapshot(**snapshot, snapshot_hash=make_id("feature_snapshot", snapshot)),
        policy_rev=policy_rev_of("eval.test", "r1", {}),
        intents=(ActionIntent(action_id=action_idempotency_key(pins.run_id, did, _ACTION[outcome]),
                              action_type=_ACTION[outcome], decision_id=did, subject=subject),),
    )
    return record.model_dump(mode="json")


@pytest.fixture
def make_decision() -> MakeDecision:
    """``make_decision(flow_id, outcome="APPROVE", *, score, posture, request, run_id)``."""
    return _decision


class RecordingPublisher:
    """Control publisher fake: keeps what SR published, acks with increasing offsets."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, bytes]] = []

    async def publish(self, key: bytes, value: bytes) -> EbRef:
        self.sent.append((key, value))
        return EbRef(topic="fp.bus.control.v1", partition=0, offset=len(self.sent) - 1)


@pytest.fixture
def eval_profile_path(tmp_path: Path) -> Path:
    """A local-style profile file whose object store lives in this test's tmp folder."""
    return Cluster(tmp_path, tmp_path / "broker").profile("eval")


@pytest.fixture
def eval_profile(eval_profile_path: Path) -> Profile:
    return load_profile(str(eval_profile_path))


def sr_run(profile: Profile, world: Path) -> tuple[str, str]:
    """Ask SR for a run of ``world`` in the profile's object store: (run_id, status)."""

    async def run() -> tuple[str, str]:
        request = RunRequest(world_locator=str(world), scenario_id=world.name.split("=", 1)[1])
        async with open_object_store(profile.wiring.object_store) as store:
            outcome = await run_scenario(request, store=store, publisher=RecordingPublisher(),
                                         policy_rev=profile.policy_rev)
        return outcome.run_id, outcome.status

    return asyncio.run(run())


@pytest.fixture
def ready_run(eval_profile: Profile, tiny_world: Path) -> str:
    """run_id of a READY run of the session's tiny world in ``eval_profile``'s object store."""
    run_id, status = sr_run(eval_profile, tiny_world)
    assert status == "READY"
    return run_id
