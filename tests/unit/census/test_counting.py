"""Census counting is exact under redelivery (pure logic, no broker)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.census.counting import CensusCount, apply_record, merge_counts
from app.tables.census import census_key, parse_census_key


def test_first_record_starts_the_count() -> None:
    state = apply_record(None, 5, "2024-03-01T12:00:00.000000Z")
    assert state == CensusCount(count=1, last_offset=5, first_ts_utc="2024-03-01T12:00:00.000000Z",
                                last_ts_utc="2024-03-01T12:00:00.000000Z")


def test_redelivered_offset_is_a_no_op() -> None:
    state = apply_record(apply_record(None, 5), 6)
    assert state is not None
    assert apply_record(state, 6) is None
    assert apply_record(state, 2) is None


def test_census_key_round_trips() -> None:
    assert parse_census_key(census_key(3, "ab" * 16, "auth_request")) == (3, "ab" * 16,
                                                                          "auth_request")


def test_merge_sums_partitions_per_run_and_type() -> None:
    items = [((0, "r1", "a"), {"count": 2}), ((1, "r1", "a"), CensusCount(count=3, last_offset=9)),
             ((1, "r2", "b"), {"count": 1})]
    assert merge_counts(items) == {"r1": {"a": 5}, "r2": {"b": 1}}


def count_equals_distinct_offsets(deliveries: list[int]) -> bool:
    """Replaying any prefix again (at-least-once) never changes the total."""
    state: CensusCount | None = None
    for offset in deliveries:
        state = apply_record(state, offset) or state
    return (state.count if state else 0) == len(set(deliveries))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60), st.lists(st.tuples(st.integers(0, 60), st.integers(0, 10)), max_size=5))
def test_count_is_exact_under_redelivery(n: int, crashes: list[tuple[int, int]]) -> None:
    """Each crash happens at ``processed`` with the commit ``lag`` offsets behind it."""
    deliveries: list[int] = []
    committed = 0
    for processed, lag in crashes:
        processed = min(max(processed, committed), n)
        deliveries.extend(range(committed, processed))
        committed = max(committed, processed - lag)  # restart resumes from the last commit
    deliveries.extend(range(committed, n))
    assert count_equals_distinct_offsets(deliveries)
    assert len(deliveries) >= n
