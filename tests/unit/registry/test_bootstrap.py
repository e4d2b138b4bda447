"""The packaged bootstrap scorecard: valid, over real feature names, and sensible on archetypes."""

from __future__ import annotations

import re
from typing import Any

from app.ieg.link_features import LINK_FEATURE_NAMES
from app.ofp import FEATURE_NAMES, REGISTRY
from app.ofp.trigger_features import TXN_FEATURE_NAMES
from app.rails.bundle import bundle_ref
from app.registry.resolver import bootstrap_pair, is_compatible, load_bootstrap
from app.registry.scorecard import score

OFP_NAME = re.compile(
    r"(card|account|customer|device|ip|merchant)\.[a-z_]+?(_(5m|1h|24h|7d)|_s)"
)
GRAPH_NAMES = {
    "graph.device_new_for_account", "graph.ip_new_for_account", "graph.device_new_for_card",
    "graph.ip_new_for_card", "graph.device_distinct_cards_24h",
    "graph.device_distinct_customers_total", "graph.ip_distinct_cards_1h",
    "graph.ip_distinct_customers_total", "graph.merchant_card_first_seen",
}
TXN_NAMES = {"txn.amount_minor", "txn.is_round_amount", "txn.is_tiny_amount", "txn.card_present",
             "txn.entry_keyed", "txn.entry_magstripe", "txn.mcc", "txn.hour_utc",
             "txn.is_night_utc"}


def test_bootstrap_identity() -> None:
    bundle = load_bootstrap()
    assert (bundle.bundle_id, bundle.version, bundle.scope, bundle.kind) == (
        "bootstrap-scorecard", 2, "auth", "scorecard")
    assert (bundle.bands.step_up, bundle.bands.review, bundle.bands.decline) == (40, 60, 90)


def test_bootstrap_lists_exactly_what_its_rules_read_and_the_registry_provides_it() -> None:
    bundle = load_bootstrap()
    assert set(bundle.features) == bundle.required_features()
    assert is_compatible(bundle, REGISTRY.names)


def test_bootstrap_reads_no_self_feedback_and_no_graph_twin() -> None:
    read = load_bootstrap().required_features()
    assert not [f for f in read if "declines" in f or "step_ups" in f]
    assert "graph.device_distinct_cards_1h" not in read


def test_every_feature_follows_the_names_and_exists() -> None:
    for feature in load_bootstrap().required_features():
        kind = feature.split(".")[0]
        if kind == "graph":
            assert feature in GRAPH_NAMES and feature in LINK_FEATURE_NAMES, feature
        elif kind == "txn":
            assert feature in TXN_NAMES and feature in TXN_FEATURE_NAMES, feature
        else:
            assert OFP_NAME.fullmatch(feature) or feature in {
                "card.amount_to_mean_7d", "card.amount_zscore_7d"}, feature
            assert feature in FEATURE_NAMES, feature


def test_every_rule_has_its_own_reason_code() -> None:
    codes = [rule.reason_code for rule in load_bootstrap().rules]
    assert len(set(codes)) == len(codes)


def test_bootstrap_pair_is_pure_and_stable() -> None:
    ref, bundle = bootstrap_pair()
    assert ref == bundle_ref(bundle) == bootstrap_pair()[0]


def _snapshot(**overrides: Any) -> dict[str, Any]:
    """An ordinary online purchase by a known customer on a known device."""
    base: dict[str, Any] = dict.fromkeys(FEATURE_NAMES, 0)
    base.update(dict.fromkeys(LINK_FEATURE_NAMES, 0))
    base.update({
        "card.count_24h": 2, "card.count_7d": 9, "card.time_since_prev_s": 20_000,
        "card.amount_to_mean_7d": 1.1, "card.amount_zscore_7d": 0.3,
        "device.distinct_cards_5m": 1, "device.distinct_cards_1h": 1,
        "device.distinct_cards_24h": 1, "ip.distinct_cards_5m": 1, "ip.distinct_cards_1h": 1,
        "ip.distinct_cards_24h": 2,
        "graph.device_new_for_account": False, "graph.ip_new_for_account": False,
        "graph.device_new_for_card": False, "graph.ip_new_for_card": False,
        "graph.device_distinct_cards_24h": 1,
        "graph.device_distinct_customers_total": 1, "graph.ip_distinct_customers_total": 2,
        "graph.merchant_card_first_seen": False,
        "txn.amount_minor": 4_250, "txn.is_round_amount": False, "txn.is_tiny_amount": False,
        "txn.card_present": False, "txn.entry_keyed": False, "txn.entry_magstripe": False,
        "txn.mcc": 5411, "txn.hour_utc": 14, "txn.is_night_utc": False,
    })
    base.update(overrides)
    return base


def test_ordinary_purchase_is_approved() -> None:
    assert score(load_bootstrap(), _snapshot()).outcome_band == "APPROVE"


def test_card_present_chip_purchase_without_device_is_approved() -> None:
    snapshot = _snapshot(**{"txn.card_present": True, **{
        name: None for name in (*LINK_FEATURE_NAMES, "device.distinct_cards_5m",
                                "device.distinct_cards_1h", "ip.distinct_cards_5m",
                                "ip.distinct_cards_1h")}})
    assert score(load_bootstrap(), snapshot).outcome_band == "APPROVE"


def test_card_testing_probe_is_declined() -> None:
    snapshot = _snapshot(**{
        "device.distinct_cards_5m": 7, "device.distinct_cards_1h": 12,
        "ip.distinct_cards_5m": 7, "ip.distinct_cards_1h": 12,
        "graph.device_new_for_card": True, "graph.device_distinct_cards_24h": 12,
        "txn.amount_minor": 100, "txn.is_tiny_amount": True, "txn.mcc": 5816,
        "txn.is_night_utc": True})
    assert score(load_bootstrap(), snapshot).outcome_band == "DECLINE"


def test_account_takeover_gets_friction() -> None:
    snapshot = _snapshot(**{
        "graph.device_new_for_card": True, "graph.device_new_for_account": True,
        "graph.ip_new_for_card": True, "graph.ip_new_for_account": True,
        "card.amount_to_mean_7d": 5.0, "card.amount_zscore_7d": 4.0,
        "txn.amount_minor": 89_900, "txn.mcc": 5732})
    assert score(load_bootstrap(), snapshot).outcome_band in {"REVIEW", "DECLINE"}


def test_merchant_collusion_gets_friction() -> None:
    snapshot = _snapshot(**{
        "txn.card_present": True, "txn.entry_keyed": True, "txn.is_night_utc": True,
        "txn.is_round_amount": True, "txn.amount_minor": 75_000, "txn.mcc": 5944,
        "graph.merchant_card_first_seen": True, "graph.device_new_for_card": None,
        "graph.ip_new_for_card": None})
    assert score(load_bootstrap(), snapshot).outcome_band in {"REVIEW", "DECLINE"}
