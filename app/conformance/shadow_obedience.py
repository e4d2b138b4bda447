"""Shadow obedience: a SHADOW bundle is scored on every model decision and acted on by none.

Checked on the run's decision records:

- **never acted on**: a decision that carries a ``shadow`` (with its bundle and score) asks AL
  for exactly the actions of its own outcome (``app.df.intents.ACTIONS_BY_OUTCOME``), never
  those of the shadow's band;
- **on every decision**: once any decision of the run carries a shadow, every decision that ran a
  model (it has a score) carries one, unless a ``SHADOW_CHANGED`` governance fact on the audit
  topic says the shadow was set or cleared during the run (then presence is not judged).

That the ACTIVE outcome is the one DF would give without the shadow is DF's construction (the
shadow is scored after, from the same snapshot, into a field nothing else reads), pinned by a
property test over real and random snapshots (``tests/unit/df/test_shadow.py``).
"""

from __future__ import annotations

import orjson

from app.conformance.evidence import RunEvidence
from app.conformance.result import CheckResult, Findings
from app.df.intents import ACTIONS_BY_OUTCOME
from app.rails.decision import DecisionOutcome

__all__ = ["check_shadow_obedience"]


def _shadow_changed(evidence: RunEvidence) -> bool:
    for record in evidence.audit_topic:
        try:
            body = orjson.loads(record.value or b"{}")
        except orjson.JSONDecodeError:
            continue
        if isinstance(body, dict) and body.get("fact_type") == "SHADOW_CHANGED":
            return True
    return False


def check_shadow_obedience(evidence: RunEvidence) -> CheckResult:
    found = Findings()
    decisions = [d for _r, d in evidence.rtdl_of_type("decision")]
    shadowed = [d for d in decisions if d.get("shadow")]
    for decision in shadowed:
        found.examined += 1
        did, shadow = decision["decision_id"][:16], decision["shadow"]
        wanted = sorted(str(a) for a in ACTIONS_BY_OUTCOME[DecisionOutcome(decision["outcome"])])
        asked = sorted(i["action_type"] for i in decision["intents"])
        found.expect(asked == wanted, f"decision {did}: intents {asked} are not those of its "
                     f"outcome {decision['outcome']} (the shadow's would-be outcome "
                     f"{shadow.get('outcome')})")
        found.expect(bool(shadow.get("bundle")) and shadow.get("score") is not None,
                     f"decision {did}: a shadow without its bundle or score")
    if shadowed and not _shadow_changed(evidence):
        missing = [d["decision_id"][:16] for d in decisions
                   if d.get("score") is not None and not d.get("shadow")]
        found.violations.extend(f"decision {m}: a model ran but the SHADOW was not scored"
                                for m in missing[:20])
        found.expect(len(missing) <= 20, f"... and {len(missing) - 20} more without a shadow")
    return found.result("shadow_obedience", "a SHADOW is scored on every model decision and "
                        "acted on by none")
