"""Deterministic ids: every id on the decision loop recomputes from its inputs (DESIGN §2)."""

from __future__ import annotations

from app.conformance.evidence import RunEvidence
from app.conformance.result import CheckResult, Findings
from app.rails.action import outcome_id_of
from app.rails.ids import action_idempotency_key, decision_id

__all__ = ["check_deterministic_ids"]


def check_deterministic_ids(evidence: RunEvidence) -> CheckResult:
    found = Findings()
    for _record, decision in evidence.rtdl_of_type("decision"):
        found.examined += 1
        run = decision["pins"]["run_id"]
        did = decision["decision_id"]
        found.expect(did == decision_id(run, decision["trigger"]["event_id"]),
                     f"decision {did[:16]}: id is not H(run, trigger event)")
        for intent in decision["intents"]:
            found.expect(intent["decision_id"] == did and intent["action_id"]
                         == action_idempotency_key(run, did, intent["action_type"]),
                         f"intent {intent['action_id'][:16]}: id is not H(run, decision, type)")
    for _record, outcome in evidence.rtdl_of_type("action_outcome"):
        found.examined += 1
        found.expect(outcome["outcome_id"] == outcome_id_of(outcome["action_id"]),
                     f"outcome {outcome['outcome_id'][:16]}: id is not H(action_id)")
    return found.result("deterministic_ids", "ids are pure functions of their inputs")
