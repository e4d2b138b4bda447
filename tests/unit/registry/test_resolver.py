"""Which bundle DF scores with (``app.registry.resolver.resolve``)."""

from __future__ import annotations

from typing import Any

import pytest

from app.rails.bundle import ScorecardBundle, bundle_ref
from app.rails.decision import BundleRef, FeatureSetRef
from app.rails.reason_codes import ReasonCode
from app.registry.resolver import Fallback, Resolution, bootstrap_pair, is_compatible, resolve
from tests.unit.registry.test_bundle import make_bundle

OFP, GRAPH, TXN = (FeatureSetRef(name=n, version=1) for n in ("ofp_core", "ieg_links", "txn"))
ALL = {OFP, GRAPH, TXN}


def active_pair(**overrides: Any) -> tuple[BundleRef, ScorecardBundle]:
    bundle = make_bundle(**overrides)
    return bundle_ref(bundle), bundle


def test_compatible_active_bundle_is_used_without_reasons() -> None:
    active = active_pair()
    result = resolve(active, ALL, fallback="fail_closed", bootstrap=bootstrap_pair())
    assert result == Resolution(bundle=active[1], ref=active[0], reason_codes=())


def test_provided_may_be_any_iterable() -> None:
    active = active_pair()
    assert resolve(active, (OFP, TXN), fallback="bootstrap",
                   bootstrap=bootstrap_pair()).bundle == active[1]


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


@pytest.mark.parametrize("declared", [
    [{"name": "ofp_core", "version": 2}],                 # a version not provided
    [{"name": "ofp_core", "version": 1}, {"name": "model_x", "version": 1}],  # a set not provided
])
@pytest.mark.parametrize(("fallback", "uses_bootstrap"), [("bootstrap", True),
                                                         ("fail_closed", False)])
def test_incompatible_active_bundle(declared: list[dict[str, object]], fallback: Fallback,
                                    uses_bootstrap: bool) -> None:
    boot_ref, boot = bootstrap_pair()
    result = resolve(active_pair(feature_sets=declared), ALL, fallback=fallback,
                     bootstrap=(boot_ref, boot))
    if uses_bootstrap:
        assert result == Resolution(bundle=boot, ref=boot_ref, reason_codes=(
            ReasonCode.BUNDLE_INCOMPATIBLE, ReasonCode.BUNDLE_FALLBACK))
    else:
        assert result == Resolution(bundle=None, ref=None,
                                    reason_codes=(ReasonCode.BUNDLE_INCOMPATIBLE,))


def test_incompatible_bootstrap_is_no_fallback() -> None:
    result = resolve(None, {OFP, TXN}, fallback="bootstrap", bootstrap=bootstrap_pair())
    assert result == Resolution(bundle=None, ref=None,
                                reason_codes=(ReasonCode.BUNDLE_UNRESOLVED,))


def test_compatibility_needs_every_declared_set_at_its_version() -> None:
    bundle = make_bundle()  # ofp_core@1, txn@1
    assert is_compatible(bundle, [OFP, TXN, GRAPH])
    assert not is_compatible(bundle, [OFP])
    assert not is_compatible(bundle, [OFP, FeatureSetRef(name="txn", version=2)])
