"""Metrics against hand computations on tiny arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.factory.metrics import (
    evaluate,
    fill_missing_scores,
    operating_point,
    recall_at_fpr,
    score_metrics,
    threshold_at_share,
)


def _arr(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def test_threshold_at_share_flags_at_most_that_share_of_negatives() -> None:
    negatives = _arr(*(i / 10 for i in range(1, 11)))  # 0.1 .. 1.0
    t = threshold_at_share(negatives, 0.1)  # k = 1: just above the second highest, 0.9
    assert 0.9 < t <= 1.0 and t == np.nextafter(0.9, 1.0)
    assert (negatives >= t).sum() == 1
    assert (negatives >= threshold_at_share(negatives, 0.25)).sum() == 2  # floor(2.5)
    assert threshold_at_share(negatives, 0.0) > 1.0  # nothing flagged
    assert threshold_at_share(negatives, 1.0) == -math.inf  # everything flagged
    assert math.isnan(threshold_at_share(_arr(), 0.1))


def test_ties_at_the_boundary_are_never_split() -> None:
    negatives = _arr(0.5, 0.5, 0.5, 0.5, 0.9)
    t = threshold_at_share(negatives, 0.4)  # k = 2, but 0.5 is shared by four rows
    assert (negatives >= t).sum() == 1


def test_recall_at_one_percent_fpr_by_hand() -> None:
    negatives = [i / 200 for i in range(200)]  # 0.0 .. 0.995: 1 % is 2 rows
    positives = [0.999, 0.996, 0.99, 0.5]  # 0.99 ties the second-highest negative
    scores = _arr(*negatives, *positives)
    labels = np.array([0] * 200 + [1] * 4, dtype=np.int8)
    point = recall_at_fpr(scores, labels)
    assert point.friction == pytest.approx(2 / 200)
    assert point.recall == pytest.approx(3 / 4)  # 0.999, 0.996 and 0.99 (>= threshold)
    assert score_metrics(scores, labels).recall_at_1pct_fpr == pytest.approx(3 / 4)


def test_recall_at_the_incumbents_friction_by_hand() -> None:
    # 10 legitimate rows: the incumbent did not approve 2 of them -> friction 0.2.
    # 4 fraud rows: the incumbent did not approve 3 -> its recall 0.75.
    labels = np.array([0] * 10 + [1] * 4, dtype=np.int8)
    outcomes = ["APPROVE"] * 8 + ["STEP_UP", "DECLINE"] + ["REVIEW", "APPROVE", "DECLINE",
                                                            "STEP_UP"]
    candidate = _arr(*(i / 10 for i in range(10)), 0.95, 0.85, 0.65, 0.2)
    incumbent = _arr(*([0.1] * 14))
    ev = evaluate(labels, candidate, incumbent, outcomes)
    assert (ev.incumbent_point.friction, ev.incumbent_point.recall) == (0.2, 0.75)
    # the candidate flags 2 of 10 negatives (0.8, 0.9) and 2 of 4 positives (0.95, 0.85)
    assert ev.candidate_point.friction == pytest.approx(0.2)
    assert ev.candidate_point.recall == pytest.approx(0.5)
    m = ev.as_dict()
    assert m["candidate.recall_at_incumbent_friction"] == pytest.approx(0.5)
    assert m["incumbent.recall_at_incumbent_friction"] == 0.75
    assert m["incumbent.friction_at_operating_point"] == 0.2
    assert (m["test.rows"], m["test.positives"], m["test.negatives"]) == (14, 4, 10)
    assert "candidate.step_up_band_recall" not in m


def test_a_missing_incumbent_score_ranks_below_every_real_score() -> None:
    assert list(fill_missing_scores(_arr(0.3, math.nan, -2.0))) == [0.3, -3.0, -2.0]
    assert list(fill_missing_scores(_arr(math.nan, math.nan))) == [0.0, 0.0]
    labels = np.array([1, 0, 0], dtype=np.int8)
    ev = evaluate(labels, _arr(0.9, 0.1, 0.2), _arr(math.nan, 0.1, 0.2),
                  ["DECLINE", "APPROVE", "APPROVE"])
    assert ev.incumbent.roc_auc == 0.0 and ev.candidate.roc_auc == 1.0
    assert ev.incumbent_scored_share == pytest.approx(2 / 3)
    assert ev.incumbent_point.recall == 1.0  # its outcome still counts (a rules-only decline)


def test_metrics_are_nan_when_the_test_rows_have_one_label() -> None:
    labels = np.zeros(5, dtype=np.int8)
    ev = evaluate(labels, _arr(0.1, 0.2, 0.3, 0.4, 0.5), _arr(*[0.5] * 5), ["APPROVE"] * 5,
                  step_up_band=0.35)
    for value in (ev.candidate.roc_auc, ev.candidate.average_precision,
                  ev.candidate.recall_at_1pct_fpr, ev.incumbent_point.recall):
        assert math.isnan(value)
    assert ev.candidate_step_up_point is not None
    assert ev.candidate_step_up_point.friction == pytest.approx(0.4)


def test_an_undefined_threshold_gives_an_undefined_point() -> None:
    point = operating_point(_arr(0.1), np.array([1], dtype=np.int8), math.nan)
    assert math.isnan(point.friction) and math.isnan(point.recall)


def test_rows_must_line_up() -> None:
    with pytest.raises(ValueError, match="one entry per test row"):
        evaluate(np.zeros(2, dtype=np.int8), _arr(0.1, 0.2), _arr(0.1), ["APPROVE"] * 2)


def test_a_row_without_an_incumbent_decision_is_not_friction() -> None:
    labels = np.array([0, 0, 0, 0, 1, 1], dtype=np.int8)
    outcomes = ["", "APPROVE", "DECLINE", "", "", "STEP_UP"]
    ev = evaluate(labels, _arr(0.1, 0.2, 0.3, 0.4, 0.5, 0.6), _arr(*[math.nan] * 6), outcomes)
    assert (ev.incumbent_point.friction, ev.incumbent_point.recall) == (0.25, 0.5)
    assert ev.incumbent_decided_share == pytest.approx(3 / 6)
    assert ev.incumbent_scored_share == 0.0
