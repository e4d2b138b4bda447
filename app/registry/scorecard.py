"""Scoring a scorecard bundle against one feature snapshot: pure, deterministic, explainable.

The score is the sum of the points of every rule whose condition holds; the fired rules are
reported in the bundle's rule order with their reason codes, so a decision says exactly why. A
rule over a feature that is absent or ``None`` never fires: missing data is not evidence (DL and
the completeness rules deal with missing data explicitly). Values compare only with values of
the same kind: a bool feature with a bool, a number with a number; a mismatch never fires, so
``1`` is never mistaken for ``true``. The same condition test serves DF's guardrails.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from app.rails.bundle import ScoreBands, ScorecardBundle
from app.rails.decision import FeatureValue

__all__ = ["BandOutcome", "FiredRule", "ScoreResult", "band_of", "condition_holds", "score"]

BandOutcome = Literal["APPROVE", "STEP_UP", "REVIEW", "DECLINE"]

_COMPARE: dict[str, Callable[[object, object], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


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


def condition_holds(
    op: str, value: bool | int | float | Sequence[int], actual: FeatureValue
) -> bool:
    """Whether ``actual <op> value`` holds; ``None`` or a kind mismatch never holds.

    Args:
        op: one of ``> >= < <= == != in``.
        value: the rule's right-hand side (an int list or tuple for ``in``).
        actual: the snapshot's value for the rule's feature (``None`` when unknown).

    Raises:
        ValueError: ``op`` is not a known operator (bundles and policies validate it first).
    """
    if actual is None or actual != actual:  # NaN is no more evidence than None
        return False
    if op == "in":
        if isinstance(actual, bool) or not isinstance(actual, int):
            return False
        return isinstance(value, list | tuple) and actual in value
    compare = _COMPARE.get(op)
    if compare is None:
        raise ValueError(f"unknown operator {op!r}")
    if isinstance(value, list | tuple) or isinstance(actual, bool) != isinstance(value, bool):
        return False
    return compare(actual, value)


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
        if condition_holds(rule.op, rule.value, values.get(rule.feature))
    )
    total = sum(rule.points for rule in fired)
    return ScoreResult(score=total, fired=fired, outcome_band=band_of(total, bundle.bands))
