"""FeatureState behaviour: windows, distincts, max, time since previous, ratios, None entities,
lateness, eviction and state dumps. Every expected value is also checked against the
brute-force reference, and each test runs on both paths (running windows and log slices)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pytest

from app.ofp import FEATURE_NAMES, REGISTRY, FeatureState, Txn, brute_force_features
from app.ofp.feature_state import STATE_FORMAT
from app.rails.canonical_json import canonical_dumps, canonical_loads
from app.rails.errors import ContractError

SEC = 1_000_000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR
T = 1_709_294_400_000_000  # 2024-03-01T12:00:00Z, the usual trigger time


def make_txn(ts_us: int = T, **overrides: Any) -> Txn:
    """A card-not-present txn of card-1 at merch-1; override one field per test."""
    fields: dict[str, Any] = {
        "ts_us": ts_us,
        "amount_minor": 1_000,
        "card_id": "card-1",
        "account_id": "acct-1",
        "customer_id": "cust-1",
        "device_id": "dev-1",
        "ip_id": "ip-1",
        "merchant_id": "merch-1",
    }
    fields.update(overrides)
    return Txn(**fields)


@pytest.fixture(params=[0, 32], ids=["running", "sliced"])
def scan_max(request: pytest.FixtureRequest) -> int:
    """0 gives every non-empty window running state; 32 keeps these small windows sliced."""
    value: int = request.param
    return value


def features_after(history: Sequence[Txn], trigger: Txn, scan_max: int) -> dict[str, Any]:
    """Values for ``trigger`` after applying ``history``, checked against the reference."""
    state = FeatureState(scan_max_events=scan_max)
    for txn in history:
        state.apply(txn)
    values, complete = state.features(trigger)
    assert complete
    assert values == brute_force_features(history, trigger)
    return values


def test_event_at_the_trigger_time_never_counts(scan_max: int) -> None:
    values = features_after([make_txn(T)], make_txn(T), scan_max)
    assert values["card.count_5m"] == values["card.count_7d"] == 0
    assert values["card.time_since_prev_s"] is None


def test_window_start_is_inclusive(scan_max: int) -> None:
    history = [make_txn(T - 5 * MIN), make_txn(T - 5 * MIN - 1)]
    values = features_after(history, make_txn(T), scan_max)
    assert values["card.count_5m"] == 1
    assert values["card.count_1h"] == 2


def test_aggregates_per_window(scan_max: int) -> None:
    history = [
        make_txn(T - 6 * DAY, amount_minor=9_000),
        make_txn(T - 3 * HOUR, amount_minor=500),
        make_txn(T - 30 * MIN, amount_minor=700),
        make_txn(T - 1 * MIN, amount_minor=200),
        make_txn(T - 8 * DAY, amount_minor=50_000),  # outside every window
    ]
    values = features_after(history, make_txn(T), scan_max)
    expected = {
        "5m": (1, 200, 200),
        "1h": (2, 900, 700),
        "24h": (3, 1_400, 700),
        "7d": (4, 10_400, 9_000),
    }
    for window, (count, total, top) in expected.items():
        assert values[f"card.count_{window}"] == count
        assert values[f"card.amount_sum_{window}"] == total
        assert values[f"card.amount_max_{window}"] == top


def test_distinct_counts_per_entity_kind(scan_max: int) -> None:
    history = [
        make_txn(T - 10 * MIN, card_id="card-1", merchant_id="m1", device_id="d1"),
        make_txn(T - 9 * MIN, card_id="card-2", merchant_id="m1", device_id="d2"),
        make_txn(T - 2 * MIN, card_id="card-1", merchant_id="m2", device_id="d1"),
        make_txn(T - 1 * MIN, card_id="card-1", merchant_id="m2", device_id=None, ip_id=None),
    ]
    trigger = make_txn(T, merchant_id="m1", device_id="d1")
    values = features_after(history, trigger, scan_max)
    assert values["card.distinct_merchants_1h"] == 2
    assert values["card.distinct_devices_1h"] == 1
    assert values["card.distinct_merchants_5m"] == 1
    assert values["account.distinct_cards_1h"] == 2
    assert values["account.distinct_devices_1h"] == 2
    assert values["device.distinct_cards_1h"] == 1
    assert values["device.distinct_merchants_1h"] == 2
    assert values["ip.count_1h"] == 3
    assert values["merchant.distinct_cards_1h"] == 2
    assert values["merchant.distinct_cards_5m"] == 0


def test_missing_device_is_not_counted_as_a_device(scan_max: int) -> None:
    history = [make_txn(T - MIN * i, device_id=None, ip_id=None) for i in range(1, 4)]
    values = features_after(history, make_txn(T), scan_max)
    assert values["card.count_5m"] == 3
    assert values["card.distinct_devices_5m"] == 0
    assert values["customer.distinct_devices_7d"] == 0


def test_trigger_without_device_or_ip_gives_none_for_those_kinds(scan_max: int) -> None:
    history = [make_txn(T - MIN)]
    values = features_after(history, make_txn(T, device_id=None, ip_id=None), scan_max)
    for name, value in values.items():
        if name.startswith(("device.", "ip.")):
            assert value is None, name
        elif name.startswith("card.count"):
            assert value == 1


def test_key_set_depends_on_nothing_but_the_feature_set(scan_max: int) -> None:
    state = FeatureState(scan_max_events=scan_max)
    triggers = [
        make_txn(T),
        make_txn(T + 1, device_id=None, ip_id=None),
        make_txn(T + 2, card_id="never-seen", merchant_id="never-seen"),
    ]
    for trigger in triggers:
        values, _ = state.features(trigger)
        assert sorted(values) == list(FEATURE_NAMES)
        state.apply(trigger)


def test_unknown_entity_gives_zeros_and_no_ratios(scan_max: int) -> None:
    values = features_after([make_txn(T - MIN)], make_txn(T, card_id="new-card"), scan_max)
    assert values["card.count_7d"] == values["card.amount_max_7d"] == 0
    assert values["card.time_since_prev_s"] is None
    assert values["card.amount_to_mean_7d"] is None
    assert values["card.amount_zscore_7d"] is None
    assert values["account.count_5m"] == 1


@pytest.mark.parametrize(
    ("age_us", "expected"),
    [(90 * SEC, 90.0), (1, 0.000001), (7 * DAY, 604_800.0), (7 * DAY + 1, None)],
)
def test_time_since_prev_looks_back_seven_days(
    scan_max: int, age_us: int, expected: float | None
) -> None:
    values = features_after([make_txn(T - age_us)], make_txn(T), scan_max)
    assert values["card.time_since_prev_s"] == expected
    assert values["merchant.time_since_prev_s"] == expected


def test_time_since_prev_uses_the_latest_earlier_event(scan_max: int) -> None:
    history = [make_txn(T - HOUR), make_txn(T - 2 * SEC), make_txn(T), make_txn(T + SEC)]
    values = features_after(history, make_txn(T), scan_max)
    assert values["card.time_since_prev_s"] == 2.0


def test_ratio_and_zscore_against_the_card_week(scan_max: int) -> None:
    history = [make_txn(T - DAY * i, amount_minor=a) for i, a in enumerate((100, 200, 300), 1)]
    values = features_after(history, make_txn(T, amount_minor=500), scan_max)
    assert values["card.amount_to_mean_7d"] == 2.5
    # mean 200, population std sqrt(20000/3): z = 300 / 81.6496... = 3.674235
    assert values["card.amount_zscore_7d"] == 3.674235


def test_zscore_is_none_for_one_event_or_no_spread(scan_max: int) -> None:
    one = features_after([make_txn(T - MIN, amount_minor=400)], make_txn(T), scan_max)
    assert one["card.amount_to_mean_7d"] == 2.5
    assert one["card.amount_zscore_7d"] is None
    same = features_after(
        [make_txn(T - MIN * i, amount_minor=400) for i in (1, 2)], make_txn(T), scan_max
    )
    assert same["card.amount_zscore_7d"] is None


def test_max_recovers_after_the_max_leaves_the_window(scan_max: int) -> None:
    state = FeatureState(scan_max_events=scan_max)
    history = [make_txn(T, amount_minor=9_999)] + [
        make_txn(T + MIN * i, amount_minor=100 * i) for i in range(1, 12)
    ]
    applied: list[Txn] = []
    for txn in history:
        values, _ = state.features(txn)
        assert values == brute_force_features(applied, txn)
        state.apply(txn)
        applied.append(txn)
    values, _ = state.features(make_txn(T + 6 * MIN))
    assert values["card.amount_max_5m"] == 500  # the 9 999 left the 5m window
    assert values["card.amount_max_1h"] == 9_999


def test_max_after_eviction(scan_max: int) -> None:
    state = FeatureState(allowed_lateness_us=HOUR, scan_max_events=scan_max)
    state.apply(make_txn(T, amount_minor=9_999))
    state.apply(make_txn(T + 1, amount_minor=10))
    late = T + 7 * DAY + HOUR + 2  # the watermark moves past both of them
    state.apply(make_txn(late, amount_minor=30))
    assert state.retained_txns() == 1
    values, complete = state.features(make_txn(late + 1))
    assert complete
    assert values["card.amount_max_7d"] == 30
    assert values["card.count_7d"] == 1


def test_late_event_counts_in_an_already_materialised_window(scan_max: int) -> None:
    state = FeatureState(scan_max_events=scan_max)
    state.apply(make_txn(T - 10 * MIN, amount_minor=100))
    state.features(make_txn(T))  # materialises the windows as of T
    late = make_txn(T - 2 * MIN, amount_minor=800, merchant_id="m9")
    state.apply(late)
    trigger = make_txn(T + 1)
    values, _ = state.features(trigger)
    assert values == brute_force_features([make_txn(T - 10 * MIN, amount_minor=100), late], trigger)
    assert values["card.amount_max_5m"] == 800
    assert values["card.distinct_merchants_1h"] == 2


def test_triggers_in_any_order_get_the_same_values(scan_max: int) -> None:
    history = [make_txn(T - MIN * i, amount_minor=i, merchant_id=f"m{i % 3}") for i in range(90)]
    triggers = [make_txn(T - MIN * k) for k in (0, 30, 3, 61, 2, 89, 0)]
    state = FeatureState(scan_max_events=scan_max)
    for txn in history:
        state.apply(txn)
    for trigger in triggers:
        values, _ = state.features(trigger)
        assert values == brute_force_features(history, trigger)


def test_results_do_not_depend_on_the_scan_threshold() -> None:
    history = [make_txn(T - SEC * 37 * i, merchant_id=f"m{i % 5}") for i in range(200)]
    results = []
    for scan_max in (0, 1, 7, 32, 10_000):
        state = FeatureState(scan_max_events=scan_max)
        for txn in history:
            state.apply(txn)
        results.append([state.features(make_txn(T - MIN * k))[0] for k in (0, 3, 70, 1)])
    assert all(r == results[0] for r in results)


def test_complete_is_false_only_beyond_allowed_lateness(scan_max: int) -> None:
    state = FeatureState(allowed_lateness_us=HOUR, scan_max_events=scan_max)
    assert state.features(make_txn(T))[1]  # empty state: nothing is missing
    state.apply(make_txn(T))
    assert state.features(make_txn(T - HOUR))[1]
    assert not state.features(make_txn(T - HOUR - 1))[1]


def test_watermark_is_the_max_applied_ts_and_never_decreases() -> None:
    state = FeatureState()
    assert state.watermark_us is None
    state.apply(make_txn(T))
    state.apply(make_txn(T - MIN))
    assert state.watermark_us == T
    state.apply(make_txn(T + MIN))
    assert state.watermark_us == T + MIN


def test_eviction_never_changes_values_within_lateness(scan_max: int) -> None:
    lateness = 2 * HOUR
    history = [make_txn(T + 37 * MIN * i, merchant_id=f"m{i % 4}") for i in range(400)]
    state = FeatureState(allowed_lateness_us=lateness, scan_max_events=scan_max)
    for txn in history:
        state.apply(txn)
    watermark = history[-1].ts_us
    assert state.retained_txns() < len(history)
    for back in (0, MIN, HOUR, lateness):
        trigger = make_txn(watermark - back)
        values, complete = state.features(trigger)
        assert complete
        assert values == brute_force_features(history, trigger)


def test_txn_older_than_the_horizon_is_not_retained() -> None:
    state = FeatureState(allowed_lateness_us=HOUR)
    state.apply(make_txn(T))
    state.apply(make_txn(T - 7 * DAY - HOUR - 1))
    assert state.retained_txns() == 1
    state.apply(make_txn(T - 7 * DAY - HOUR))  # exactly at the horizon: kept
    assert state.retained_txns() == 2
    assert state.evict() == 0  # apply keeps the state evicted


def test_state_dump_round_trips_through_canonical_json(scan_max: int) -> None:
    history = [
        make_txn(T + 41 * MIN * i, card_id=f"c{i % 3}", device_id=None if i % 4 else "d")
        for i in range(300)
    ]
    state = FeatureState(allowed_lateness_us=HOUR, scan_max_events=scan_max)
    for txn in history:
        state.apply(txn)
    dump = state.to_state()
    assert dump["format"] == STATE_FORMAT
    loaded = FeatureState.from_state(canonical_loads(canonical_dumps(dump)))
    assert loaded.to_state() == dump
    assert loaded.watermark_us == state.watermark_us
    assert loaded.retained_txns() == state.retained_txns()
    for back in (0, 5 * MIN, HOUR):
        trigger = dataclasses.replace(history[-1], ts_us=history[-1].ts_us - back)
        assert loaded.features(trigger) == state.features(trigger)


def test_incomplete_triggers_depend_only_on_the_retained_txns(scan_max: int) -> None:
    # Beyond the lateness values are best effort, but still a function of the retained data:
    # a state rebuilt from its dump (no evicted leftovers, no caches) gives the same values.
    history = [make_txn(T + 29 * MIN * i, card_id=f"c{i % 2}") for i in range(900)]
    state = FeatureState(allowed_lateness_us=HOUR, scan_max_events=scan_max)
    for i, txn in enumerate(history):
        if i % 50 == 0:
            state.features(txn)
        state.apply(txn)
    loaded = FeatureState.from_state(state.to_state(), scan_max_events=scan_max)
    watermark = history[-1].ts_us
    for back in (2 * HOUR, DAY, 6 * DAY, 7 * DAY + HOUR, 8 * DAY):
        trigger = make_txn(watermark - back)
        values, complete = state.features(trigger)
        assert not complete
        assert values == loaded.features(trigger)[0]


def test_from_state_rejects_another_format() -> None:
    with pytest.raises(ContractError, match="format"):
        FeatureState.from_state({"format": "ofp.feature_state.v0", "txns": []})
    with pytest.raises(ContractError, match="malformed"):
        FeatureState.from_state({"format": STATE_FORMAT, "feature_registry": REGISTRY.digest,
                                 "txns": [[1, 2]]})


def test_from_state_refuses_a_dump_of_another_registry() -> None:
    # Txns of types that fed nothing were never kept: a dump does not carry over.
    dump = FeatureState().to_state()
    other = REGISTRY.without("card.count_5m")
    with pytest.raises(ContractError, match="another feature registry"):
        FeatureState.from_state(dump, registry=other)


def test_negative_lateness_is_refused() -> None:
    with pytest.raises(ContractError):
        FeatureState(allowed_lateness_us=-1)
