"""ACTIVE against SHADOW on the same decisions: pure metrics over audited decisions, no I/O.

A scope's SHADOW bundle scores every decision next to the ACTIVE one and DF records the outcome
the decision would have had with the shadow as ACTIVE (same guardrails and floors), so both sides
can be scored on exactly the same decisions. Only decisions whose trigger event time lies in the
window ``[from_us, to_us)`` and that carry a shadow score are compared; the others are counted
(``without_shadow``) but left out of both sides, so neither side is measured on traffic the other
never saw. Yardsticks are the scorecard's (``app.evaluation.scorecard_report``): "caught" is any
friction (outcome other than APPROVE) on a fraud or abuse flow, "legitimate friction" the share
of decided legit flows with an outcome other than APPROVE. Output order is fixed and ratios are
rounded, so equal inputs give equal :meth:`ShadowComparison.to_dict` bytes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from app.evaluation.scorecard_report import group_order
from app.evaluation.truth import TruthRow
from app.rails.audit import AuditRecord
from app.rails.decision import BundleRef, DecisionOutcome, ShadowScore
from app.rails.timefmt import epoch_micros_to_ts, ts_to_epoch_micros

__all__ = ["CampaignCatch", "CompareRow", "ShadowComparison", "SideStats", "bundle_name",
           "compare_shadow", "in_window", "rows_of_audit"]

Side = Literal["active", "shadow"]
Verdict = Literal["active_better", "shadow_better", "no_winner"]
NO_BUNDLE = "none"
"""How a decision without a model (RULES_ONLY, FAIL_CLOSED) names its bundle."""
_SAMPLE = 10  # unmatched flow ids listed for an operator to look up


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def bundle_name(bundle: BundleRef | None) -> str:
    """``bundle_id@version`` (the name operators promote by), or ``none``."""
    return NO_BUNDLE if bundle is None else f"{bundle.bundle_id}@{bundle.version}"


def in_window(ts_us: int, from_us: int | None, to_us: int | None) -> bool:
    """``from_us <= ts_us < to_us``, an end given as None being open."""
    return (from_us is None or from_us <= ts_us) and (to_us is None or ts_us < to_us)


@dataclass(frozen=True, slots=True)
class CompareRow:
    """One audited decision, reduced to what the comparison reads."""

    trigger_ts_us: int
    flow_id: str
    active_outcome: DecisionOutcome
    active_bundle: BundleRef | None
    shadow: ShadowScore | None


def rows_of_audit(records: Iterable[AuditRecord], flow_of: Mapping[str, str]) -> list[CompareRow]:
    """Rows of one run's audit records (one per decision: ``app.ofs.archive_source.audit_of_run``).

    Args:
        flow_of: trigger event id -> flow id (from IG's archive); a trigger missing there gets
            flow id "" and is counted as unmatched if compared.
    """
    return [CompareRow(trigger_ts_us=ts_to_epoch_micros(r.decision.trigger_ts_utc),
                       flow_id=flow_of.get(r.decision.trigger_event_id, ""),
                       active_outcome=r.decision.outcome, active_bundle=r.decision.bundle,
                       shadow=r.decision.shadow) for r in records]


@dataclass(frozen=True, slots=True)
class CampaignCatch:
    """One side's catch on one fraud/abuse (label, subtype)."""

    label: str
    subtype: str
    decided: int
    caught: int

    @property
    def recall(self) -> float | None:
        return _share(self.caught, self.decided)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "subtype": self.subtype, "decided": self.decided,
                "caught": self.caught, "recall": _rounded(self.recall)}


@dataclass(frozen=True, slots=True)
class SideStats:
    """One side's outcomes on the compared decisions that matched truth."""

    side: Side
    bundles: tuple[str, ...]
    """Every bundle seen on this side (``bundle_id@version``, sorted): more than one when a
    promotion happened inside the window."""
    decided: int
    campaigns: tuple[CampaignCatch, ...]
    legit_decided: int
    legit_friction: int
    legit_declined: int

    @property
    def fraud_decided(self) -> int:
        return sum(c.decided for c in self.campaigns)

    @property
    def caught(self) -> int:
        return sum(c.caught for c in self.campaigns)

    @property
    def recall(self) -> float | None:
        return _share(self.caught, self.fraud_decided)

    @property
    def legit_friction_share(self) -> float | None:
        return _share(self.legit_friction, self.legit_decided)

    def to_dict(self) -> dict[str, Any]:
        return {"bundles": list(self.bundles), "decided": self.decided,
                "fraud_abuse": {"decided": self.fraud_decided, "caught": self.caught,
                                "recall": _rounded(self.recall)},
                "campaigns": [c.to_dict() for c in self.campaigns],
                "legit": {"decided": self.legit_decided, "friction": self.legit_friction,
                          "friction_share": _rounded(self.legit_friction_share),
                          "declined": self.legit_declined}}


