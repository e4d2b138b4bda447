"""A case's evidence: the decision's snapshot, kept beside the case log, and how a page reads it.

The OPEN_CASE executor writes :class:`CaseEvidence` (the triggering decision's outcome, score,
reason codes, bundle and feature snapshot)
create-only at ``cases/<case_id>/evidence.json`` before the OPENED event, so every case opened
from a decision has it, and a repeat of the intent (the same decision, or the trigger decided
again under another posture) keeps the first one, like the case itself.

The pure functions below are what the console shows from it: the rules that fired with the
values that made them fire (:func:`top_features`), the card's usual behaviour beside this
payment (:func:`card_usual`), and every feature by entity (:func:`entity_context`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.objectstore.base import ObjectStore
from app.rails.bundle import ScorecardBundle
from app.rails.canonical_json import canonical_dumps, canonical_loads
from app.rails.case import CaseEvidence
from app.rails.decision import DecisionRecord, FeatureValue
from app.rails.errors import ObjectExistsError

__all__ = ["ENTITY_ORDER", "TopFeature", "card_usual", "entity_context", "evidence_key",
           "evidence_of", "read_evidence", "top_features", "write_evidence"]

ENTITY_ORDER = ("txn", "card", "account", "customer", "device", "ip", "merchant", "graph")
"""How the entity context is grouped on a case page: the payment first, then who and where."""


def evidence_key(case_id: str) -> str:
    return f"cases/{case_id}/evidence.json"


def evidence_of(case_id: str, decision: DecisionRecord) -> CaseEvidence:
    return CaseEvidence(case_id=case_id, decision_id=decision.decision_id,
                        outcome=decision.outcome, score=decision.score,
                        reason_codes=decision.reason_codes, bundle=decision.bundle,
                        snapshot=decision.snapshot)


async def write_evidence(store: ObjectStore, evidence: CaseEvidence) -> bool:
    """Write a case's evidence once; False when it is held already (the first one stays)."""
    key = evidence_key(evidence.case_id)
    if await store.exists(key):
        return False
    try:
        await store.put(key, canonical_dumps(evidence.model_dump(mode="json")))
    except ObjectExistsError:
        return False  # a concurrent first execution wrote another decision's: it stays
    return True


async def read_evidence(store: ObjectStore, case_id: str) -> CaseEvidence | None:
    key = evidence_key(case_id)
    if not await store.exists(key):
        return None  # a case opened from a label, or before evidence was kept
    return CaseEvidence.model_validate(canonical_loads(await store.get(key)))


@dataclass(frozen=True)
class TopFeature:
    """A rule of the decision's bundle that fired: its feature, condition and the value seen."""

    reason_code: str
    feature: str
    condition: str
    value: FeatureValue
    points: int


def top_features(bundle: ScorecardBundle | None, reason_codes: Iterable[str],
                 values: Mapping[str, FeatureValue]) -> list[TopFeature]:
    """The bundle's rules among the decision's reason codes whose condition holds on the
    snapshot, most points first (ties in the bundle's rule order)."""
    if bundle is None:
        return []
    codes = set(reason_codes)
    fired = [TopFeature(rule.reason_code, rule.feature, f"{rule.op} {_text(rule.value)}",
                        values.get(rule.feature), rule.points)
             for rule in bundle.rules
             if rule.reason_code in codes and rule.holds(values)]
    return sorted(fired, key=lambda f: -f.points)


def card_usual(values: Mapping[str, FeatureValue]) -> list[tuple[str, FeatureValue, str]]:
    """This payment beside the card's last 7 days: (what, this payment, the card's usual)."""
    count = _number(values.get("card.count_7d"))
    total = _number(values.get("card.amount_sum_7d"))
    mean = None if not count or total is None else total / count
    return [
        ("amount (minor units)", values.get("txn.amount_minor"),
         "-" if mean is None else f"mean {mean:,.0f}, max "
         f"{_text(values.get('card.amount_max_7d'))} over {count:,.0f} payments in 7 days"),
        ("payments in the hour before", values.get("card.count_1h"),
         "-" if not count else f"{count / (7 * 24):.2f} per hour over 7 days"),
        ("amount / 7-day mean", values.get("card.amount_to_mean_7d"),
         f"z-score {_text(values.get('card.amount_zscore_7d'))}"),
    ]


def entity_context(values: Mapping[str, FeatureValue]
                   ) -> list[tuple[str, list[tuple[str, FeatureValue]]]]:
    """Every snapshot value grouped by entity (:data:`ENTITY_ORDER`, then any other), sorted."""
    groups: dict[str, list[tuple[str, FeatureValue]]] = {}
    for name in sorted(values):
        groups.setdefault(name.split(".", 1)[0], []).append((name, values[name]))
    order = [e for e in ENTITY_ORDER if e in groups] + sorted(set(groups) - set(ENTITY_ORDER))
    return [(entity, groups[entity]) for entity in order]


def _number(value: FeatureValue | None) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return str(value)
