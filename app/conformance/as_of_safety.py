"""As-of safety: no feature sees its trigger or anything later; truth never reaches the hot path.

Per decision: the snapshot is as of the trigger's own ``ts_utc``; its input basis on the trigger's
traffic partition stops at the trigger's offset (the trigger itself is not applied yet); and no
truth column name appears anywhere in a decision, outcome or audit record.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.conformance.evidence import RunEvidence
from app.conformance.result import CheckResult, Findings

__all__ = ["TRUTH_COLUMNS", "check_as_of_safety"]

TRUTH_COLUMNS = frozenset({"is_fraud_or_abuse", "label", "subtype", "campaign_id",
                           "issuer_approved"})
"""The world's truth columns other than the join keys (flow_id, ts_utc)."""


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key.rsplit(".", 1)[-1]
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def check_as_of_safety(evidence: RunEvidence) -> CheckResult:
    found = Findings()
    for _record, decision in evidence.rtdl_of_type("decision"):
        found.examined += 1
        trigger, snapshot = decision["trigger"], decision["snapshot"]
        did = decision["decision_id"][:16]
        found.expect(snapshot["as_of"] == trigger["ts_utc"],
                     f"decision {did}: as_of {snapshot['as_of']} is not the trigger's ts_utc")
        ref = trigger["eb_ref"]
        basis = snapshot["input_basis"].get(f"{ref['topic']}|{ref['partition']}")
        found.expect(basis is not None and basis <= ref["offset"],
                     f"decision {did}: input basis {basis} passes the trigger offset "
                     f"{ref['offset']}")
    bodies = [b for _r, b in evidence.rtdl_of_type("decision")] + \
             [b for _r, b in evidence.rtdl_of_type("action_outcome")] + \
             list(evidence.audit_records or ())
    for body in bodies:
        leaked = set(_keys(body)) & TRUTH_COLUMNS
        found.expect(not leaked, f"{body.get('record_type')}: truth columns {sorted(leaked)}")
    return found.result("as_of_safety", "features strictly before the trigger; no truth")
