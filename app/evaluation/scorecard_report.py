"""Scorecard of one run's decisions against the world's truth: pure metrics, no I/O.

Decisions (``DecisionRecord`` dicts as read off ``fp.bus.rtdl.v1``) are joined to truth by the
``flow_id`` of their intents' subject, after the run. "Caught" means any friction (outcome other
than APPROVE): a step-up or review stops fraud in practice too, and it is the same yardstick the
legitimate-friction share is measured with. Nothing is silently dropped: a decision without a
truth row is ``unmatched``, an unreadable one ``malformed``, a redelivered one a ``duplicate``.
Output order is fixed (outcome and posture ladders, then label and subtype order), so the same
inputs always give the same :meth:`Evaluation.to_dict`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.evaluation.truth import TRUTH_LABELS, TruthRow
from app.rails.decision import DecisionOutcome
from app.rails.errors import ContractError
from app.rails.posture import POSTURE_ORDER

__all__ = ["OUTCOMES", "CampaignStats", "Evaluation", "LegitStats", "ScoreSummary", "evaluate",
           "group_order"]

OUTCOMES: tuple[str, ...] = tuple(o.value for o in DecisionOutcome)
"""Outcomes from least to most friction."""
_SUBTYPE_ORDER = ("card_testing", "card_testing_cashout", "account_takeover", "refund_abuse",
                  "merchant_collusion", "mule_activity")
_SAMPLE = 10  # unmatched flow ids listed for an operator to look up
_NO_FLOW = "<no flow_id>"


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


@dataclass(frozen=True, slots=True)
class CampaignStats:
    """Decisions on flows of one fraud/abuse subtype."""

    label: str
    subtype: str
    in_truth: int
    decided: int
    stepped_up: int
    reviewed: int
    declined: int

    @property
    def caught(self) -> int:
        return self.stepped_up + self.reviewed + self.declined

    @property
    def recall(self) -> float | None:
        """caught / decided (None when nothing of this subtype was decided)."""
        return _share(self.caught, self.decided)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "subtype": self.subtype, "in_truth": self.in_truth,
                "decided": self.decided, "caught": self.caught, "stepped_up": self.stepped_up,
                "reviewed": self.reviewed, "declined": self.declined,
                "recall": _rounded(self.recall)}


@dataclass(frozen=True, slots=True)
class LegitStats:
    """Decisions on legitimate flows: the cost side (friction put on good customers)."""

    in_truth: int
    decided: int
    friction: int
    declined: int

    @property
    def friction_share(self) -> float | None:
        return _share(self.friction, self.decided)

    @property
    def decline_share(self) -> float | None:
        return _share(self.declined, self.decided)

    def to_dict(self) -> dict[str, Any]:
        return {"in_truth": self.in_truth, "decided": self.decided, "friction": self.friction,
                "declined": self.declined, "friction_share": _rounded(self.friction_share),
                "decline_share": _rounded(self.decline_share)}


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    """Model scores of matched decisions with one truth label (nearest-rank percentiles)."""

    label: str
    count: int
    min: float
    p50: float
    p90: float
    max: float

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "count": self.count, "min": self.min, "p50": self.p50,
                "p90": self.p90, "max": self.max}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One run's scorecard; every count is over distinct ``decision_id``s."""

    run_id: str | None
    decisions: int
    matched: int
    unmatched: int
    unmatched_sample: tuple[str, ...]
    duplicates: int
    malformed: int
    truth_flows: int
    by_outcome: dict[str, int]
    postures: dict[str, int]
    campaigns: tuple[CampaignStats, ...]
    legit: LegitStats
    friction: int
    friction_fraud_or_abuse: int
    scores: tuple[ScoreSummary, ...]

    @property
    def precision(self) -> float | None:
        """Fraud-or-abuse share of matched decisions with friction."""
        return _share(self.friction_fraud_or_abuse, self.friction)

    @property
    def recall(self) -> float | None:
        """Caught share of every decided fraud/abuse flow."""
        return _share(sum(c.caught for c in self.campaigns), sum(c.decided for c in self.campaigns))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (ratios rounded to 6 places, so equal inputs give equal bytes)."""
        return {
            "run_id": self.run_id, "decisions": self.decisions, "matched": self.matched,
            "unmatched": self.unmatched, "unmatched_sample": list(self.unmatched_sample),
            "duplicates": self.duplicates, "malformed": self.malformed,
            "truth_flows": self.truth_flows, "by_outcome": dict(self.by_outcome),
            "postures": dict(self.postures),
            "campaigns": [c.to_dict() for c in self.campaigns], "legit": self.legit.to_dict(),
            "friction": {"decisions": self.friction,
                         "fraud_or_abuse": self.friction_fraud_or_abuse,
                         "precision": _rounded(self.precision)},
            "recall": _rounded(self.recall),
            "scores": [s.to_dict() for s in self.scores],
        }


def _flow_id(decision: Mapping[str, Any]) -> str | None:
    """The one flow a decision's intents name (None when none, or several: ambiguous)."""
    intents = decision.get("intents")
    flows = {subject.get("flow_id") for i in (intents if isinstance(intents, list | tuple) else ())
             if isinstance(i, Mapping) and isinstance(subject := i.get("subject"), Mapping)}
    flows.discard(None)  # an intent may target a card or account only
    flow = flows.pop() if len(flows) == 1 else None
    return flow if isinstance(flow, str) else None


