"""Window bounds, exact statistics and the windowed features the registry declares."""

from __future__ import annotations

import math
import re
import statistics

import pytest

from app.ofp import ENTITY_KINDS, FEATURE_NAMES, REGISTRY, WINDOWS, EntityKind
from app.ofp.windows import (
    RETENTION_US,
    amount_to_mean,
    amount_zscore,
    in_window,
    seconds_between,
)

MINUTE_US = 60_000_000


def test_windows_are_the_four_declared_lengths() -> None:
    assert WINDOWS == {
        "5m": 5 * MINUTE_US,
        "1h": 60 * MINUTE_US,
        "24h": 24 * 60 * MINUTE_US,
        "7d": 7 * 24 * 60 * MINUTE_US,
    }
    assert WINDOWS["7d"] == RETENTION_US == max(WINDOWS.values())  # the state relies on it


def test_window_includes_its_start_and_excludes_the_trigger_time() -> None:
    t, w = 1_000 * MINUTE_US, 5 * MINUTE_US
    assert in_window(t - w, t, w)
    assert in_window(t - 1, t, w)
    assert not in_window(t - w - 1, t, w)
    assert not in_window(t, t, w)  # as-of safety: the trigger's own time never counts
    assert not in_window(t + 1, t, w)


def test_seconds_between_is_exact_to_the_microsecond() -> None:
    assert seconds_between(10_000_001, 0) == 10.000001
    assert seconds_between(1, 0) == 0.000001
    assert seconds_between(3_600_000_000, 0) == 3600.0


def test_amount_to_mean_is_none_without_a_mean() -> None:
    assert amount_to_mean(500, 0, 0) is None
    assert amount_to_mean(500, 3, 0) is None
    assert amount_to_mean(700, 1, 500) == 1.4
    assert amount_to_mean(100, 3, 1000) == round(100 / (1000 / 3), 6)


def test_zscore_matches_the_population_definition() -> None:
    amounts = [100, 250, 999, 40_000]
    n, s, q = len(amounts), sum(amounts), sum(a * a for a in amounts)
    expected = (5_000 - statistics.fmean(amounts)) / statistics.pstdev(amounts)
    got = amount_zscore(5_000, n, s, q)
    assert got is not None
    assert math.isclose(got, expected, abs_tol=1e-6)
    assert got == round(got, 6)


def test_zscore_is_none_for_fewer_than_two_events_or_zero_spread() -> None:
    assert amount_zscore(500, 0, 0, 0) is None
    assert amount_zscore(500, 1, 400, 160_000) is None
    assert amount_zscore(500, 3, 1_200, 3 * 400 * 400) is None  # all equal: std == 0


def test_zscore_is_exact_for_large_sums() -> None:
    # Sums of squares past 2**53 stay exact ints; only sqrt and one division round.
    n, s, q = 3, 3 * 10**12 + 3, 3 * 10**24 + 6 * 10**12 + 5
    assert amount_zscore(10**12, n, s, q) == round((10**12 * n - s) / math.sqrt(n * q - s * s), 6)


def kind_feature_names(kind: EntityKind) -> set[str]:
    return {d.name for d in REGISTRY.defs if d.entity_kind == kind}


DISTINCT_STEMS: dict[str, set[str]] = {
    "card": {"distinct_merchants", "distinct_devices"},
    "account": {"distinct_cards", "distinct_merchants", "distinct_devices"},
    "customer": {"distinct_cards", "distinct_merchants", "distinct_devices"},
    "device": {"distinct_cards", "distinct_merchants"},
    "ip": {"distinct_cards", "distinct_merchants"},
    "merchant": {"distinct_cards"},
}


def test_feature_names_are_sorted_unique_and_well_formed() -> None:
    assert list(FEATURE_NAMES) == sorted(set(FEATURE_NAMES))
    pattern = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$")  # rails FeatureName
    assert all(pattern.match(name) for name in FEATURE_NAMES)
    per_window = {kind: 3 + len(DISTINCT_STEMS[kind]) for kind in ENTITY_KINDS}
    expected = sum(4 * n + 1 for n in per_window.values()) + 2  # + card extras
    assert len(FEATURE_NAMES) == expected == 132


@pytest.mark.parametrize("kind", ENTITY_KINDS)
def test_each_kind_has_its_distinct_counts_per_window(kind: EntityKind) -> None:
    stems = DISTINCT_STEMS[kind]
    names = kind_feature_names(kind)
    for window in WINDOWS:
        for stem in ("count", "amount_sum", "amount_max", *stems):
            assert f"{kind}.{stem}_{window}" in names
    distinct = {n for n in names if ".distinct_" in n}
    assert len(distinct) == 4 * len(stems)
    assert f"{kind}.time_since_prev_s" in names


def test_no_self_feedback_features() -> None:
    # Declines and step-ups were fed by DF's own outcomes (issue #12): dropped.
    assert not [n for n in REGISTRY.names if "declines" in n or "step_ups" in n]


def test_only_cards_have_the_ratio_features() -> None:
    extras = {"card.amount_to_mean_7d", "card.amount_zscore_7d"}
    assert extras <= set(FEATURE_NAMES)
    assert sorted(n for n in FEATURE_NAMES if "mean" in n or "zscore" in n) == sorted(extras)
