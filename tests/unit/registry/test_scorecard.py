"""Scoring a scorecard against a snapshot (``app.registry.scorecard``)."""

from __future__ import annotations

from typing import Any

import pytest

from app.rails.bundle import ScoreBands
from app.registry.scorecard import FiredRule, band_of, condition_holds, score
from tests.unit.registry.test_bundle import make_bundle, rule_body


def values(**overrides: Any) -> dict[str, Any]:
    """A quiet snapshot (no rule fires); each test changes one feature."""
    base: dict[str, Any] = {"card.count_5m": 1, "txn.is_tiny_amount": False, "txn.mcc": 5411}
    return {**base, **overrides}


def test_quiet_snapshot_scores_zero_and_approves() -> None:
    result = score(make_bundle(), values())
    assert (result.score, result.fired, result.outcome_band) == (0, (), "APPROVE")


def test_fired_rules_are_summed_and_reported_in_rule_order() -> None:
    result = score(make_bundle(), values(**{"txn.mcc": 5815, "card.count_5m": 9,
                                            "txn.is_tiny_amount": True}))
    assert result.fired == (FiredRule("card_burst", "CARD_BURST_5M", 30),
                            FiredRule("tiny", "TINY_AMOUNT", 20),
                            FiredRule("probe_mcc", "PROBE_CATEGORY", 10))
    assert result.score == 60
    assert result.outcome_band == "DECLINE"


@pytest.mark.parametrize("snapshot", [
    values(**{"card.count_5m": None}),
    {k: v for k, v in values().items() if k != "card.count_5m"},
])
def test_missing_or_none_feature_never_fires(snapshot: dict[str, Any]) -> None:
    bundle = make_bundle(rules=[rule_body(op="<", value=5)])  # would fire on any small count
    assert score(bundle, snapshot).fired == ()


@pytest.mark.parametrize("op", [">", ">=", "<", "<=", "==", "!=", "in"])
def test_none_never_holds_for_any_operator(op: str) -> None:
    assert not condition_holds(op, [1] if op == "in" else 1, None)


def test_nan_is_no_evidence() -> None:
    assert not condition_holds("!=", 1.0, float("nan"))


def test_in_matches_only_listed_integers() -> None:
    bundle = make_bundle()
    assert score(bundle, values(**{"txn.mcc": 5816})).fired[0].name == "probe_mcc"
    assert score(bundle, values(**{"txn.mcc": 5817})).fired == ()
    assert not condition_holds("in", [1], True)  # True is not the integer 1
    assert condition_holds("in", (4829, 6051), 6051)  # tuples (policy guardrails) work too


def test_bools_compare_only_with_bools() -> None:
    assert condition_holds("==", True, True)
    assert condition_holds("!=", True, False)
    assert not condition_holds("==", True, 1)
    assert not condition_holds("==", 1, True)
    assert not condition_holds(">=", 1, True)


def test_numbers_compare_across_int_and_float() -> None:
    assert condition_holds(">=", 3.0, 3)
    assert condition_holds("<", 3, 2.5)
    assert not condition_holds(">", 3, 3)


def test_unknown_operator_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown operator"):
        condition_holds("=~", 1, 1)


@pytest.mark.parametrize(("total", "band"), [
    (-5, "APPROVE"), (39, "APPROVE"), (40, "STEP_UP"), (59, "STEP_UP"), (60, "REVIEW"),
    (89, "REVIEW"), (90, "DECLINE"), (500, "DECLINE"),
])
def test_band_edges_are_inclusive(total: int, band: str) -> None:
    assert band_of(total, ScoreBands(step_up=40, review=60, decline=90)) == band


def test_equal_bands_give_the_strictest_outcome() -> None:
    bands = ScoreBands(step_up=50, review=50, decline=50)
    assert band_of(50, bands) == "DECLINE"
    assert band_of(49, bands) == "APPROVE"


def test_negative_points_lower_the_score() -> None:
    bundle = make_bundle(rules=[rule_body(), rule_body(name="chip", feature="txn.entry_chip",
                                                       op="==", value=True, points=-30,
                                                       reason_code="CHIP")])
    result = score(bundle, values(**{"card.count_5m": 9, "txn.entry_chip": True}))
    assert (result.score, result.outcome_band) == (0, "APPROVE")


def test_scoring_is_deterministic() -> None:
    bundle = make_bundle()
    snapshot = values(**{"txn.mcc": 5815, "card.count_5m": 7})
    assert score(bundle, snapshot) == score(bundle, dict(reversed(list(snapshot.items()))))
