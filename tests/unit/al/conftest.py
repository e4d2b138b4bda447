"""Factories for AL tests: real ``DecisionRecord``s with valid intents, a switch in a tmp dir."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.al.payment_switch import PaymentSwitch
from app.profiles.wiring import SimulatedSwitchWiring
from app.rails.decision import (
    ActionIntent,
    ActionType,
    DecisionRecord,
    FeatureSnapshot,
    TriggerRef,
)
from app.rails.ids import action_idempotency_key, decision_id, make_id
from app.rails.pins import ContextPins
from app.rails.policy_rev import policy_rev_of
from app.rails.receipts import EbRef
from app.rails.timefmt import epoch_micros_to_ts
from tests.factories import make_pins

_T0 = 1_741_000_000_000_000
POLICY_REV = policy_rev_of("al.test", "r1", {})

MakeDecision = Callable[..., DecisionRecord]
MakeSwitch = Callable[..., PaymentSwitch]


def decision(index: int = 0, *types: ActionType, **overrides: Any) -> DecisionRecord:
    """Decision ``index`` of one run with one valid intent per action type (APPROVE_AUTH if
    none given); ``overrides`` replace record fields."""
    pins = ContextPins.model_validate(make_pins())
    event_id = make_id("test.trigger", index)
    did = decision_id(pins.run_id, event_id)
    snapshot = {"feature_sets": (), "as_of": epoch_micros_to_ts(_T0 + index), "values": {},
                "input_basis": {}, "graph_version": None, "complete": True}
    intents = tuple(
        ActionIntent(action_id=action_idempotency_key(pins.run_id, did, t), action_type=t,
                     decision_id=did, subject={"card_id": f"card_{index}"})
        for t in (types or (ActionType.APPROVE_AUTH,)))
    fields: dict[str, Any] = dict(
        decision_id=did, pins=pins,
        trigger=TriggerRef(event_id=event_id, event_type="auth_request",
                           ts_utc=epoch_micros_to_ts(_T0 + index),
                           eb_ref=EbRef(topic="fp.bus.traffic.v1", partition=0, offset=index)),
        outcome="APPROVE", reason_codes=(), score=0.1, posture="NORMAL", bundle=None,
        snapshot=FeatureSnapshot(**snapshot, snapshot_hash=make_id("feature_snapshot", snapshot)),
        policy_rev=policy_rev_of("df.test", "r1", {}), intents=intents)
    return DecisionRecord(**(fields | overrides))


@pytest.fixture
def make_decision() -> MakeDecision:
    """``make_decision(index, *action_types, **record_overrides)``."""
    return decision


@pytest.fixture
def make_switch(tmp_path: Path) -> MakeSwitch:
    """``make_switch(**fault_rates)``: a switch whose log lives in this test's tmp dir."""
    def build(**wiring: Any) -> PaymentSwitch:
        return PaymentSwitch(SimulatedSwitchWiring(log_dir=str(tmp_path / "switch"), **wiring),
                             tmp_path / "switch")
    return build
