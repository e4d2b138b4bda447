"""Factories for reporting tests: real rail records (decision, outcome, audit) as bus records.

Every record is built with its rail's pydantic model and dumped to the wire dict, so the summary
is tested against the exact shapes DF, AL and DLA write. A decision's trigger sits at
``(partition, offset)`` of the traffic topic; tests choose bus timestamps by hand.
"""

from __future__ import annotations

from typing import Any

from app.evaluation.truth import TruthRow
from app.rails.action import ActionOutcome, ExecutionAttempt, outcome_id_of
from app.rails.audit import AuditDecision, AuditIntent, AuditRecord
from app.rails.decision import ActionIntent, ActionType, DecisionRecord, FeatureSnapshot, TriggerRef
from app.rails.ids import action_idempotency_key, decision_id, make_id
from app.rails.pins import ContextPins
from app.rails.policy_rev import policy_rev_of
from app.rails.receipts import EbRef
from app.rails.timefmt import epoch_micros_to_ts
from app.reporting.records import BusRecord
from tests.factories import make_pins

PINS = ContextPins.model_validate(make_pins())
RUN_ID = PINS.run_id
OTHER_PINS = ContextPins.model_validate(make_pins(request="run-2"))
_T0 = 1_741_000_000_000_000
_REV = policy_rev_of("reporting.test", "r1", {})
_TYPES = {"APPROVE": (ActionType.APPROVE_AUTH,), "STEP_UP": (ActionType.REQUEST_STEP_UP,),
          "REVIEW": (ActionType.HOLD_FOR_REVIEW, ActionType.OPEN_CASE),
          "DECLINE": (ActionType.DECLINE_AUTH,)}


def decision(flow_id: str, outcome: str = "APPROVE", *, score: float | None = 0.1,
             partition: int = 0, offset: int = 0, pins: ContextPins = PINS) -> dict[str, Any]:
    """DF's decision on ``flow_id`` whose trigger is traffic ``(partition, offset)``."""
    event_id = make_id("test.trigger", pins.run_id, flow_id)
    did = decision_id(pins.run_id, event_id)
    snapshot = {"feature_sets": (), "as_of": epoch_micros_to_ts(_T0), "values": {},
                "input_basis": {}, "graph_version": None, "complete": True}
    return DecisionRecord(
        decision_id=did, pins=pins,
        trigger=TriggerRef(event_id=event_id, event_type="auth_request",
                           ts_utc=epoch_micros_to_ts(_T0),
                           eb_ref=EbRef(topic="fp.bus.traffic.v1", partition=partition,
                                        offset=offset)),
        outcome=outcome, reason_codes=(), score=score, posture="NORMAL", bundle=None,
        snapshot=FeatureSnapshot(**snapshot, snapshot_hash=make_id("feature_snapshot", snapshot)),
        policy_rev=_REV,
        intents=tuple(ActionIntent(action_id=action_idempotency_key(pins.run_id, did, t),
                                   action_type=t, decision_id=did,
                                   subject={"card_id": "card_1", "flow_id": flow_id})
                      for t in _TYPES[outcome]),
    ).model_dump(mode="json")


def outcomes_of(body: dict[str, Any], status: str = "EXECUTED") -> list[dict[str, Any]]:
    """AL's outcome for every intent of a decision, all with ``status``."""
    return [ActionOutcome(
        outcome_id=outcome_id_of(i["action_id"]), action_id=i["action_id"],
        decision_id=body["decision_id"], action_type=i["action_type"], pins=body["pins"],
        trigger_event_id=body["trigger"]["event_id"], ts_utc=body["trigger"]["ts_utc"],
        status=status, reason_codes=() if status == "EXECUTED" else ("EXECUTOR_REJECTED",),
        attempts=(ExecutionAttempt(attempt=1, result="OK" if status == "EXECUTED"
                                   else "REJECTED"),),
        side_effect_ref="sw-1" if status == "EXECUTED" else None, executor="simulated_switch",
        policy_rev=_REV).model_dump(mode="json") for i in body["intents"]]


def audit_of(body: dict[str, Any], outcomes: list[dict[str, Any]], *,
             supersedes: str | None = None) -> dict[str, Any]:
    """DLA's audit record of a decision chain with the given outcomes."""
    ref = EbRef(topic="fp.bus.rtdl.v1", partition=0, offset=0)
    intents = tuple(AuditIntent(
        action_id=o["action_id"], action_type=o["action_type"], outcome_id=o["outcome_id"],
        status=o["status"], reason_codes=tuple(o["reason_codes"]), attempts=1,
        side_effect_ref=o["side_effect_ref"], outcome_ref=ref, outcome_policy_rev=_REV)
        for o in outcomes)
    trigger = body["trigger"]
    content = {"d": body["decision_id"], "n": len(intents), "s": supersedes}
    return AuditRecord(
        audit_id=make_id("test.audit", content), decision_id=body["decision_id"],
        pins=body["pins"],
        decision=AuditDecision(
            decision_ref=ref, trigger_event_id=trigger["event_id"],
            trigger_ref=EbRef.model_validate(trigger["eb_ref"]), trigger_ts_utc=trigger["ts_utc"],
            outcome=body["outcome"], reason_codes=(), score=body["score"], posture="NORMAL",
            bundle=None, snapshot_hash=body["snapshot"]["snapshot_hash"], graph_version=None,
            policy_rev=_REV),
        intents=intents, supersedes=supersedes).model_dump(mode="json")


def bus(body: dict[str, Any], ts_ms: int, *, partition: int = 0, offset: int = 0) -> BusRecord:
    return BusRecord(partition, offset, ts_ms, body)


def truth_row(flow_id: str, label: str = "legit", subtype: str = "none") -> TruthRow:
    return TruthRow(flow_id=flow_id, label=label, subtype=subtype,
                    campaign_id=None if label == "legit" else f"camp_{subtype}",
                    is_fraud_or_abuse=label != "legit")
