"""Closed audit lineage after the stream drains: every decision chain is on the audit record.

Per decision of the run, the latest audit record (the one no other supersedes) exists, points at
the decision's place on rtdl, and lists exactly the decision's intents, each with the outcome the
topic holds (same outcome id, status and position). Supersessions point at records that exist.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from app.conformance.evidence import RunEvidence
from app.conformance.result import CheckResult, Findings

__all__ = ["check_audit_lineage"]


def check_audit_lineage(evidence: RunEvidence) -> CheckResult:
    found = Findings()
    if evidence.audit_records is None:
        return found.result("audit_lineage", "every decision chain is audited",
                            skipped="no audit records collected")
    mine = [a for a in evidence.audit_records if a["pins"]["run_id"] == evidence.run_id]
    ids = {a["audit_id"] for a in mine}
    superseded = {a["supersedes"] for a in mine if a.get("supersedes")}
    found.expect(superseded <= ids, f"{len(superseded - ids)} corrections of unknown records")
    latest: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for audit in mine:
        if audit["audit_id"] not in superseded:
            latest[audit["decision_id"]].append(audit)
    outcomes: dict[str, tuple[Any, dict[str, Any]]] = {}
    for record, outcome in evidence.rtdl_of_type("action_outcome"):  # DLA audits the first
        outcomes.setdefault(outcome["action_id"], (record, outcome))
    for record, decision in evidence.rtdl_of_type("decision"):
        found.examined += 1
        did = decision["decision_id"]
        chain = latest.get(did, [])
        if len(chain) != 1:
            found.violations.append(f"decision {did[:16]}: {len(chain)} current audit records")
            continue
        audit = chain[0]
        ref = audit["decision"]["decision_ref"]
        found.expect((ref["partition"], ref["offset"]) == (record.partition, record.offset),
                     f"decision {did[:16]}: audit points at another rtdl position")
        audited = {i["action_id"]: i for i in audit["intents"]}
        found.expect(set(audited) == {i["action_id"] for i in decision["intents"]},
                     f"decision {did[:16]}: audited intents differ from the decision's")
        for action_id, entry in audited.items():
            on_topic = outcomes.get(action_id)
            found.expect(on_topic is not None
                         and entry["outcome_id"] == on_topic[1]["outcome_id"]
                         and entry["status"] == on_topic[1]["status"]
                         and entry["outcome_ref"]["offset"] == on_topic[0].offset,
                         f"action {action_id[:16]}: audit and topic disagree on the outcome")
    return found.result("audit_lineage", "every decision chain is audited")
