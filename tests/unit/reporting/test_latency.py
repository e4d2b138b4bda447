"""Percentiles, latencies from bus timestamps and throughput: numbers checkable by hand."""

from __future__ import annotations

import pytest

from app.reporting.latency import (
    LatencyStats,
    decision_latencies_ms,
    outcome_latencies_ms,
    percentile,
    throughput_per_s,
)
from tests.unit.reporting.conftest import bus, decision, outcomes_of


def test_percentile_is_nearest_rank_so_every_value_was_observed() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert (percentile(values, 0.5), percentile(values, 0.99), percentile(values, 1.0)) == \
        (50.0, 99.0, 100.0)
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([30.0, 10.0, 20.0], 0.5) == 20.0  # order of input does not matter


@pytest.mark.parametrize("values,q", [([], 0.5), ([1.0], 0.0), ([1.0], 1.5)])
def test_percentile_refuses_no_values_or_a_rank_outside_0_1(values: list[float],
                                                            q: float) -> None:
    with pytest.raises(ValueError):
        percentile(values, q)


def test_latency_stats_of_nothing_is_none() -> None:
    assert LatencyStats.of([]) is None
    assert LatencyStats.of([5.0, 1.0, 3.0]) == LatencyStats(3, 3.0, 5.0, 5.0)


def test_decision_latency_is_rtdl_timestamp_minus_the_triggers_traffic_timestamp() -> None:
    d1, d2 = decision("f1", offset=4), decision("f2", partition=1, offset=9)
    orphan = decision("f3", offset=99)  # its trigger's admission time is unknown
    admitted = {(0, 4): 1_000, (1, 9): 1_500}
    latencies, unknown = decision_latencies_ms(
        [bus(d1, 1_040), bus(d2, 1_620), bus(orphan, 2_000)], admitted)
    assert (latencies, unknown) == ([40.0, 120.0], 1)


def test_outcome_latency_reaches_the_trigger_through_its_decision() -> None:
    d = decision("f1", "REVIEW", offset=2)
    hold, case = outcomes_of(d)
    stray = outcomes_of(decision("f9"))[0]  # its decision is not known
    latencies, unknown = outcome_latencies_ms(
        [bus(hold, 1_300), bus(case, 1_450), bus(stray, 1_500)],
        {d["decision_id"]: bus(d, 1_100)}, {(0, 2): 1_000})
    assert (latencies, unknown) == ([300.0, 450.0], 1)


def test_throughput_divides_decisions_by_first_admission_to_last_decision() -> None:
    assert throughput_per_s(500, 10_000, 12_500) == (200.0, 2.5)
    assert throughput_per_s(0, 10_000, None) == (None, None)
    assert throughput_per_s(3, 10_000, 10_000) == (None, 0.0)  # no positive span
