"""Run isolation: nothing crosses ``run_id`` (DESIGN sections 2 and 10).

Every decision carries exactly the four pins of the trigger it answers (read at the trigger's
``eb_ref`` on the traffic log), every outcome the pins of its decision, every audit record the
pins of its decision.
"""

from __future__ import annotations

from typing import Any

from app.conformance.evidence import RunEvidence
from app.conformance.result import CheckResult, Findings

__all__ = ["check_run_isolation"]

_PINS = ("manifest_fingerprint", "parameter_hash", "scenario_id", "run_id")


def _pins(event: dict[str, Any]) -> dict[str, Any]:
    return {k: event.get(k) for k in _PINS}


def check_run_isolation(evidence: RunEvidence) -> CheckResult:
    found = Findings()
    traffic = evidence.traffic_events()
    decision_pins: dict[str, dict[str, Any]] = {}
    for _record, decision in evidence.rtdl_of_type("decision"):
        found.examined += 1
        ref = decision["trigger"]["eb_ref"]
        trigger = traffic.get((ref["partition"], ref["offset"]))
        decision_pins[decision["decision_id"]] = decision["pins"]
        found.expect(trigger is not None and _pins(trigger) == decision["pins"],
                     f"decision {decision['decision_id'][:16]}: pins differ from its trigger's")
    for _record, outcome in evidence.rtdl_of_type("action_outcome"):
        found.examined += 1
        pins = decision_pins.get(outcome["decision_id"])
        found.expect(pins is None or pins == outcome["pins"],
                     f"outcome {outcome['outcome_id'][:16]}: pins differ from its decision's")
    for audit in evidence.audit_records or ():
        if audit["pins"]["run_id"] != evidence.run_id:
            continue
        found.examined += 1
        pins = decision_pins.get(audit["decision_id"])
        found.expect(pins is not None and pins == audit["pins"],
                     f"audit {audit['audit_id'][:16]}: pins differ from its decision's")
    return found.result("run_isolation", "nothing crosses run_id")
