"""Complete provenance on every decision (DESIGN sections 6 and 10).

The trigger's ``eb_ref`` points at the trigger on the traffic log; the snapshot hash recomputes;
a posture that uses the model names the bundle by digest; a posture that uses the graph names the
``graph_version``; the policy revision is stamped.
"""

from __future__ import annotations

from app.conformance.evidence import RunEvidence
from app.conformance.result import CheckResult, Findings
from app.rails.decision import snapshot_hash_of
from app.rails.posture import Posture

__all__ = ["check_provenance"]


def check_provenance(evidence: RunEvidence) -> CheckResult:
    found = Findings()
    traffic = evidence.traffic_events()
    for _record, decision in evidence.rtdl_of_type("decision"):
        found.examined += 1
        did = decision["decision_id"][:16]
        ref = decision["trigger"]["eb_ref"]
        trigger = traffic.get((ref["partition"], ref["offset"]))
        found.expect(trigger is not None
                     and trigger.get("event_id") == decision["trigger"]["event_id"],
                     f"decision {did}: trigger eb_ref does not hold the trigger event")
        snapshot = decision["snapshot"]
        found.expect(snapshot["snapshot_hash"] == snapshot_hash_of(snapshot),
                     f"decision {did}: snapshot hash does not recompute")
        posture = Posture(decision["posture"])
        found.expect(not posture.uses_model or decision.get("bundle") is not None,
                     f"decision {did}: {posture} without a bundle ref")
        found.expect(not posture.uses_graph or snapshot.get("graph_version") is not None,
                     f"decision {did}: {posture} without a graph_version")
        found.expect(bool(decision.get("policy_rev", {}).get("digest")),
                     f"decision {did}: no policy revision")
    return found.result("provenance", "every decision names its inputs, model, posture, policy")
