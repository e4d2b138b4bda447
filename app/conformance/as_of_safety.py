"""As-of safety: no feature sees its trigger or anything later; truth never reaches the hot path.

Per decision: the snapshot is as of the trigger's own ``ts_utc``; the events its fold had applied
(``input_basis.events_applied``, issue #12: one fold per run over every traffic partition, in
``(ts_utc, event_id)`` order) are at most the run's events that come before the trigger in that
order, so neither the trigger nor anything later was applied (a late trigger, flagged
``LATE_TRIGGER`` and incomplete, was applied where its partition's watermark put it, so it is
judged only by ``as_of``); and no truth column name appears anywhere in a decision, outcome or
audit record.
"""

from __future__ import annotations

from bisect import bisect_left
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
    order = sorted((e.get("ts_utc", ""), e.get("event_id", ""))
                   for e in evidence.traffic_events().values())
    for _record, decision in evidence.rtdl_of_type("decision"):
        found.examined += 1
        trigger, snapshot = decision["trigger"], decision["snapshot"]
        did = decision["decision_id"][:16]
        found.expect(snapshot["as_of"] == trigger["ts_utc"],
                     f"decision {did}: as_of {snapshot['as_of']} is not the trigger's ts_utc")
        if "LATE_TRIGGER" in decision["reason_codes"]:
            continue
        applied = snapshot["input_basis"].get("events_applied")
        before = bisect_left(order, (trigger["ts_utc"], trigger["event_id"]))
        found.expect(isinstance(applied, int) and applied <= before,
                     f"decision {did}: {applied} events applied, but only {before} of the run's "
                     f"events come before the trigger")
    bodies = [b for _r, b in evidence.rtdl_of_type("decision")] + \
             [b for _r, b in evidence.rtdl_of_type("action_outcome")] + \
             list(evidence.audit_records or ())
    for body in bodies:
        leaked = set(_keys(body)) & TRUTH_COLUMNS
        found.expect(not leaked, f"{body.get('record_type')}: truth columns {sorted(leaked)}")
    return found.result("as_of_safety", "features strictly before the trigger; no truth")
