"""Eviction bounds the state by event time and leaves answers within the horizon unchanged."""

from __future__ import annotations

import random

import pytest

from app.ieg import ENTITY_KINDS, EntityGraph, GraphQueryError, Observation

T0 = 1_700_000_000_000_000
HOUR = 3600 * 1_000_000
DAY = 24 * HOUR


def stream(days: int) -> list[Observation]:
    """One fresh card per hour on a few shared devices and IPs, for ``days`` days."""
    return [
        Observation(
            T0 + h * HOUR,
            {
                "card": f"c{h}",
                "account": f"a{h}",
                "customer": f"u{h // 24}",
                "device": f"d{h % 5}",
                "ip": f"i{h % 7}",
                "merchant": f"m{h % 3}",
            },
        )
        for h in range(days * 24)
    ]


def test_eviction_bounds_state_by_the_horizon() -> None:
    g = EntityGraph(retention_us=DAY, tolerance_us=0)
    sizes = []
    for day in range(6):
        for o in stream(6)[day * 24 : (day + 1) * 24]:
            g.apply(o)
        g.evict()
        sizes.append(g.stats()["edges"])
    assert sizes[2] == sizes[3] == sizes[4] == sizes[5]
    assert g.stats()["nodes"]["card"] <= 25  # one day of hourly cards (+ the boundary one)


def test_eviction_drops_only_edges_last_seen_before_the_cutoff_and_orphaned_nodes() -> None:
    g = EntityGraph(tolerance_us=0)
    g.apply(Observation(T0, {"card": "old", "merchant": "m1"}))
    g.apply(Observation(T0 + HOUR, {"card": "new", "merchant": "m1"}))
    assert g.evict(HOUR) == 0  # the cutoff is T0, and "old" was seen at T0
    assert g.evict(HOUR - 1) == 1
    assert g.neighbours("merchant", "m1") == [
        {
            "kind": "card",
            "id": "new",
            "first_seen_us": T0 + HOUR,
            "last_seen_us": T0 + HOUR,
            "count": 1,
        }
    ]
    assert g.node("card", "old") == {}
    assert g.stats()["nodes"] == {**dict.fromkeys(ENTITY_KINDS, 0), "card": 1, "merchant": 1}


def test_eviction_keeps_answers_for_queries_within_the_horizon() -> None:
    g = EntityGraph(retention_us=2 * DAY, tolerance_us=HOUR)
    obs = stream(5)
    for o in obs:
        g.apply(o)
    queries = [(o.entities, g.watermark_us - HOUR + d) for o in obs[-30:] for d in (0, HOUR)]
    before = [g.link_features(e, t) for e, t in queries]
    degrees = [
        g.degree("device", f"d{i}", "card", as_of_us=g.watermark_us, window_us=DAY)
        for i in range(5)
    ]
    assert g.evict() > 0
    assert [g.link_features(e, t) for e, t in queries] == before
    assert [
        g.degree("device", f"d{i}", "card", as_of_us=g.watermark_us, window_us=DAY)
        for i in range(5)
    ] == degrees


def test_eviction_is_a_function_of_data_only() -> None:
    a, b = EntityGraph(retention_us=DAY), EntityGraph(retention_us=DAY)
    obs = stream(3)
    for o in obs:
        a.apply(o)
    for o in reversed(obs):
        b.apply(o)
    a.evict()
    b.evict()
    assert a.to_state() == b.to_state()


def test_empty_graph_and_bad_horizon() -> None:
    assert EntityGraph().evict() == 0
    with pytest.raises(GraphQueryError):
        EntityGraph().evict(-1)


def _edges(g: EntityGraph) -> dict[tuple[str, str, str, str], int]:
    """Every edge once, as (kind a, id a, kind b, id b) -> last occurrence."""
    out: dict[tuple[str, str, str, str], int] = {}
    for ka in ENTITY_KINDS:
        for kb in ENTITY_KINDS:
            for a in [f"{ka[0]}{i}" for i in range(6)]:
                for b, edge in g.adjacent(ka, a, kb).items():
                    if (kb, b, ka, a) not in out:
                        out[(ka, a, kb, b)] = edge.last_us
    return out


@pytest.mark.parametrize("seed", range(20))
def test_eviction_that_skips_the_scan_drops_exactly_what_the_cutoff_says(seed: int) -> None:
    """Issue #13: an eviction whose cutoff has not reached the oldest last occurrence skips the
    O(edges) scan. Late events (an edge born below that floor) and repeated evictions included,
    every eviction still drops exactly the edges last seen before its cutoff, also after a
    restore from :meth:`EntityGraph.to_state`."""
    rng = random.Random(seed)
    g = EntityGraph(retention_us=DAY, tolerance_us=0, external_clock=True)
    now = T0
    for _ in range(30):
        for _ in range(rng.randrange(1, 15)):
            ts = now - rng.randrange(0, 3 * DAY) if rng.random() < 0.2 else now
            g.apply(Observation(ts, {kind: f"{kind[0]}{rng.randrange(6)}"
                                     for kind in rng.sample(list(ENTITY_KINDS), 3)}))
            now += rng.randrange(0, 6 * HOUR)
        g.advance_to(now)
        if rng.random() < 0.2:  # a restore from a snapshot must keep the floor's promise
            g = EntityGraph.from_state(g.to_state())
            g.advance_to(now)
        horizon = rng.choice([None, DAY // 2, 2 * DAY])
        before = _edges(g)
        cutoff = now - (DAY if horizon is None else horizon)
        dropped = g.evict(horizon)
        after = _edges(g)
        assert after == {k: last for k, last in before.items() if last >= cutoff}
        assert dropped == len(before) - len(after)
        assert g.stats()["edges"] == len(after)
