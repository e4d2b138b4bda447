"""Edge as-of arithmetic: the band of recent occurrence times and the anchor below it."""

from __future__ import annotations

from app.ieg.edge import Edge

TOL = 10


def edge_of(*ts: int, tolerance_us: int = TOL) -> Edge:
    e = Edge(ts[0])
    for t in ts[1:]:
        e.add(t, tolerance_us)
    return e


def test_in_order_far_apart_keeps_only_last_and_anchor() -> None:
    e = edge_of(0, 100, 200)
    assert (e.first_us, e.last_us, e.count, e.anchor_us, e.mid) == (0, 200, 3, 100, None)
    assert e.latest_before(200) == 100 and e.count_before(200) == 2
    assert e.exact_before(101) and not e.exact_before(100)


def test_occurrences_inside_the_band_are_kept_with_counts() -> None:
    e = edge_of(0, 195, 195, 198, 200)
    assert e.mid == [(195, 2), (198, 1)] and e.anchor_us == 0
    assert [e.latest_before(t) for t in (191, 196, 199, 200, 201)] == [0, 195, 198, 198, 200]
    assert [e.count_before(t) for t in (0, 191, 196, 199, 200, 201)] == [0, 1, 3, 4, 4, 5]


def test_band_slides_and_moves_the_newest_dropped_time_to_the_anchor() -> None:
    e = edge_of(0, 195, 198, 200, 207)
    assert e.mid == [(198, 1), (200, 1)] and e.anchor_us == 195


def test_several_times_leaving_the_band_at_once_anchor_at_the_newest() -> None:
    e = edge_of(0, 1, 5, 12)
    assert e.mid == [(5, 1)] and e.anchor_us == 1
    assert e.latest_before(3) == 1 and e.exact_before(3)


def test_out_of_order_occurrences_land_where_in_order_ones_would() -> None:
    assert edge_of(200, 195, 0, 198, 195).to_state() == edge_of(0, 195, 195, 198, 200).to_state()
    assert edge_of(50, 10, 30, tolerance_us=0).to_state() == edge_of(10, 30, 50).to_state()


def test_before_first_is_invisible_even_when_inexact() -> None:
    e = edge_of(5, 100, 200, tolerance_us=0)
    assert e.latest_before(5) is None and e.count_before(5) == 0 and e.exact_before(5)
    assert e.latest_before(50) == 5  # best-effort: the only occurrence known to precede 50


def test_state_round_trip() -> None:
    e = edge_of(0, 195, 195, 198, 200)
    assert Edge.from_state(e.to_state()).to_state() == e.to_state()
