"""The shard clock's rules on hand-made sequences (issue #11 item 1); properties in
tests/property/test_event_clock_props.py."""

from __future__ import annotations

import pytest

from app.hotpath.event_clock import EventClock

MIN = 60_000_000
B = 15 * MIN
T0 = 1_741_000_000_000_000
FAR = 253_402_300_799_999_999  # 9999-12-31T23:59:59.999999Z
PAST = -62_135_596_800_000_000  # 0001-01-01T00:00:00Z


def run(times: list[int]) -> tuple[EventClock, list[int | None], list[int]]:
    clock = EventClock(B)
    marks, held = [], []
    for ts in times:
        held.append(clock.observe(ts))
        marks.append(clock.watermark_us)
    return clock, marks, held


def test_dense_in_order_traffic_is_followed_exactly() -> None:
    times = [T0 + i * MIN for i in range(10)]
    clock, marks, _ = run(times)
    # it starts at the earlier of the first two, then is the max
    assert marks[:2] == [None, times[0]] and marks[2:] == times[2:] and clock.held == 0


def test_a_lone_event_far_ahead_moves_the_clock_by_the_bound_and_is_counted() -> None:
    clock, marks, held = run([T0, T0 + MIN, FAR, T0 + 2 * MIN, T0 + 3 * MIN, T0 + 20 * MIN])
    assert marks[2] == T0 + B  # the bound, not year 9999
    assert marks[3] == marks[4] == T0 + B and marks[5] == T0 + 20 * MIN
    assert held == [0, 0, 0, 0, 1, 0] and clock.held == 1  # judged two events later
    assert clock.held_max_us == FAR - (T0 + B)


def test_a_lone_event_far_behind_does_not_move_the_clock() -> None:
    clock, marks, _ = run([T0, T0 + MIN, PAST, T0 + 2 * MIN])
    assert marks[2] == T0 and marks[3] == T0 + 2 * MIN and clock.held == 0


def test_a_gap_confirmed_by_the_next_event_is_followed_and_not_counted() -> None:
    gap = T0 + 40 * 24 * 60 * MIN  # the sparse tail of follow-ups: weeks later
    clock, marks, _ = run([T0, T0 + MIN, gap, gap + MIN, gap + 2 * MIN])
    assert marks[2] == T0 + B  # one event alone moves it only by the bound
    assert marks[3] == gap and marks[4] == gap + 2 * MIN and clock.held == 0


@pytest.mark.parametrize("first", [FAR, PAST])
def test_a_single_first_event_never_sets_the_clock(first: int) -> None:
    clock, marks, _ = run([first, T0, T0 + MIN, T0 + 2 * MIN])
    assert marks[0] is None and marks[3] == T0 + 2 * MIN
    assert clock.held == (1 if first == FAR else 0)


def test_two_events_far_ahead_in_a_row_move_it_which_is_igs_to_prevent() -> None:
    _, marks, _ = run([T0, T0 + MIN, FAR, FAR, T0 + 2 * MIN])
    assert marks[3] == FAR


def test_the_same_sequence_gives_the_same_clock() -> None:
    times = [T0, FAR, T0 + MIN, PAST, T0 + 3 * MIN, T0 + 90 * MIN, T0 + 91 * MIN]
    a, b = run(times), run(times)
    assert a[1:] == b[1:] and (a[0].held, a[0].held_max_us) == (b[0].held, b[0].held_max_us)


@pytest.mark.parametrize("bound", [0, -1, 1.5])
def test_a_bound_that_is_not_a_positive_int_is_refused(bound: object) -> None:
    with pytest.raises(ValueError, match="max_advance_us"):
        EventClock(bound)  # type: ignore[arg-type]
