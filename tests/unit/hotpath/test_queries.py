"""Read-only graph and feature queries over a worker's shards."""

from __future__ import annotations

import pytest

from app.hotpath.queries import QueryError, feature_query, graph_query
from tests.unit.hotpath.test_engine import RUN, engine, raw, step


def test_graph_query_merges_neighbours_and_refuses_bad_input() -> None:
    hot = engine()
    for i in range(5):
        step(hot, raw(i * 97), i)  # card 0 five times, across merchants
    body = graph_query(hot, {"run_id": RUN}, "card", "card_00000000")
    assert {n["kind"] for n in body["neighbours"]} >= {"merchant", "account", "device"}
    for params, kind, status in (({}, "card", 400), ({"run_id": "NOTHEX"}, "card", 400),
                                 ({"run_id": RUN}, "planet", 400),
                                 ({"run_id": "0" * 32}, "card", 404)):
        with pytest.raises(QueryError) as err:
            graph_query(hot, params, kind, "card_00000000")
        assert err.value.status == status
    with pytest.raises(QueryError) as err:
        graph_query(hot, {"run_id": RUN}, "card", "card_unknown")
    assert err.value.status == 404


def test_feature_query_answers_as_of_without_changing_state() -> None:
    hot = engine()
    for i in range(3):
        step(hot, raw(i * 97), i)
    card = "card_00000000"
    params = {"run_id": RUN, "card_id": card, "account_id": "acct_00000000",
              "customer_id": "cust_00000000", "merchant_id": "merch_00000000",
              "as_of": "2030-01-01T00:00:00.000000Z", "amount_minor": "500"}
    first = feature_query(hot, params)
    assert first == feature_query(hot, params)  # pure: nothing was applied
    assert first["values"]["card.count_7d"] == 0           # years later: outside every window
    with pytest.raises(QueryError) as err:
        feature_query(hot, {**params, "amount_minor": "lots"})
    assert err.value.status == 400
    with pytest.raises(QueryError):
        feature_query(hot, {k: v for k, v in params.items() if k != "card_id"})
