"""EntityGraph writes and queries: edges and counts, strict as-of, degree windows, watermark."""

from __future__ import annotations

import orjson
import pytest

from app.ieg import (
    EDGE_KIND_PAIRS,
    ENTITY_KINDS,
    NEIGHBOUR_KINDS,
    EntityGraph,
    GraphQueryError,
    Observation,
)

T0 = 1_700_000_000_000_000
SEC = 1_000_000
HOUR = 3600 * SEC

FULL = {
    "card": "c1",
    "account": "a1",
    "customer": "u1",
    "device": "d1",
    "ip": "i1",
    "merchant": "m1",
}


def obs(ts_us: int, **entities: str | None) -> Observation:
    """A full six-entity observation; keyword overrides change or drop (None) single entities."""
    return Observation(ts_us, {**FULL, **entities})


def ids(rows: list[dict[str, object]]) -> list[tuple[object, object]]:
    return [(r["kind"], r["id"]) for r in rows]


def test_six_entities_make_the_eleven_declared_edges() -> None:
    g = EntityGraph()
    g.apply(obs(T0))
    assert g.stats()["edges"] == len(EDGE_KIND_PAIRS) == 11
    assert g.stats()["nodes"] == dict.fromkeys(ENTITY_KINDS, 1)
    assert ids(g.neighbours("merchant", "m1")) == [("card", "c1")]
    assert ids(g.neighbours("card", "c1")) == [
        ("account", "a1"),
        ("customer", "u1"),
        ("device", "d1"),
        ("ip", "i1"),
        ("merchant", "m1"),
    ]
    for kind in ENTITY_KINDS:
        assert {r["kind"] for r in g.neighbours(kind, FULL[kind])} == NEIGHBOUR_KINDS[kind]


def test_edges_are_undirected_and_count_every_occurrence() -> None:
    g = EntityGraph()
    for ts in (T0, T0, T0 + SEC, T0 + 5 * HOUR):
        g.apply(obs(ts))
    (card,) = g.neighbours("device", "d1", kinds={"card"})
    (device,) = g.neighbours("card", "c1", kinds={"device"})
    expected = {"count": 4, "first_seen_us": T0, "last_seen_us": T0 + 5 * HOUR}
    assert card == {"kind": "card", "id": "c1", **expected}
    assert device == {"kind": "device", "id": "d1", **expected}


def test_absent_or_empty_entities_form_no_edges_and_no_nodes() -> None:
    g = EntityGraph()
    g.apply(obs(T0, device=None, ip=""))
    assert g.stats()["nodes"]["device"] == g.stats()["nodes"]["ip"] == 0
    assert g.stats()["edges"] == 4  # card-account, card-customer, card-merchant, account-customer
    g.apply(Observation(T0, {"merchant": "m1"}))  # a lone entity links nothing
    assert g.stats()["edges"] == 4


def test_an_occurrence_at_exactly_as_of_is_invisible() -> None:
    g = EntityGraph()
    g.apply(obs(T0))
    assert g.neighbours("card", "c1", as_of_us=T0) == []
    assert g.degree("device", "d1", "card", as_of_us=T0) == 0
    assert g.degree("device", "d1", "card", as_of_us=T0 + 1) == 1


def test_as_of_reports_first_last_and_count_of_strictly_earlier_occurrences() -> None:
    g = EntityGraph(tolerance_us=10 * SEC)
    for ts in (T0, T0 + SEC, T0 + SEC, T0 + 3 * SEC, T0 + 3 * SEC, T0 + 3 * SEC):
        g.apply(obs(ts))

    def edge_as_of(as_of: int) -> tuple[int, int, int] | None:
        rows = g.neighbours("card", "c1", as_of_us=as_of, kinds={"merchant"})
        return (
            (rows[0]["first_seen_us"], rows[0]["last_seen_us"], rows[0]["count"]) if rows else None
        )

    assert edge_as_of(T0) is None
    assert edge_as_of(T0 + 1) == (T0, T0, 1)
    assert edge_as_of(T0 + SEC + 1) == (T0, T0 + SEC, 3)
    assert edge_as_of(T0 + 3 * SEC) == (T0, T0 + SEC, 3)
    assert edge_as_of(T0 + 3 * SEC + 1) == (T0, T0 + 3 * SEC, 6)


def test_degree_counts_neighbours_seen_inside_the_window_only() -> None:
    g = EntityGraph()
    g.apply(obs(T0, card="c1"))
    g.apply(obs(T0 + HOUR + 30 * 60 * SEC, card="c2"))
    g.apply(obs(T0 + 2 * HOUR + 30 * 60 * SEC, card="c3"))
    g.apply(obs(T0 + 3 * HOUR, card="c1"))  # c1 comes back, but at the query time itself
    as_of = T0 + 3 * HOUR
    assert g.degree("device", "d1", "card", as_of_us=as_of, window_us=HOUR) == 1  # c3
    assert g.degree("device", "d1", "card", as_of_us=as_of, window_us=2 * HOUR) == 2  # c2, c3
    assert g.degree("device", "d1", "card", as_of_us=as_of, window_us=3 * HOUR) == 3  # inclusive
    assert g.degree("device", "d1", "card", as_of_us=as_of) == 3
    assert g.degree("device", "d1", "card", as_of_us=as_of, window_us=0) == 0
    assert g.degree("device", "d1", "card", as_of_us=as_of + 1, window_us=1) == 1  # c1 at as_of


def test_window_lower_bound_is_inclusive() -> None:
    g = EntityGraph()
    g.apply(obs(T0))
    assert g.degree("ip", "i1", "card", as_of_us=T0 + HOUR, window_us=HOUR) == 1
    assert g.degree("ip", "i1", "card", as_of_us=T0 + HOUR + 1, window_us=HOUR) == 0


