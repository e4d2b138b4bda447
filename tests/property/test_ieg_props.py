"""IEG invariants, each a named predicate, checked against a brute-force recomputation.

- exact_matches_brute_force: as of any T >= watermark - tolerance, degree, neighbours and link
  features equal a recomputation over the raw observations (only ts < T counts);
- visibility_is_always_exact: even best-effort answers list exactly the neighbours seen before T;
- later_observations_change_nothing: observations with ts >= T leave answers as of T alone;
- eviction_keeps_recent_answers: evict(h) keeps exact answers whose windows fit in h;
- apply_order_is_irrelevant: any interleaving of the same observations gives the same state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.ieg import EDGE_KIND_PAIRS, ENTITY_KINDS, LINK_FEATURE_NAMES, EntityGraph, Observation

SETTINGS = settings(max_examples=120, deadline=None)

T0 = 1_700_000_000_000_000
MIN = 60_000_000
HOUR = 60 * MIN
DAY = 24 * HOUR
_PAIRS = set(EDGE_KIND_PAIRS) | {(b, a) for a, b in EDGE_KIND_PAIRS}

Entities = Mapping[str, str | None]
Stream = list[Observation]

entities = st.fixed_dictionaries(
    {
        kind: st.sampled_from([None, f"{kind[0]}0", f"{kind[0]}1", f"{kind[0]}2"])
        for kind in ENTITY_KINDS
    }
)
steps = st.sampled_from([0, 0, 1, 5, MIN, 59 * MIN, HOUR, 3 * HOUR, 23 * HOUR, DAY, 3 * DAY])
tolerances = st.sampled_from([0, 1, 10 * MIN, 2 * HOUR])
retentions = st.sampled_from([2 * HOUR, DAY + HOUR, 30 * DAY])
windows = st.sampled_from([None, 0, 1, MIN, HOUR, DAY])


@st.composite
def streams(draw: st.DrawFn, max_size: int = 30) -> Stream:
    """Non-decreasing event times, entities from small pools so edges repeat."""
    ts, out = T0, []
    for step, ents in draw(st.lists(st.tuples(steps, entities), min_size=1, max_size=max_size)):
        ts += step
        out.append(Observation(ts, ents))
    return out


# -- brute force ------------------------------------------------------------------------------


def occurrences(
    stream: Sequence[Observation], kind: str, eid: str, nkind: str
) -> dict[str, list[int]]:
    occ: dict[str, list[int]] = {}
    if (kind, nkind) not in _PAIRS:
        return occ
    for o in stream:
        other = o.entities.get(nkind)
        if o.entities.get(kind) == eid and other:
            occ.setdefault(other, []).append(o.ts_us)
    return occ


def brute_degree(
    stream: Stream, kind: str, eid: str, nkind: str, as_of: int, window: int | None
) -> int:
    lo = -(2**63) if window is None else as_of - window
    occ = occurrences(stream, kind, eid, nkind)
    return sum(any(lo <= t < as_of for t in ts) for ts in occ.values())


def brute_neighbours(stream: Stream, kind: str, eid: str, as_of: int) -> list[dict[str, Any]]:
    out = []
    for nkind in sorted(ENTITY_KINDS):
        for nid, ts in sorted(occurrences(stream, kind, eid, nkind).items()):
            before = [t for t in ts if t < as_of]
            if before:
                out.append(
                    {"kind": nkind, "id": nid, "first_seen_us": min(before),
                     "last_seen_us": max(before), "count": len(before)}
                )  # fmt: skip
    return out


def brute_features(stream: Stream, ents: Entities, as_of: int, retention: int) -> dict[str, Any]:
    since = as_of - retention

    def seen(kind: str, nkind: str) -> bool | None:
        a, b = ents.get(kind), ents.get(nkind)
        if not a or not b:
            return None
        return any(since <= t < as_of for t in occurrences(stream, kind, a, nkind).get(b, []))

    def distinct(kind: str, nkind: str, lo: int) -> int | None:
        eid = ents.get(kind)
        if not eid:
            return None
        occ = occurrences(stream, kind, eid, nkind)
        return sum(any(lo <= t < as_of for t in ts) for ts in occ.values())

    def new(kind: str, nkind: str) -> bool | None:
        s = seen(kind, nkind)
        return None if s is None else not s

    return {
        "graph.device_new_for_account": new("account", "device"),
        "graph.ip_new_for_account": new("account", "ip"),
        "graph.device_new_for_card": new("card", "device"),
        "graph.ip_new_for_card": new("card", "ip"),
        "graph.device_distinct_cards_24h": distinct("device", "card", as_of - DAY),
        "graph.device_distinct_cards_total": distinct("device", "card", since),
        "graph.device_distinct_customers_total": distinct("device", "customer", since),
        "graph.ip_distinct_cards_1h": distinct("ip", "card", as_of - HOUR),
        "graph.ip_distinct_cards_24h": distinct("ip", "card", as_of - DAY),
        "graph.ip_distinct_customers_total": distinct("ip", "customer", since),
        "graph.card_distinct_devices_total": distinct("card", "device", since),
        "graph.account_distinct_devices_total": distinct("account", "device", since),
        "graph.merchant_card_first_seen": new("card", "merchant"),
    }


# -- helpers ----------------------------------------------------------------------------------


def build(stream: Stream, tolerance: int, retention: int) -> EntityGraph:
    g = EntityGraph(tolerance_us=tolerance, retention_us=retention)
    for o in stream:
        g.apply(o)
    return g


def all_entities() -> list[tuple[str, str]]:
    return [(kind, f"{kind[0]}{i}") for kind in ENTITY_KINDS for i in range(3)]


def answers(g: EntityGraph, probes: Sequence[Entities], as_of: int, window: int | None) -> Any:
    """Every query the graph serves, as of one time, over every entity of the pools."""
    degrees = [
        g.degree(kind, eid, nkind, as_of_us=as_of, window_us=window)
        for kind, eid in all_entities()
        for nkind in ENTITY_KINDS
    ]
    nbrs = [g.neighbours(kind, eid, as_of_us=as_of) for kind, eid in all_entities()]
    feats = [g.link_features(p, as_of) for p in probes]
    return degrees, nbrs, feats


def brute_answers(
    stream: Stream, probes: Sequence[Entities], as_of: int, window: int | None, retention: int
) -> Any:
    degrees = [
        brute_degree(stream, kind, eid, nkind, as_of, window)
        for kind, eid in all_entities()
        for nkind in ENTITY_KINDS
    ]
    nbrs = [brute_neighbours(stream, kind, eid, as_of) for kind, eid in all_entities()]
    feats = [brute_features(stream, p, as_of, retention) for p in probes]
    return degrees, nbrs, feats


# -- properties -------------------------------------------------------------------------------


@SETTINGS
@given(
    streams(),
    tolerances,
    retentions,
    windows,
    st.integers(0, 2 * HOUR),
    st.lists(entities, max_size=3),
    st.none() | st.integers(0, 40),
)
def test_exact_matches_brute_force(
    stream: Stream,
    tol: int,
    retention: int,
    window: int | None,
    lag: int,
    extra: list[Entities],
    align: int | None,
) -> None:
    g = build(stream, tol, retention)
    assert g.watermark_us == max(o.ts_us for o in stream)
    as_of = g.watermark_us - min(lag, tol) + (lag % 3 == 0)  # inside the exact region
    assert g.is_exact(as_of)
    if align is not None and stream[align % len(stream)].ts_us <= as_of:
        window = as_of - stream[align % len(stream)].ts_us  # window edge on an occurrence
    probes = [o.entities for o in stream[-3:]] + extra
    assert answers(g, probes, as_of, window) == brute_answers(
        stream, probes, as_of, window, retention
    )
    for feats in answers(g, probes, as_of, window)[2]:
        assert tuple(sorted(feats)) == LINK_FEATURE_NAMES


@SETTINGS
@given(streams(), tolerances, st.integers(0, 5 * DAY))
def test_visibility_is_always_exact(stream: Stream, tol: int, back: int) -> None:
    g = build(stream, tol, 30 * DAY)
    as_of = g.watermark_us - back  # often far outside the exact region
    for kind, eid in all_entities():
        got = [
            (r["kind"], r["id"], r["first_seen_us"])
            for r in g.neighbours(kind, eid, as_of_us=as_of)
        ]
        want = [
            (r["kind"], r["id"], r["first_seen_us"])
            for r in brute_neighbours(stream, kind, eid, as_of)
        ]
        assert got == want


@SETTINGS
@given(
    streams(),
    tolerances,
    retentions,
    windows,
    st.integers(0, 2 * HOUR),
    st.lists(st.tuples(st.integers(0, 2 * HOUR), entities), max_size=8),
)
def test_later_observations_change_nothing(
    stream: Stream,
    tol: int,
    retention: int,
    window: int | None,
    lead: int,
    later: list[tuple[int, Entities]],
) -> None:
    g = build(stream, tol, retention)
    as_of = g.watermark_us - min(lead, tol)
    probes = [o.entities for o in stream[-3:]]
    before = answers(g, probes, as_of, window)
    # Later observations stay within the tolerance, so `as_of` remains in the exact region.
    for offset, ents in sorted(later, key=lambda x: x[0]):
        g.apply(Observation(as_of + min(offset, tol), ents))
    assert g.is_exact(as_of)
    assert answers(g, probes, as_of, window) == before


@SETTINGS
@given(streams(max_size=40), tolerances, retentions, st.sampled_from([HOUR, DAY, 2 * DAY]))
def test_eviction_keeps_recent_answers(
    stream: Stream, tol: int, retention: int, horizon: int
) -> None:
    g = build(stream, tol, retention)
    probes = [o.entities for o in stream[-4:]]
    queries = [
        (g.watermark_us - d, w) for d in (0, tol) for w in (0, MIN, HOUR, DAY) if w <= horizon
    ]
    degree_before = [answers(g, probes, t, w)[0] for t, w in queries]
    feats_before = [g.link_features(p, t) for p in probes for t, _ in queries]
    edges_before = g.stats()["edges"]
    dropped = g.evict(horizon)
    assert g.stats()["edges"] == edges_before - dropped
    assert [answers(g, probes, t, w)[0] for t, w in queries] == degree_before
    if horizon >= max(retention, DAY):
        assert [g.link_features(p, t) for p in probes for t, _ in queries] == feats_before
    cutoff = g.watermark_us - tol - horizon
    linked = dict.fromkeys(ENTITY_KINDS, 0)
    for kind, eid in all_entities():
        rows = g.neighbours(kind, eid)
        assert all(r["last_seen_us"] >= cutoff for r in rows)
        linked[kind] += bool(rows)
    assert g.stats()["nodes"] == linked  # no node outlives its last edge


@SETTINGS
@given(streams(), tolerances, st.randoms(use_true_random=False))
def test_apply_order_is_irrelevant(stream: Stream, tol: int, rnd: Any) -> None:
    shuffled = list(stream)
    rnd.shuffle(shuffled)
    assert build(shuffled, tol, DAY).to_state() == build(stream, tol, DAY).to_state()
