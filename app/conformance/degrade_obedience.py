"""Degrade obedience: no APPROVE under FAIL_CLOSED, no model without a model posture."""

from __future__ import annotations

from app.conformance.evidence import RunEvidence
from app.conformance.result import CheckResult, Findings
from app.rails.posture import Posture

__all__ = ["check_degrade_obedience"]


def check_degrade_obedience(evidence: RunEvidence) -> CheckResult:
    found = Findings()
    for _record, decision in evidence.rtdl_of_type("decision"):
        found.examined += 1
        posture = Posture(decision["posture"])
        did = decision["decision_id"][:16]
        found.expect(not (posture is Posture.FAIL_CLOSED and decision["outcome"] == "APPROVE"),
                     f"decision {did}: APPROVE under FAIL_CLOSED")
        found.expect(posture.uses_model or decision.get("score") is None,
                     f"decision {did}: a model score under {posture}")
    return found.result("degrade_obedience", "the posture bounds what a decision may do")
