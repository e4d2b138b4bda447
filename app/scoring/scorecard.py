"""Scoring a scorecard bundle against one feature snapshot: pure, deterministic, explainable.

The score is the sum of the points of every rule whose condition holds; the fired rules are
reported in the bundle's rule order with their reason codes, so a decision says exactly why. A
rule's condition is the shared :class:`app.rails.condition.Condition` (guardrails use the same):
a feature that is absent, ``None`` or NaN never fires, and values compare only with values of the
same kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.rails.bundle import ScoreBands, ScorecardBundle
from app.rails.condition import condition_holds
from app.rails.decision import FeatureValue
from app.scoring.base import BandOutcome, Scored

__all__ = [
    "FiredRule",
    "ScoreResult",
    "ScorecardScorer",
    "band_of",
    "condition_holds",
    "score",
]


@dataclass(frozen=True, slots=True)
class FiredRule:
    """A rule whose condition held: its name, code and the points it added."""

    name: str
    reason_code: str
    points: int


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """The total score, the fired rules in rule order, and the band the score falls in."""

    score: int
    fired: tuple[FiredRule, ...]
    outcome_band: BandOutcome


def band_of(total: int, bands: ScoreBands) -> BandOutcome:
    """The outcome a score reaches: the highest band with ``total >= band``, else APPROVE."""
    if total >= bands.decline:
        return "DECLINE"
    if total >= bands.review:
        return "REVIEW"
    if total >= bands.step_up:
        return "STEP_UP"
    return "APPROVE"


def score(bundle: ScorecardBundle, values: Mapping[str, FeatureValue]) -> ScoreResult:
    """Score one snapshot's ``values`` with ``bundle``; the same inputs give the same result."""
    fired = tuple(
        FiredRule(rule.name, rule.reason_code, rule.points)
        for rule in bundle.rules
        if rule.holds(values)
    )
    total = sum(rule.points for rule in fired)
    return ScoreResult(score=total, fired=fired, outcome_band=band_of(total, bundle.bands))


@dataclass(frozen=True, slots=True)
class ScorecardScorer:
    """The :class:`~app.scoring.base.Scorer` of a scorecard: the total as a float, the band, and
    the fired rules' reason codes in rule order."""

    bundle: ScorecardBundle

    def score(self, values: Mapping[str, FeatureValue]) -> Scored:
        result = score(self.bundle, values)
        return Scored(score=float(result.score), outcome_band=result.outcome_band,
                      reason_codes=tuple(rule.reason_code for rule in result.fired))
