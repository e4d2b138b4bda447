"""Effectively-once actions: exactly one terminal outcome per intent, no side effect twice.

Judged from the rtdl topic and the executor's own side-effect log: every intent of every decision
has exactly one outcome record (no second copy, none missing, none for an intent nobody asked
for); the executor holds at most one side effect per idempotency key; an EXECUTED outcome names
the side effect the executor holds for its key, and every side effect of the run belongs to an
EXECUTED outcome.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from app.conformance.evidence import RunEvidence
from app.conformance.result import CheckResult, Findings

__all__ = ["check_action_outcomes"]


def check_action_outcomes(evidence: RunEvidence) -> CheckResult:
    found = Findings()
    intents = {intent["action_id"] for _r, d in evidence.rtdl_of_type("decision")
               for intent in d["intents"]}
    outcomes: dict[str, dict[str, Any]] = {}
    per_action: Counter[str] = Counter()
    for _record, outcome in evidence.rtdl_of_type("action_outcome"):
        per_action[outcome["action_id"]] += 1
        outcomes[outcome["action_id"]] = outcome
    found.examined = len(intents)
    missing = intents - set(per_action)
    found.expect(not missing, f"{len(missing)} intents without an outcome, e.g. "
                              f"{sorted(missing)[:3]}")
    repeated = [a for a, n in per_action.items() if n > 1]
    found.expect(not repeated, f"{len(repeated)} intents with more than one outcome, e.g. "
                               f"{sorted(repeated)[:3]}")
    strays = set(per_action) - intents
    found.expect(not strays, f"{len(strays)} outcomes for no intent, e.g. {sorted(strays)[:3]}")
    if evidence.side_effects is None:
        return found.result("action_outcomes", "exactly one terminal outcome per intent")
    mine = [e for e in evidence.side_effects if e.get("run_id") == evidence.run_id]
    per_key = Counter(e["idempotency_key"] for e in mine)
    doubled = [k for k, n in per_key.items() if n > 1]
    found.expect(not doubled, f"{len(doubled)} side effects executed twice, e.g. {doubled[:3]}")
    executed = {a for a, o in outcomes.items() if o["status"] == "EXECUTED"}
    effects = {e["idempotency_key"]: e for e in mine}
    found.expect(executed <= set(effects),
                 f"{len(executed - set(effects))} EXECUTED outcomes without a side effect")
    found.expect(set(effects) <= executed,
                 f"{len(set(effects) - executed)} side effects without an EXECUTED outcome")
    for action_id in executed & set(effects):
        found.expect(outcomes[action_id].get("side_effect_ref")
                     == effects[action_id].get("side_effect_ref"),
                     f"outcome of {action_id[:16]} names another side effect")
    return found.result("action_outcomes",
                        "exactly one terminal outcome per intent; no side effect twice")
