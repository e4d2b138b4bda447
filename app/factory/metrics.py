"""Candidate against incumbent on the same test rows.

For each scorer: ROC-AUC and average precision (scikit-learn), and recall at 1 % false-positive
rate. The operating point compares the two at the incumbent's friction: the share of legitimate
(label 0) test rows whose incumbent outcome was not APPROVE. The candidate's threshold is chosen so
that the same share (at most) of legitimate rows scores at or above it; the incumbent's recall
there is the share of fraud (label 1) rows it did not approve.

Thresholds follow the bundles' band rule ``score >= threshold``. :func:`threshold_at_share`
puts the threshold just above the ``(k+1)``-th highest legitimate score, ``k = floor(share * n)``,
so at most ``k`` legitimate rows are flagged (fewer when scores tie at the boundary: ties are
never split).

A missing incumbent score (NaN: a rules-only decision, no bundle score) ranks below every real
score: such a row is the incumbent's least suspicious. Its outcome still counts at the operating
point, which uses outcomes, not scores. A row without an incumbent decision (outcome ``""``: none
was audited) counts as not flagged: it imposed no friction and caught nothing.

A metric that is undefined on the test rows (no positives, or no negatives) is NaN here and
``null`` in ``metrics.json``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "FPR_TARGET",
    "Evaluation",
    "OperatingPoint",
    "ScoreMetrics",
    "evaluate",
    "fill_missing_scores",
    "operating_point",
    "recall_at_fpr",
    "score_metrics",
    "threshold_at_share",
]

FPR_TARGET = 0.01
"""The false-positive rate of ``recall_at_1pct_fpr``."""

_NOT_FLAGGED = frozenset({"APPROVE", ""})
"""Incumbent outcomes that are not friction: an approval, or no audited decision at all."""

_Floats = npt.NDArray[np.float64]
_Labels = npt.NDArray[np.int8]


@dataclass(frozen=True)
class OperatingPoint:
    """Where a threshold lands on the test rows."""

    threshold: float
    friction: float
    """Share of legitimate rows flagged (``score >= threshold``)."""
    recall: float
    """Share of fraud rows flagged."""


@dataclass(frozen=True)
class ScoreMetrics:
    """Threshold-free and fixed-FPR metrics of one scorer."""

    roc_auc: float
    average_precision: float
    recall_at_1pct_fpr: float
    threshold_at_1pct_fpr: float


@dataclass(frozen=True)
class Evaluation:
    """Candidate and incumbent on the same test rows."""

    test_rows: int
    test_positives: int
    candidate: ScoreMetrics
    incumbent: ScoreMetrics
    incumbent_point: OperatingPoint
    """From the incumbent's outcomes (not APPROVE = flagged); ``threshold`` is NaN."""
    candidate_point: OperatingPoint
    """The candidate at the incumbent's friction."""
    candidate_step_up_point: OperatingPoint | None
    """The candidate at its own step-up band (every non-APPROVE band), when bands are known."""
    incumbent_scored_share: float
    """Share of test rows with an incumbent score (the rest: rules-only or no decision)."""
    incumbent_decided_share: float
    """Share of test rows with an incumbent decision (outcome not ``""``)."""

    def as_dict(self) -> dict[str, float]:
        """Flat metric names -> values (NaN where undefined), sorted by name."""
        out = {
            "test.rows": float(self.test_rows),
            "test.positives": float(self.test_positives),
            "test.negatives": float(self.test_rows - self.test_positives),
            "incumbent.scored_share": self.incumbent_scored_share,
            "incumbent.decided_share": self.incumbent_decided_share,
        }
        for who, m, point in (("candidate", self.candidate, self.candidate_point),
                              ("incumbent", self.incumbent, self.incumbent_point)):
            out[f"{who}.roc_auc"] = m.roc_auc
            out[f"{who}.average_precision"] = m.average_precision
            out[f"{who}.recall_at_1pct_fpr"] = m.recall_at_1pct_fpr
            out[f"{who}.recall_at_incumbent_friction"] = point.recall
            out[f"{who}.friction_at_operating_point"] = point.friction
        if self.candidate_step_up_point is not None:
            out["candidate.step_up_band_friction"] = self.candidate_step_up_point.friction
            out["candidate.step_up_band_recall"] = self.candidate_step_up_point.recall
        return dict(sorted(out.items()))


