"""Factories for DLA tests: real rails records as DF and AL put them on ``fp.bus.rtdl.v1``.

``Rtdl`` is an in-memory rtdl partition (a list of records at increasing offsets): the thing DLA
reads, with the same ``read_range`` a restore uses against the broker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from app.dla.partition_log import AuditPartition, LogRecord
from app.objectstore.base import ObjectStore
from app.rails.action import ActionOutcome, outcome_id_of
from app.rails.canonical_json import canonical_dumps
from app.rails.decision import ActionIntent, ActionType, DecisionRecord, FeatureSnapshot, TriggerRef
from app.rails.ids import action_idempotency_key, decision_id, make_id
from app.rails.pins import ContextPins
from app.rails.policy_rev import policy_rev_of
from app.rails.receipts import EbRef
from app.rails.timefmt import epoch_micros_to_ts
from tests.factories import make_pins

TOPIC = "fp.bus.rtdl.v1"
T0 = 1_741_000_000_000_000
PINS = ContextPins.model_validate(make_pins())
POLICY_REV = policy_rev_of("dla.test", "r1", {})


def make_decision(index: int = 0, actions: tuple[ActionType, ...] = (
        ActionType.APPROVE_AUTH,)) -> DecisionRecord:
    """The ``index``-th decision of the run, with one intent per action type."""
    event_id = make_id("test.trigger", index)
    did = decision_id(PINS.run_id, event_id)
    snapshot = {"feature_sets": (), "as_of": epoch_micros_to_ts(T0 + index), "values": {},
                "input_basis": {}, "graph_version": None, "complete": True}
    return DecisionRecord(
        decision_id=did, pins=PINS,
        trigger=TriggerRef(event_id=event_id, event_type="auth_request",
                           ts_utc=epoch_micros_to_ts(T0 + index),
                           eb_ref=EbRef(topic="fp.bus.traffic.v1", partition=0, offset=index)),
        outcome="APPROVE", reason_codes=(), score=0.1, posture="NORMAL", bundle=None,
        snapshot=FeatureSnapshot(**snapshot, snapshot_hash=make_id("feature_snapshot", snapshot)),
        policy_rev=POLICY_REV,
        intents=tuple(ActionIntent(action_id=action_idempotency_key(PINS.run_id, did, a),
                                   action_type=a, decision_id=did,
                                   subject={"card_id": f"card_{index}"}) for a in actions))


def make_outcome(decision: DecisionRecord, intent: int = 0, status: str = "EXECUTED",
                 **overrides: Any) -> ActionOutcome:
    """AL's outcome for the decision's ``intent``-th intent."""
    action = decision.intents[intent]
    fields: dict[str, Any] = {
        "outcome_id": outcome_id_of(action.action_id), "action_id": action.action_id,
        "decision_id": decision.decision_id, "action_type": action.action_type,
        "pins": decision.pins, "trigger_event_id": decision.trigger.event_id,
        "ts_utc": decision.trigger.ts_utc, "status": status,
        "reason_codes": () if status == "EXECUTED" else ("EXECUTOR_REJECTED",),
        "attempts": ({"attempt": 1, "result": "OK" if status == "EXECUTED" else "REJECTED"},),
        "side_effect_ref": f"sw-{action.action_id[:12]}" if status == "EXECUTED" else None,
        "executor": "simulated_switch", "policy_rev": POLICY_REV}
    return ActionOutcome.model_validate(fields | overrides)


def wire(record: Any) -> bytes:
    return canonical_dumps(record.model_dump(mode="json")) if not isinstance(record, bytes) \
        else record


@dataclass
class Rtdl:
    """One rtdl partition in memory: append records, read ranges back like the broker."""

    records: list[LogRecord] = field(default_factory=list)

    def append(self, *items: Any) -> list[LogRecord]:
        added = [LogRecord(len(self.records) + i, wire(item), 1_700_000_000.0 + i)
                 for i, item in enumerate(items)]
        self.records.extend(added)
        return added

    async def read_range(self, start: int, stop: int) -> list[LogRecord]:
        return [r for r in self.records if start <= r.offset < stop]


@pytest.fixture
def rtdl() -> Rtdl:
    return Rtdl()


async def write_log(store: ObjectStore, rtdl: Rtdl, partition: int = 0,
                    log_id: str = "fp.bus.rtdl.v1.e0") -> AuditPartition:
    """Fold the whole of ``rtdl`` into one partition's segments (one flush at the end)."""
    part = AuditPartition(log_id, TOPIC, partition)
    for record in rtdl.records:
        part.apply(record)
    await part.flush(store, "2025-01-01T00:00:00.000000Z")
    return part
