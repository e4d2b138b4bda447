"""``/v1/features`` and ``/v1/graph`` refuse bad parameters with 400 QUERY_INVALID (issue #11)."""

from __future__ import annotations

import pytest

from app.hotpath.queries import QueryError, feature_query, graph_query
from tests.unit.hotpath.test_engine import RUN, engine, raw, step

CARD = "card_00000000"
PARAMS = {"run_id": RUN, "card_id": CARD, "account_id": "acct_00000000",
          "customer_id": "cust_00000000", "merchant_id": "merch_00000000",
          "as_of": "2030-01-01T00:00:00.000000Z", "amount_minor": "500"}


@pytest.mark.parametrize("change", [
    {"amount_minor": "-5"}, {"amount_minor": "5.0"}, {"amount_minor": "1e3"},
    {"amount_minor": "99999999999999999999"}, {"amount_minor": " 5"}, {"amount_minor": ""},
    {"as_of": "2030-01-01"}, {"as_of": "2030-02-30T00:00:00.000000Z"}, {"as_of": "now"},
    {"run_id": "X" * 32}, {"card_id": "card\n1"}, {"merchant_id": "m" * 300},
    {"device_id": "\x00"}, {"amonut_minor": "5"}, {"card_id": ""},
])
def test_issue_11_a_bad_feature_parameter_is_a_400_naming_it(change: dict[str, str]) -> None:
    hot = engine()
    step(hot, raw(0), 0)
    with pytest.raises(QueryError) as err:
        feature_query(hot, {**PARAMS, **change})
    assert (err.value.status, err.value.code) == (400, "QUERY_INVALID")
    assert err.value.body() == {"error": "QUERY_INVALID", "detail": str(err.value)}


def test_zero_is_a_valid_amount_and_an_unknown_graph_parameter_is_refused() -> None:
    hot = engine()
    step(hot, raw(0), 0)
    assert feature_query(hot, {**PARAMS, "amount_minor": "0"})["values"]
    with pytest.raises(QueryError) as err:
        graph_query(hot, {"run_id": RUN, "depth": "9"}, "card", CARD)
    assert (err.value.status, err.value.code) == (400, "QUERY_INVALID")
    with pytest.raises(QueryError) as err:
        graph_query(hot, {"run_id": "0" * 32}, "card", CARD)
    assert (err.value.status, err.value.code) == (404, "NOT_FOUND")