def _readable(decision: object) -> tuple[Mapping[str, Any], str, str, str] | None:
    """(decision, decision_id, outcome, run_id) of a usable decision dict, else None."""
    if not isinstance(decision, Mapping) or decision.get("outcome") not in OUTCOMES:
        return None
    pins = decision.get("pins")
    run_id = pins.get("run_id") if isinstance(pins, Mapping) else None
    decision_id = decision.get("decision_id")
    if not isinstance(run_id, str) or not isinstance(decision_id, str):
        return None
    return decision, decision_id, str(decision["outcome"]), run_id


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _ordered(counts: Counter[str], ladder: Iterable[str]) -> dict[str, int]:
    """Known keys in ladder order (zeros kept), then any others sorted."""
    known = list(ladder)
    return {**{k: counts.get(k, 0) for k in known},
            **{k: counts[k] for k in sorted(counts) if k not in known}}


def evaluate(decisions: Iterable[object], truth: Mapping[str, TruthRow], *,
             run_id: str | None = None) -> Evaluation:
    """Score one run's decisions against ``truth`` (flow_id -> TruthRow).

    Args:
        decisions: decision dicts of one run, in any order (repeats are counted once).
        truth: the run's world truth (:func:`app.evaluation.truth.load_truth`).
        run_id: the run being evaluated; inferred from the decisions when None.

    Raises:
        ContractError: decisions of another run (or of several runs): nothing crosses run_id.
    """
    seen: set[str] = set()
    duplicates = malformed = 0
    by_outcome: Counter[str] = Counter()
    postures: Counter[str] = Counter()
    per_flow: Counter[tuple[str, str, str]] = Counter()  # (label, subtype, outcome)
    scores: dict[str, list[float]] = {}
    unmatched: list[str] = []
    runs: set[str] = set() if run_id is None else {run_id}
    for item in decisions:
        read = _readable(item)
        if read is None:
            malformed += 1
            continue
        decision, decision_id, outcome, decision_run = read
        runs.add(decision_run)
        if len(runs) > 1:
            raise ContractError(f"decisions of runs {sorted(runs)} cannot be evaluated together",
                                reason_code="EVAL_RUNS_MIXED")
        if decision_id in seen:
            duplicates += 1
            continue
        seen.add(decision_id)
        by_outcome[outcome] += 1
        postures[str(decision.get("posture"))] += 1
        flow = _flow_id(decision)
        row = truth.get(flow) if flow is not None else None
        if row is None:
            unmatched.append(flow or _NO_FLOW)
            continue
        per_flow[row.label, row.subtype, outcome] += 1
        score = decision.get("score")
        if isinstance(score, int | float) and not isinstance(score, bool):
            scores.setdefault(row.label, []).append(float(score))
    return _assemble(run_id if run_id is not None else next(iter(runs), None), truth, seen,
                     duplicates, malformed, by_outcome, postures, per_flow, scores, unmatched)


def _assemble(run_id: str | None, truth: Mapping[str, TruthRow], seen: set[str], duplicates: int,
              malformed: int, by_outcome: Counter[str], postures: Counter[str],
              per_flow: Counter[tuple[str, str, str]], scores: dict[str, list[float]],
              unmatched: list[str]) -> Evaluation:
    in_truth = Counter((r.label, r.subtype) for r in truth.values())
    groups = sorted({k for k in in_truth if k[0] != "legit"}
                    | {(lab, sub) for lab, sub, _ in per_flow if lab != "legit"},
                    key=group_order)

    def count(label: str, subtype: str | None, outcome: str) -> int:
        return sum(n for (lab, sub, out), n in per_flow.items()
                   if lab == label and subtype in (None, sub) and out == outcome)

    campaigns = tuple(CampaignStats(
        label=lab, subtype=sub, in_truth=in_truth.get((lab, sub), 0),
        decided=sum(count(lab, sub, o) for o in OUTCOMES), stepped_up=count(lab, sub, "STEP_UP"),
        reviewed=count(lab, sub, "REVIEW"), declined=count(lab, sub, "DECLINE"),
    ) for lab, sub in groups)
    legit_decided = sum(count("legit", None, o) for o in OUTCOMES)
    legit = LegitStats(in_truth=sum(n for (lab, _), n in in_truth.items() if lab == "legit"),
                       decided=legit_decided,
                       friction=legit_decided - count("legit", None, "APPROVE"),
                       declined=count("legit", None, "DECLINE"))
    friction = sum(n for (_, _, out), n in per_flow.items() if out != "APPROVE")
    summaries = tuple(
        ScoreSummary(label=lab, count=len(vals), min=vals[0], p50=_percentile(vals, 0.5),
                     p90=_percentile(vals, 0.9), max=vals[-1])
        for lab in sorted(scores, key=_label_order) if (vals := sorted(scores[lab])))
    return Evaluation(
        run_id=run_id, decisions=len(seen), matched=len(seen) - len(unmatched),
        unmatched=len(unmatched), unmatched_sample=tuple(sorted(unmatched)[:_SAMPLE]),
        duplicates=duplicates, malformed=malformed, truth_flows=len(truth),
        by_outcome=_ordered(by_outcome, OUTCOMES),
        postures=_ordered(postures, (p.value for p in POSTURE_ORDER)),
        campaigns=campaigns, legit=legit, friction=friction,
        friction_fraud_or_abuse=friction - legit.friction, scores=summaries,
    )


def _label_order(label: str) -> tuple[int, str]:
    return (TRUTH_LABELS.index(label) if label in TRUTH_LABELS else len(TRUTH_LABELS), label)


def group_order(group: tuple[str, str]) -> tuple[tuple[int, str], int, str]:
    """Sort key of a (label, subtype) group: label ladder, then the known subtype order."""
    label, subtype = group
    rank = _SUBTYPE_ORDER.index(subtype) if subtype in _SUBTYPE_ORDER else len(_SUBTYPE_ORDER)
    return _label_order(label), rank, subtype
