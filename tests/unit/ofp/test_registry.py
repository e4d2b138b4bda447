"""The feature registry (issue #12): one declaration per feature, its digest as identity, and the
fold, the brute force and the extractor driven by it."""

from __future__ import annotations

import dataclasses
import re

import pytest

from app.hotpath.traffic import ENTITY_FIELDS
from app.ieg import LINK_FEATURE_NAMES, EntityGraph
from app.ofp import (
    ENTITY_KINDS,
    FEATURE_NAMES,
    GRAPH_FAMILY,
    OFP_FAMILY,
    REGISTRY,
    TXN_FAMILY,
    FeatureDecl,
    FeatureDef,
    FeatureRegistry,
    FeatureState,
    Txn,
    brute_force_features,
    txn_of,
    windowed,
)
from app.ofp.trigger_features import TXN_FEATURE_NAMES
from app.rails.decision import FeatureSetRef
from app.rails.errors import ContractError
from app.rails.payloads import AuthRequestV1, RefundV1
from tests.factories import make_payload


def make_auth_request(**overrides: object) -> AuthRequestV1:
    return AuthRequestV1.model_validate(make_payload("auth_request", **overrides))


def make_refund(**overrides: object) -> RefundV1:
    return RefundV1.model_validate(make_payload("refund", **overrides))


FEATURE_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$")  # rails FeatureName
T = 1_709_294_400_000_000
MIN = 60_000_000


def test_names_are_unique_and_match_the_feature_name_pattern() -> None:
    names = [d.name for d in REGISTRY.defs] + [d.name for d in REGISTRY.decls]
    assert len(names) == len(set(names)) == len(REGISTRY.names) == 154
    assert all(FEATURE_NAME.match(name) for name in names)


def test_every_feature_a_snapshot_carries_is_declared_once() -> None:
    assert set(FEATURE_NAMES) == set(REGISTRY.family_names(OFP_FAMILY))
    assert set(LINK_FEATURE_NAMES) == set(REGISTRY.family_names(GRAPH_FAMILY))
    assert set(TXN_FEATURE_NAMES) == set(REGISTRY.family_names(TXN_FAMILY))
    assert REGISTRY.names == {*FEATURE_NAMES, *LINK_FEATURE_NAMES, *TXN_FEATURE_NAMES}
    auth = make_auth_request()
    graph_keys = set(EntityGraph().link_features({"card": auth.card_id}, T))
    assert graph_keys == set(LINK_FEATURE_NAMES)
    assert all(d.description for d in (*REGISTRY.defs, *REGISTRY.decls))


def test_digest_is_stable_for_the_same_definitions() -> None:
    again = FeatureRegistry(reversed(REGISTRY.defs), reversed(REGISTRY.decls))
    assert again.digest == REGISTRY.digest
    assert dict(again.family_digests) == dict(REGISTRY.family_digests)


_FIELD_CHANGES = {
    "name": "card.count_5m_x", "window": "10m", "aggregate": "amount_sum",
    "description": "another text", "sources": ("auth_request", "refund"),
}


@pytest.mark.parametrize("field", sorted(_FIELD_CHANGES))
def test_digest_changes_with_any_definition_field(field: str) -> None:
    old = next(d for d in REGISTRY.defs if d.name == "card.count_5m")
    new = dataclasses.replace(old, **{field: _FIELD_CHANGES[field]})
    changed = REGISTRY.without(old.name).extended([new])
    assert changed.digest != REGISTRY.digest
    assert changed.family_digests[OFP_FAMILY] != REGISTRY.family_digests[OFP_FAMILY]
    assert changed.family_digests[TXN_FAMILY] == REGISTRY.family_digests[TXN_FAMILY]


@pytest.mark.parametrize("field", ["dtype", "description", "family"])
def test_digest_changes_with_a_declaration_field(field: str) -> None:
    old = next(d for d in REGISTRY.decls if d.name == "txn.mcc")
    value = {"dtype": "float", "description": "x", "family": "ieg_links"}[field]
    new = dataclasses.replace(old, **{field: value})
    changed = REGISTRY.without(old.name).extended(decls=[new])
    assert changed.digest != REGISTRY.digest


