"""Which bundle DF scores with (``app.registry.resolver.resolve``): compatible when the feature
registry provides every feature the bundle lists (issue #12)."""

from __future__ import annotations

from typing import Any

import pytest

from app.ofp import REGISTRY, windowed
from app.rails.bundle import ScorecardBundle, bundle_ref
from app.rails.decision import BundleRef
from app.rails.reason_codes import ReasonCode
from app.registry.resolver import (
    Fallback,
    Resolution,
    bootstrap_pair,
    is_compatible,
    missing_features,
    resolve,
)
from tests.unit.registry.test_bundle import make_bundle

ALL = REGISTRY.names


def active_pair(**overrides: Any) -> tuple[BundleRef, ScorecardBundle]:
    bundle = make_bundle(**overrides)
    return bundle_ref(bundle), bundle


def test_compatible_active_bundle_is_used_without_reasons() -> None:
    active = active_pair()
    result = resolve(active, ALL, fallback="fail_closed", bootstrap=bootstrap_pair())
    assert result == Resolution(bundle=active[1], ref=active[0], reason_codes=())


def test_provided_may_be_any_iterable() -> None:
    active = active_pair()
    assert resolve(active, ["card.count_5m", "txn.is_tiny_amount", "txn.mcc"],
                   fallback="bootstrap", bootstrap=bootstrap_pair()).bundle == active[1]


@pytest.mark.parametrize(("fallback", "uses_bootstrap"), [("bootstrap", True),
                                                         ("fail_closed", False)])
def test_missing_active_bundle(fallback: Fallback, uses_bootstrap: bool) -> None:
    boot_ref, boot = bootstrap_pair()
    result = resolve(None, ALL, fallback=fallback, bootstrap=(boot_ref, boot))
    if uses_bootstrap:
        assert result == Resolution(bundle=boot, ref=boot_ref, reason_codes=(
            ReasonCode.BUNDLE_UNRESOLVED, ReasonCode.BUNDLE_FALLBACK))
    else:
        assert result == Resolution(bundle=None, ref=None,
                                    reason_codes=(ReasonCode.BUNDLE_UNRESOLVED,))


@pytest.mark.parametrize(("fallback", "uses_bootstrap"), [("bootstrap", True),
                                                         ("fail_closed", False)])
def test_a_bundle_reading_a_removed_feature_is_refused_naming_it(
        fallback: Fallback, uses_bootstrap: bool) -> None:
    provided = REGISTRY.without("card.count_5m").names
    boot_ref, boot = bootstrap_pair()
    result = resolve(active_pair(), provided, fallback=fallback, bootstrap=(boot_ref, boot))
    refused = (ReasonCode.BUNDLE_INCOMPATIBLE, ReasonCode.FEATURE_MISSING)
    assert result.missing_features == ("card.count_5m",)
    detail = result.detail()
    assert detail is not None and "card.count_5m" in detail
    if uses_bootstrap:
        assert (result.bundle, result.ref) == (boot, boot_ref)
        assert result.reason_codes == (*refused, ReasonCode.BUNDLE_FALLBACK)
    else:
        assert (result.bundle, result.ref, result.reason_codes) == (None, None, refused)


def test_a_bundle_reading_a_self_feedback_feature_is_refused() -> None:
    # card.declines_24h was dropped from the registry (issue #12): a bundle still reading it is
    # refused rather than scored as if the feature were absent.
    rule = {"name": "declines", "feature": "card.declines_24h", "op": ">=", "value": 2,
            "points": 10, "reason_code": "CARD_RECENT_DECLINES"}
    bundle = make_bundle(rules=[rule], features=["card.declines_24h"])
    result = resolve((bundle_ref(bundle), bundle), ALL, fallback="fail_closed",
                     bootstrap=bootstrap_pair())
    assert result.bundle is None and result.missing_features == ("card.declines_24h",)
    assert ReasonCode.FEATURE_MISSING in result.reason_codes


def test_growing_the_registry_never_breaks_the_active_bootstrap() -> None:
    # One declaration adds a windowed feature; the ACTIVE bootstrap still resolves unchanged.
    grown = REGISTRY.extended([windowed("merchant", "distinct", "1h", of="device")])
    assert "merchant.distinct_devices_1h" in grown.names and grown.digest != REGISTRY.digest
    boot_ref, boot = bootstrap_pair()
    result = resolve((boot_ref, boot), grown.names, fallback="fail_closed",
                     bootstrap=(boot_ref, boot))
    assert result == Resolution(bundle=boot, ref=boot_ref, reason_codes=())


def test_incompatible_bootstrap_is_no_fallback() -> None:
    provided = REGISTRY.without("txn.mcc").names
    result = resolve(None, provided, fallback="bootstrap", bootstrap=bootstrap_pair())
    assert result == Resolution(bundle=None, ref=None,
                                reason_codes=(ReasonCode.BUNDLE_UNRESOLVED,))


def test_compatibility_needs_every_listed_feature() -> None:
    bundle = make_bundle()
    assert is_compatible(bundle, ALL)
    assert not is_compatible(bundle, ["card.count_5m", "txn.mcc"])
    assert missing_features(bundle, ["txn.mcc"]) == ("card.count_5m", "txn.is_tiny_amount")
