"""Score bands from policy targets on legitimate training rows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from app.factory.bands import Bands, BandTargets, band_rates, pick_bands
from app.factory.factory import FactoryResult
from app.factory.train import split_by_time
from tests.unit.factory.conftest import FEATURES


def test_bands_hit_the_cumulative_target_rates_from_below() -> None:
    negatives = np.random.default_rng(1).random(10_000)
    targets = BandTargets()
    bands = pick_bands(negatives, targets)
    assert 0.0 <= bands.step_up <= bands.review <= bands.decline <= 1.0
    rates = band_rates(negatives, bands)
    for name, target in targets.cumulative().items():
        assert target - 1 / 10_000 <= rates[name] <= target, name
    assert targets.cumulative() == pytest.approx({"step_up": 0.04, "review": 0.01,
                                                  "decline": 0.002})


def test_bands_of_a_trained_model_hit_the_targets_on_training_negatives(
        result: FactoryResult, table: pa.Table) -> None:
    split = split_by_time(table, FEATURES, 0.8)
    negatives = int((split.y_train == 0).sum())
    for name, target in BandTargets().cumulative().items():
        rate = result.train_band_rates[name]
        assert target - 3 / negatives <= rate <= target, (name, rate)
    b = result.bundle_fields["bands"]
    assert b == result.bands.as_dict()
    assert 0.0 <= b["step_up"] <= b["review"] <= b["decline"] <= 1.0


def test_ties_keep_the_rate_below_the_target_and_the_bands_ordered() -> None:
    bands = pick_bands(np.full(1_000, 0.25), BandTargets())
    assert bands.step_up == bands.review == bands.decline > 0.25
    assert band_rates(np.full(1_000, 0.25), bands) == {"step_up": 0.0, "review": 0.0,
                                                       "decline": 0.0}


def test_edge_targets() -> None:
    scores = np.linspace(0.0, 1.0, 101)
    assert pick_bands(scores, BandTargets(0.0, 0.0, 0.0)).decline == 1.0
    everything = pick_bands(scores, BandTargets(step_up_rate=1.0, review_rate=0.0,
                                                decline_rate=0.0))
    assert everything.step_up == 0.0 and band_rates(scores, everything)["step_up"] == 1.0
    assert isinstance(everything, Bands)


@pytest.mark.parametrize("rates", [(-0.1, 0.0, 0.0), (0.5, 0.4, 0.2)])
def test_impossible_targets_are_refused(rates: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError, match="band target rates"):
        BandTargets(*rates)


def test_no_negatives_no_bands() -> None:
    with pytest.raises(ValueError, match="no legitimate rows"):
        pick_bands(np.array([], dtype=np.float64), BandTargets())