def test_feature_set_refs_carry_the_family_digests() -> None:
    ref = REGISTRY.feature_set(OFP_FAMILY)
    assert ref == FeatureSetRef(name="ofp_core", digest=REGISTRY.family_digests[OFP_FAMILY])


@pytest.mark.parametrize("bad", [
    FeatureDef("card.count_5m", "card", "5m", "count", "int", "a repeat of a platform name"),
    FeatureDef("Card.X", "card", "5m", "count", "int", "bad name"),
    FeatureDef("card.count_5w", "card", "5w", "count", "int", "unknown window unit"),
    FeatureDef("card.distinct_5m", "card", "5m", "distinct", "int", "no 'of'"),
    FeatureDef("card.distinct_cards_5m", "card", "5m", "distinct", "int", "of itself", of="card"),
    FeatureDef("card.label_count_5m", "card", "5m", "count", "int", "labels carry no amount",
               sources=("label_event",)),
    FeatureDef("card.count_x_5m", "card", "5m", "count", "float", "wrong dtype"),
    FeatureDef("device.count_y_5m", "card", "5m", "count", "int", "name of another kind"),
])
def test_malformed_definitions_are_refused(bad: FeatureDef) -> None:
    with pytest.raises(ContractError):
        REGISTRY.extended([bad])


def test_a_declaration_may_not_claim_the_windowed_family() -> None:
    with pytest.raises(ContractError):
        REGISTRY.extended(decls=[FeatureDecl("txn.x", "ofp_core", "int", "x")])  # type: ignore[arg-type]  # the point: a wrong family


def test_entity_kinds_are_declared_once() -> None:
    assert tuple((kind, f"{kind}_id") for kind in ENTITY_KINDS) == ENTITY_FIELDS
    assert {d.entity_kind for d in REGISTRY.defs} == set(ENTITY_KINDS)


def test_adding_a_windowed_feature_is_one_declaration() -> None:
    grown = REGISTRY.extended([windowed("merchant", "distinct", "1h", of="device")])
    state = FeatureState(registry=grown)
    history = [Txn(T - k * MIN, 100 * k, f"c{k}", "a", "u", f"d{k % 2}", None, "m")
               for k in (1, 2, 3, 90)]
    for txn in history:
        state.apply(txn)
    trigger = Txn(T, 5, "c9", "a", "u", None, None, "m")
    values, _ = state.features(trigger)
    assert values["merchant.distinct_devices_1h"] == 2  # d1, d0; the 90-minute-old one is out
    assert values == brute_force_features(history, trigger, grown)
    assert set(values) == set(grown.family_names(OFP_FAMILY))


def test_another_event_type_feeds_the_features_that_name_it() -> None:
    # A test-local registry: refunds feed their own count; authorisations do not, and the
    # platform's features (auth_request only) do not see refunds.
    registry = REGISTRY.extended([windowed("card", "count", "24h", sources=("refund",)),
                                  windowed("card", "amount_sum", "24h", sources=("refund",))])
    refund = make_refund(amount_minor=2_500)
    auth = make_auth_request(amount_minor=700)
    history = [txn_of("refund", refund, T - 2 * MIN), txn_of("auth_request", auth, T - MIN)]
    assert history[0].customer_id is None and history[0].event_type == "refund"
    state = FeatureState(registry=registry)
    for txn in history:
        state.apply(txn)
    values, _ = state.features(txn_of("auth_request", auth, T))
    assert values["card.refund_count_24h"] == 1
    assert values["card.refund_amount_sum_24h"] == 2_500
    assert values["card.count_24h"] == 1 and values["card.amount_sum_24h"] == 700
    assert values == brute_force_features(history, txn_of("auth_request", auth, T), registry)


def test_the_platform_registry_ignores_other_event_types() -> None:
    state = FeatureState()
    assert state.fed_by("auth_request") and not state.fed_by("refund")
    refund = make_refund(amount_minor=2_500)
    assert state.apply(txn_of("refund", refund, T)) and state.retained_txns() == 0


def test_the_extractor_reads_an_authorisation_as_the_fold_did() -> None:
    auth = make_auth_request()
    txn = txn_of("auth_request", auth, T)
    assert txn == Txn(T, auth.amount_minor, auth.card_id, auth.account_id, auth.customer_id,
                      auth.device_id, auth.ip_id, auth.merchant_id, "auth_request")
