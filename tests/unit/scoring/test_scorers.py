"""Both scorers behind the one interface (``app.scoring``): a scorecard and a LightGBM model."""

from __future__ import annotations

import math
from typing import Any

import lightgbm
import numpy as np
import pytest

from app.rails.decision import FeatureValue
from app.registry.resolver import load_bootstrap
from app.registry.scorecard import score
from app.scoring import (
    LightGBMScorer,
    ModelUnavailableError,
    ScorecardScorer,
    Scored,
    booster_cached,
    feature_row,
    scorer_for,
)
from app.scoring.lightgbm_model import probability_band
from tests.unit.scoring.models import FEATURES, model_bundle, synthetic, train


def _values(row: np.ndarray) -> dict[str, FeatureValue]:
    return {name: (None if math.isnan(v) else float(v)) for name, v in zip(FEATURES, row,
                                                                            strict=True)}


def test_scorecard_scorer_is_the_scorecard_score() -> None:
    bundle = load_bootstrap()
    scorer = scorer_for(bundle)
    assert isinstance(scorer, ScorecardScorer)
    values: dict[str, FeatureValue] = {"card.count_5m": 9, "txn.amount_minor": 900_000,
                                       "graph.card_new_device": True}
    result = score(bundle, values)
    assert result.fired  # the snapshot fires rules: the comparison is not vacuous
    assert scorer.score(values) == Scored(
        score=float(result.score), outcome_band=result.outcome_band,
        reason_codes=tuple(rule.reason_code for rule in result.fired))
    assert scorer.score({}) == Scored(score=0.0, outcome_band="APPROVE", reason_codes=())


def test_model_scorer_equals_the_boosters_own_prediction_row_by_row() -> None:
    text = train()
    bundle = model_bundle(text)
    scorer = scorer_for(bundle, text)
    assert isinstance(scorer, LightGBMScorer)
    booster = lightgbm.Booster(model_str=text.decode())
    x, _ = synthetic(rows=200, seed=11)
    expected = booster.predict(x)
    got = [scorer.score(_values(row)).score for row in x]
    assert got == [float(p) for p in expected]  # exactly: same model, same float64 row
    assert len(set(got)) > 20


def test_missing_none_and_nan_all_read_as_lightgbms_missing_value() -> None:
    text = train()
    scorer = LightGBMScorer(model_bundle(text), text)
    booster = lightgbm.Booster(model_str=text.decode())
    nan_row = np.array([[np.nan, 12_000.0, np.nan]])
    expected = float(booster.predict(nan_row)[0])
    absent: dict[str, FeatureValue] = {"txn.amount_minor": 12_000}
    as_none: dict[str, FeatureValue] = {"card.count_5m": None, "txn.amount_minor": 12_000,
                                        "card.count_1h": None}
    as_nan: dict[str, FeatureValue] = {"card.count_5m": float("nan"),
                                       "txn.amount_minor": 12_000.0, "card.count_1h": math.nan}
    assert {scorer.score(v).score for v in (absent, as_none, as_nan)} == {expected}


def test_the_row_follows_the_bundles_feature_order_and_encodes_bools() -> None:
    row = feature_row(("b.x", "a.y", "c.z", "d.w"),
                      {"a.y": True, "b.x": 3, "c.z": False, "d.w": None})
    assert row.shape == (1, 4) and row.dtype == np.float64
    assert row[0, :3].tolist() == [3.0, 1.0, 0.0] and math.isnan(row[0, 3])


@pytest.mark.parametrize(("p", "band"), [
    (0.0, "APPROVE"), (0.2999, "APPROVE"), (0.3, "STEP_UP"), (0.59, "STEP_UP"),
    (0.6, "REVIEW"), (0.9, "DECLINE"), (1.0, "DECLINE"),
])
def test_probability_bands(p: float, band: str) -> None:
    assert probability_band(p, model_bundle().bands) == band


def test_band_and_reason_code_follow_the_probability() -> None:
    text = train()
    bands = {"step_up": 0.2, "review": 0.5, "decline": 0.8}
    scorer = LightGBMScorer(model_bundle(text, bands=bands), text)
    x, _ = synthetic(rows=300, seed=3)
    seen = set()
    for row in x:
        out = scorer.score(_values(row))
        assert out.outcome_band == probability_band(out.score, scorer.bundle.bands)
        assert out.reason_codes == (() if out.outcome_band == "APPROVE"
                                    else (f"MODEL_SCORE_{out.outcome_band}",))
        seen.add(out.outcome_band)
    assert seen == {"APPROVE", "STEP_UP", "REVIEW", "DECLINE"}


def test_same_bundle_and_values_give_the_same_score_across_scorers() -> None:
    text = train()
    values: dict[str, FeatureValue] = {"card.count_5m": 4, "txn.amount_minor": 30_000,
                                       "card.count_1h": 7}
    first = LightGBMScorer(model_bundle(text), text).score(values)
    again = LightGBMScorer(model_bundle(text), None).score(values)  # from the cache
    assert first == again
    assert booster_cached(model_bundle(text).model_digest)


def test_training_is_deterministic() -> None:
    assert train.__wrapped__() == train()


@pytest.mark.parametrize("case", ["wrong_text", "not_lightgbm", "regression", "columns",
                                  "no_text"])
def test_a_model_that_cannot_be_used_is_refused(case: str) -> None:
    text = train()
    other = train(rows=500, seed=99)
    bundle: Any
    given: bytes | None
    if case == "wrong_text":  # the bundle names another model's digest
        bundle, given = model_bundle(other), text
    elif case == "not_lightgbm":
        given = b"objective=binary\nthis is not a model\n"
        bundle = model_bundle(given)
    elif case == "regression":  # a raw score is not a probability: nothing to band
        given = train(rows=400, seed=5, objective="regression")
        bundle = model_bundle(given)
    elif case == "columns":
        bundle, given = model_bundle(text, features=["card.count_5m", "txn.amount_minor"]), text
    else:
        given = train(rows=450, seed=6)
        bundle = model_bundle(given)
        given = None  # never loaded in this process
    with pytest.raises(ModelUnavailableError):
        scorer_for(bundle, given)
