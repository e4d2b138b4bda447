"""graph.* link features: a constant key set, None for absent entities, strict as-of values."""

from __future__ import annotations

import pytest

from app.ieg import LINK_FEATURE_NAMES, EntityGraph, Observation, link_features
from app.ofp import GRAPH_FAMILY, REGISTRY

T0 = 1_700_000_000_000_000
SEC = 1_000_000
HOUR = 3600 * SEC
DAY = 24 * HOUR

FULL = {
    "card": "c1",
    "account": "a1",
    "customer": "u1",
    "device": "d1",
    "ip": "i1",
    "merchant": "m1",
}


def ents(**overrides: str | None) -> dict[str, str | None]:
    return {**FULL, **overrides}


def feed(g: EntityGraph, ts_us: int, **overrides: str | None) -> None:
    g.apply(Observation(ts_us, ents(**overrides)))


def test_names_are_the_thirteen_registry_names_sorted() -> None:
    # graph.device_distinct_cards_1h is gone: device.distinct_cards_1h is that feature (#12).
    assert REGISTRY.family_names(GRAPH_FAMILY) == LINK_FEATURE_NAMES
    assert LINK_FEATURE_NAMES == (
        "graph.account_distinct_devices_total",
        "graph.card_distinct_devices_total",
        "graph.device_distinct_cards_24h",
        "graph.device_distinct_cards_total",
        "graph.device_distinct_customers_total",
        "graph.device_new_for_account",
        "graph.device_new_for_card",
        "graph.ip_distinct_cards_1h",
        "graph.ip_distinct_cards_24h",
        "graph.ip_distinct_customers_total",
        "graph.ip_new_for_account",
        "graph.ip_new_for_card",
        "graph.merchant_card_first_seen",
    )


@pytest.mark.parametrize("absent", [(), ("device",), ("ip", "device"), tuple(FULL)])
def test_key_set_is_constant_and_absent_entities_give_none(absent: tuple[str, ...]) -> None:
    g = EntityGraph()
    feed(g, T0)
    features = g.link_features(ents(**dict.fromkeys(absent)), T0 + SEC)
    assert tuple(sorted(features)) == LINK_FEATURE_NAMES
    if "device" in absent:
        assert features["graph.device_new_for_card"] is None
        assert features["graph.device_distinct_cards_24h"] is None
        assert features["graph.device_distinct_customers_total"] is None
    if not absent:
        assert None not in features.values()
    if absent == tuple(FULL):
        assert set(features.values()) == {None}


def test_first_sighting_is_new_everywhere_and_the_event_never_sees_itself() -> None:
    g = EntityGraph()
    feed(g, T0)  # the agent applies the event, then asks as of its own time
    f = g.link_features(FULL, T0)
    assert f["graph.device_new_for_account"] is True
    assert f["graph.ip_new_for_account"] is True
    assert f["graph.device_new_for_card"] is True
    assert f["graph.ip_new_for_card"] is True
    assert f["graph.merchant_card_first_seen"] is True
    assert f["graph.ip_distinct_cards_1h"] == 0
    assert f["graph.card_distinct_devices_total"] == 0


def test_repeat_sighting_is_not_new() -> None:
    g = EntityGraph()
    feed(g, T0)
    feed(g, T0 + HOUR)
    f = g.link_features(FULL, T0 + HOUR)
    assert not any(f[name] for name in LINK_FEATURE_NAMES if "_new_" in name or "first" in name)
    assert f["graph.device_distinct_cards_total"] == 1


def test_new_device_for_card_with_known_ip() -> None:
    g = EntityGraph()
    feed(g, T0)
    feed(g, T0 + HOUR, device="d2")
    f = g.link_features(ents(device="d2"), T0 + HOUR)
    assert f["graph.device_new_for_card"] is True and f["graph.device_new_for_account"] is True
    assert f["graph.ip_new_for_card"] is False and f["graph.ip_new_for_account"] is False
    assert f["graph.card_distinct_devices_total"] == 1  # d1; d2 is the event itself
    assert f["graph.account_distinct_devices_total"] == 1
    assert (
        g.link_features(ents(device="d2"), T0 + HOUR + 1)["graph.card_distinct_devices_total"] == 2
    )


def test_device_and_ip_distinct_cards_by_window() -> None:
    g = EntityGraph()
    feed(g, T0 - 2 * DAY, card="c_old", customer="u_old")
    feed(g, T0 - 2 * HOUR, card="c_day")
    feed(g, T0 - 10 * 60 * SEC, card="c_hour")
    feed(g, T0, card="c_now")
    f = g.link_features(ents(card="c_now"), T0)
    assert f["graph.ip_distinct_cards_1h"] == 1
    assert f["graph.device_distinct_cards_24h"] == 2
    assert f["graph.device_distinct_cards_total"] == 3
    assert f["graph.device_distinct_customers_total"] == 2
    assert f["graph.ip_distinct_cards_1h"] == 1
    assert f["graph.ip_distinct_cards_24h"] == 2
    assert f["graph.ip_distinct_customers_total"] == 2


def test_totals_and_newness_look_back_over_the_retention_only() -> None:
    g = EntityGraph(retention_us=DAY)
    feed(g, T0)
    f = g.link_features(FULL, T0 + DAY + 1)
    assert f["graph.merchant_card_first_seen"] is True
    assert f["graph.device_new_for_card"] is True
    assert f["graph.device_distinct_cards_total"] == 0
    assert g.link_features(FULL, T0 + DAY)["graph.merchant_card_first_seen"] is False


def test_merchant_feature_is_independent_of_merchant_degree() -> None:
    g = EntityGraph()
    for i in range(500):
        feed(g, T0 + i, card=f"c{i}", account=None, customer=None, device=None, ip=None)
    f = g.link_features({"card": "c7", "merchant": "m1"}, T0 + 1000)
    assert f["graph.merchant_card_first_seen"] is False
    assert (
        g.link_features({"card": "c_new", "merchant": "m1"}, T0 + 1000)[
            "graph.merchant_card_first_seen"
        ]
        is True
    )


def test_function_and_method_agree() -> None:
    g = EntityGraph()
    feed(g, T0)
    feed(g, T0 + SEC, card="c2")
    assert link_features(g, FULL, T0 + 2 * SEC) == g.link_features(FULL, T0 + 2 * SEC)