def fill_missing_scores(scores: _Floats) -> _Floats:
    """NaN scores replaced by a value below every real score (1 below the lowest, else 0)."""
    scores = np.asarray(scores, dtype=np.float64)
    missing = np.isnan(scores)
    if not missing.any():
        return scores
    real = scores[~missing]
    floor = float(real.min()) - 1.0 if real.size else 0.0
    return np.where(missing, floor, scores)


def threshold_at_share(negative_scores: _Floats, share: float) -> float:
    """The lowest threshold flagging (``>=``) at most ``floor(share * n)`` of ``negative_scores``.

    It sits just above the ``(k+1)``-th highest score; ``-inf`` when ``k >= n`` (flag all), NaN
    without negatives.
    """
    n = len(negative_scores)
    if n == 0:
        return math.nan
    k = min(n, max(0, math.floor(share * n + 1e-9)))
    if k >= n:
        return -math.inf
    boundary = float(np.sort(np.asarray(negative_scores, dtype=np.float64))[::-1][k])
    return float(np.nextafter(boundary, math.inf))


def operating_point(scores: _Floats, labels: _Labels, threshold: float) -> OperatingPoint:
    """Friction and recall of ``score >= threshold`` (all NaN for a NaN threshold)."""
    if math.isnan(threshold):
        return OperatingPoint(threshold=math.nan, friction=math.nan, recall=math.nan)
    flagged = scores >= threshold
    return OperatingPoint(threshold=threshold, friction=_mean(flagged[labels == 0]),
                          recall=_mean(flagged[labels == 1]))


def recall_at_fpr(scores: _Floats, labels: _Labels, fpr: float = FPR_TARGET) -> OperatingPoint:
    """The operating point flagging at most ``fpr`` of the negatives."""
    return operating_point(scores, labels, threshold_at_share(scores[labels == 0], fpr))


def score_metrics(scores: _Floats, labels: _Labels) -> ScoreMetrics:
    """ROC-AUC, average precision and recall at 1 % FPR (NaN where one label is absent)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    both = bool((labels == 1).any() and (labels == 0).any())
    point = recall_at_fpr(scores, labels)
    return ScoreMetrics(
        roc_auc=float(roc_auc_score(labels, scores)) if both else math.nan,
        average_precision=float(average_precision_score(labels, scores)) if both else math.nan,
        recall_at_1pct_fpr=point.recall,
        threshold_at_1pct_fpr=point.threshold,
    )


def evaluate(labels: _Labels, candidate: _Floats, incumbent_score: _Floats,
             incumbent_outcome: Sequence[str], *,
             step_up_band: float | None = None) -> Evaluation:
    """Compare the candidate's scores with the incumbent's scores and outcomes, row by row."""
    labels = np.asarray(labels, dtype=np.int8)
    candidate = np.asarray(candidate, dtype=np.float64)
    if not len(labels) == len(candidate) == len(incumbent_score) == len(incumbent_outcome):
        raise ValueError("labels, scores and outcomes must have one entry per test row")
    incumbent = fill_missing_scores(incumbent_score)
    flagged = np.array([o not in _NOT_FLAGGED for o in incumbent_outcome], dtype=bool)
    incumbent_point = OperatingPoint(threshold=math.nan, friction=_mean(flagged[labels == 0]),
                                     recall=_mean(flagged[labels == 1]))
    share = incumbent_point.friction
    threshold = math.nan if math.isnan(share) else threshold_at_share(candidate[labels == 0],
                                                                       share)
    return Evaluation(
        test_rows=len(labels),
        test_positives=int((labels == 1).sum()),
        candidate=score_metrics(candidate, labels),
        incumbent=score_metrics(incumbent, labels),
        incumbent_point=incumbent_point,
        candidate_point=operating_point(candidate, labels, threshold),
        candidate_step_up_point=(None if step_up_band is None
                                 else operating_point(candidate, labels, step_up_band)),
        incumbent_scored_share=_mean(~np.isnan(np.asarray(incumbent_score, dtype=np.float64))),
        incumbent_decided_share=_mean(np.array([o != "" for o in incumbent_outcome],
                                               dtype=bool)),
    )


def _mean(flags: npt.NDArray[np.bool_]) -> float:
    return float(flags.mean()) if flags.size else math.nan
