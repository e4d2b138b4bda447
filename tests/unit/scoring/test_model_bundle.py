"""The ``lightgbm`` bundle contract (``app.rails.bundle.ModelBundle``) and the Bundle union."""

from __future__ import annotations

from typing import Any

import pytest

from app.rails.bundle import (
    BundleInvalidError,
    ModelBundle,
    ScorecardBundle,
    bundle_bytes,
    bundle_ref,
    parse_bundle,
    parse_bundle_yaml,
)
from app.rails.canonical_json import canonical_loads
from app.registry.resolver import load_bootstrap
from tests.unit.scoring.models import model_bundle


def _body(**overrides: Any) -> dict[str, Any]:
    return model_bundle().model_dump(mode="json") | overrides


def test_digest_is_stable_and_covers_every_field() -> None:
    bundle = model_bundle()
    assert bundle_ref(bundle) == bundle_ref(model_bundle())
    assert bundle_ref(parse_bundle(canonical_loads(bundle_bytes(bundle)), source="x")) \
        == bundle_ref(bundle)
    base = bundle_ref(bundle).digest
    for change in ({"version": 2}, {"features": ["txn.amount_minor", "card.count_5m",
                                                 "card.count_1h"]},
                   {"bands": {"step_up": 0.3, "review": 0.6, "decline": 0.95}},
                   {"lineage": _body()["lineage"] | {"code_version": "other"}}):
        assert bundle_ref(ModelBundle.model_validate(_body(**change))).digest != base


def test_features_keep_the_models_order_not_sorted() -> None:
    order = ["txn.amount_minor", "card.count_5m", "card.count_1h"]
    assert list(ModelBundle.model_validate(_body(features=order)).features) == order


def test_parse_picks_the_kind() -> None:
    assert isinstance(parse_bundle(_body(), source="m"), ModelBundle)
    boot = load_bootstrap().model_dump(mode="json")
    assert isinstance(parse_bundle(boot, source="b"), ScorecardBundle)
    yaml_text = "\n".join(f"{k}: {v!r}" for k, v in {"kind": "lightgbm"}.items())
    with pytest.raises(BundleInvalidError):
        parse_bundle_yaml(yaml_text, source="partial.yaml")


@pytest.mark.parametrize(("change", "path"), [
    ({"kind": "xgboost"}, "kind"),
    ({"kind": None}, "kind"),
    ({"kind": ["lightgbm"]}, "kind"),
    ({"bands": {"step_up": 0.6, "review": 0.3, "decline": 0.9}}, "bands"),
    ({"bands": {"step_up": 0.3, "review": 0.6, "decline": 1.5}}, "bands.decline"),
    ({"bands": {"step_up": -0.1, "review": 0.6, "decline": 0.9}}, "bands.step_up"),
    ({"bands": {"step_up": "0.3", "review": 0.6, "decline": 0.9}}, "bands.step_up"),  # strict
    ({"features": []}, "features"),
    ({"features": ["card.count_5m", "card.count_5m"]}, "$"),
    ({"model_digest": {"algo": "sha256", "hex": "XYZ"}}, "model_digest.hex"),
    ({"rules": []}, "rules"),  # a scorecard's field: the contract is closed
])
def test_bad_bundles_are_refused_naming_the_field(change: dict[str, Any], path: str) -> None:
    with pytest.raises(BundleInvalidError) as err:
        parse_bundle(_body(**change), source="bad.json")
    assert any(p.split(":")[0].startswith(path) for p in err.value.problems), err.value.problems


@pytest.mark.parametrize("lineage_change", [
    {"metrics": {"roc_auc": float("nan")}},
    {"params": {"learning_rate": float("inf")}},
    {"params": {"nested": {"a": 1}}},
    {"trained_at_utc": "2026-12-04T00:00:00.000000Z"},  # no timestamps in lineage
    {"manifest_digest": "not-hex"},
])
def test_lineage_is_finite_flat_and_has_no_clock(lineage_change: dict[str, Any]) -> None:
    with pytest.raises(BundleInvalidError):
        parse_bundle(_body(lineage=_body()["lineage"] | lineage_change), source="bad.json")