@dataclass(frozen=True, slots=True)
class ShadowComparison:
    """ACTIVE and SHADOW scored on the same decisions: those in the window carrying a shadow."""

    run_id: str | None
    from_us: int | None
    to_us: int | None
    decisions: int
    """Every decision given, in the window or not."""
    in_window: int
    without_shadow: int
    """In the window but carrying no shadow score: left out of both sides."""
    compared: int
    unmatched: int
    """Compared decisions whose flow has no truth row: left out of both sides."""
    unmatched_sample: tuple[str, ...]
    agreed: int
    """Compared decisions where both sides' outcomes are the same."""
    active: SideStats
    shadow: SideStats

    @property
    def active_better(self) -> bool:
        """ACTIVE catches more fraud/abuse at equal or lower legitimate friction."""
        return (self.shadow.caught < self.active.caught
                and self.active.legit_friction <= self.shadow.legit_friction)

    @property
    def shadow_better(self) -> bool:
        """SHADOW catches more fraud/abuse at equal or lower legitimate friction."""
        return (self.active.caught < self.shadow.caught
                and self.shadow.legit_friction <= self.active.legit_friction)

    @property
    def verdict(self) -> Verdict:
        """Which side dominates; ``no_winner`` for a tie or a trade-off (more caught, more
        friction). Counts suffice: both sides are measured on the same decided flows."""
        if self.active_better:
            return "active_better"
        return "shadow_better" if self.shadow_better else "no_winner"

    def window_text(self) -> str:
        """``FROM..TO`` in the platform's time format; an open end is ``start`` / ``end``."""
        start = "start" if self.from_us is None else epoch_micros_to_ts(self.from_us)
        end = "end" if self.to_us is None else epoch_micros_to_ts(self.to_us)
        return f"{start}..{end}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, fixed key order and ratios rounded to 6 places."""
        return {
            "run_id": self.run_id,
            "window": {"from": None if self.from_us is None else epoch_micros_to_ts(self.from_us),
                       "to": None if self.to_us is None else epoch_micros_to_ts(self.to_us),
                       "on": "trigger event time, [from, to)"},
            "decisions": {"total": self.decisions, "in_window": self.in_window,
                          "without_shadow": self.without_shadow, "compared": self.compared,
                          "unmatched": self.unmatched,
                          "unmatched_sample": list(self.unmatched_sample),
                          "agreed": self.agreed},
            "compared_over": "decisions in the window that carry a shadow score and match truth",
            "active": self.active.to_dict(), "shadow": self.shadow.to_dict(),
            "active_better": self.active_better, "shadow_better": self.shadow_better,
            "verdict": self.verdict,
        }


def compare_shadow(rows: Iterable[CompareRow], truth: Mapping[str, TruthRow], *,
                   from_us: int | None = None, to_us: int | None = None,
                   run_id: str | None = None) -> ShadowComparison:
    """Score ACTIVE and SHADOW outcomes of ``rows`` against ``truth`` on ``[from_us, to_us)``.

    Args:
        rows: one per decision (:func:`rows_of_audit`), in any order.
        truth: flow id -> truth row (:func:`app.evaluation.truth.truth_of_run`).
        from_us, to_us: the window on trigger event time, epoch micros; None is open.

    Raises:
        ValueError: ``from_us`` is not before ``to_us`` (an empty window is a caller's mistake).
    """
    if from_us is not None and to_us is not None and from_us >= to_us:
        raise ValueError("the window's start must be before its end")
    decisions = windowed = without_shadow = agreed = 0
    unmatched: list[str] = []
    bundles: dict[Side, set[str]] = {"active": set(), "shadow": set()}
    # (side, label, subtype, friction?) -> decisions; legit DECLINE counted apart
    counts: Counter[tuple[Side, str, str, bool]] = Counter()
    declined: Counter[Side] = Counter()
    for row in rows:
        decisions += 1
        if not in_window(row.trigger_ts_us, from_us, to_us):
            continue
        windowed += 1
        if row.shadow is None:
            without_shadow += 1
            continue
        truth_row = truth.get(row.flow_id)
        if truth_row is None:
            unmatched.append(row.flow_id or "<no flow_id>")
            continue
        agreed += row.active_outcome == row.shadow.outcome
        sides: tuple[tuple[Side, DecisionOutcome, BundleRef | None], ...] = (
            ("active", row.active_outcome, row.active_bundle),
            ("shadow", row.shadow.outcome, row.shadow.bundle))
        for side, outcome, bundle in sides:
            bundles[side].add(bundle_name(bundle))
            counts[side, truth_row.label, truth_row.subtype,
                   outcome != DecisionOutcome.APPROVE] += 1
            if truth_row.label == "legit" and outcome == DecisionOutcome.DECLINE:
                declined[side] += 1
    compared = windowed - without_shadow
    return ShadowComparison(
        run_id=run_id, from_us=from_us, to_us=to_us, decisions=decisions, in_window=windowed,
        without_shadow=without_shadow, compared=compared, unmatched=len(unmatched),
        unmatched_sample=tuple(sorted(unmatched)[:_SAMPLE]), agreed=agreed,
        active=_side("active", bundles["active"], counts, declined["active"]),
        shadow=_side("shadow", bundles["shadow"], counts, declined["shadow"]))


def _side(side: Side, bundles: set[str], counts: Counter[tuple[Side, str, str, bool]],
          declined: int) -> SideStats:
    mine = {(lab, sub, friction): n for (s, lab, sub, friction), n in counts.items() if s == side}
    groups = sorted({(lab, sub) for lab, sub, _ in mine if lab != "legit"}, key=group_order)
    campaigns = tuple(CampaignCatch(
        label=lab, subtype=sub, decided=mine.get((lab, sub, False), 0) + mine.get(
            (lab, sub, True), 0), caught=mine.get((lab, sub, True), 0)) for lab, sub in groups)
    legit_friction = sum(n for (lab, _, friction), n in mine.items() if lab == "legit" and friction)
    legit_decided = sum(n for (lab, _, _), n in mine.items() if lab == "legit")
    return SideStats(side=side, bundles=tuple(sorted(bundles)), decided=sum(mine.values()),
                     campaigns=campaigns, legit_decided=legit_decided,
                     legit_friction=legit_friction, legit_declined=declined)