def test_degree_of_unknown_entity_or_unlinked_kind_is_zero() -> None:
    g = EntityGraph()
    g.apply(obs(T0))
    assert g.degree("device", "nope", "card", as_of_us=T0 + 1) == 0
    assert g.degree("merchant", "m1", "device", as_of_us=T0 + 1) == 0


def test_neighbours_are_sorted_and_filtered_by_kind() -> None:
    g = EntityGraph()
    for card in ("c3", "c1", "c2"):
        g.apply(obs(T0, card=card))
    assert ids(g.neighbours("device", "d1", kinds={"card", "ip"})) == [
        ("card", "c1"),
        ("card", "c2"),
        ("card", "c3"),
        ("ip", "i1"),
    ]
    assert g.neighbours("device", "d1", kinds={"merchant"}) == []
    assert g.neighbours("device", "unknown") == []


def test_watermark_is_the_max_event_time_and_never_decreases() -> None:
    g = EntityGraph()
    assert g.watermark_us is None
    g.apply(obs(T0 + 10))
    g.apply(obs(T0 + 5))
    assert g.watermark_us == T0 + 10
    g.apply(obs(T0 + 20))
    assert g.watermark_us == T0 + 20


def test_is_exact_within_tolerance_of_the_watermark() -> None:
    g = EntityGraph(tolerance_us=SEC)
    assert g.is_exact(0)
    g.apply(obs(T0))
    assert g.is_exact(T0 - SEC) and not g.is_exact(T0 - SEC - 1)
    basis = g.basis(T0 - SEC - 1)
    assert basis["exact"] is False and basis["watermark_us"] == T0
    assert basis["graph_version"] == g.graph_version()


def test_late_occurrence_within_tolerance_is_answered_exactly() -> None:
    g = EntityGraph(tolerance_us=10 * SEC)
    g.apply(obs(T0 + 5 * SEC, card="c1"))
    g.apply(obs(T0 + 2 * SEC, card="c1"))  # another partition was behind
    g.apply(obs(T0 + 9 * SEC, card="c1"))
    assert g.is_exact(T0 + 3 * SEC)
    (row,) = g.neighbours("card", "c1", as_of_us=T0 + 3 * SEC, kinds={"ip"})
    assert (row["first_seen_us"], row["last_seen_us"], row["count"]) == (T0 + 2 * SEC,) * 2 + (1,)
    assert g.degree("ip", "i1", "card", as_of_us=T0 + 3 * SEC, window_us=SEC) == 1
    assert g.degree("ip", "i1", "card", as_of_us=T0 + 2 * SEC, window_us=HOUR) == 0


def test_best_effort_answer_keeps_visibility_exact() -> None:
    g = EntityGraph(tolerance_us=0)
    for ts in (T0, T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR):
        g.apply(obs(ts))
    as_of = T0 + HOUR + 1  # older than the anchor: only first_seen is known to precede it
    assert not g.is_exact(as_of)
    assert ids(g.neighbours("card", "c1", as_of_us=as_of, kinds={"ip"})) == [("ip", "i1")]
    assert g.neighbours("card", "c1", as_of_us=T0, kinds={"ip"}) == []


def test_unknown_kinds_are_refused() -> None:
    g = EntityGraph()
    with pytest.raises(GraphQueryError) as err:
        Observation(T0, {"phone": "p1"})
    assert err.value.reason_code == "GRAPH_QUERY_INVALID" and err.value.field == "entities"
    with pytest.raises(GraphQueryError):
        g.degree("card", "c1", "phone", as_of_us=T0)
    with pytest.raises(GraphQueryError):
        g.neighbours("phone", "p1")
    with pytest.raises(GraphQueryError):
        g.neighbours("card", "c1", kinds={"phone"})
    with pytest.raises(GraphQueryError):
        g.node("phone", "p1")
    with pytest.raises(GraphQueryError):
        g.degree("card", "c1", "device", as_of_us=T0, window_us=-1)


def test_observation_time_must_be_int_microseconds() -> None:
    with pytest.raises(GraphQueryError) as err:
        Observation(1.5, FULL)  # type: ignore[arg-type]  # the point of the test
    assert err.value.field == "ts_us"


def test_state_round_trips_through_json() -> None:
    g = EntityGraph(tolerance_us=5 * SEC)
    for i, ts in enumerate((T0, T0 + SEC, T0 + 2 * SEC, T0 + HOUR, T0 + 3 * SEC)):
        g.apply(obs(ts, card=f"c{i % 2}", ip=None if i == 3 else "i1"))
    g.note_offset("fp.bus.traffic.v1", 0, 5)
    state = g.to_state()
    back = EntityGraph.from_state(orjson.loads(orjson.dumps(state)))
    assert back.to_state() == state
    assert back.graph_version() == g.graph_version()
    assert back.stats() == g.stats()
    as_of = T0 + 2 * SEC
    assert back.neighbours("ip", "i1", as_of_us=as_of) == g.neighbours("ip", "i1", as_of_us=as_of)


def test_apply_order_does_not_change_state() -> None:
    stream = [obs(T0 + d * SEC, card=f"c{d % 3}") for d in (0, 1, 1, 2, 7, 8, 30, 31)]
    forward, backward = EntityGraph(tolerance_us=5 * SEC), EntityGraph(tolerance_us=5 * SEC)
    for o in stream:
        forward.apply(o)
    for o in reversed(stream):
        backward.apply(o)
    assert forward.to_state() == backward.to_state()


def test_constructor_refuses_bad_horizons() -> None:
    with pytest.raises(GraphQueryError):
        EntityGraph(retention_us=0)
    with pytest.raises(GraphQueryError):
        EntityGraph(tolerance_us=-1)
