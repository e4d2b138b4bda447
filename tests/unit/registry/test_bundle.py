"""The bundle contract: closed, strict, and content-addressed (``app.rails.bundle``).

Also home of the bundle factories the other registry tests import.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.rails.bundle import (
    BundleInvalidError,
    ScoreBands,
    ScorecardBundle,
    ScorecardRule,
    bundle_bytes,
    bundle_ref,
    parse_bundle,
    parse_bundle_yaml,
)
from app.rails.canonical_json import canonical_loads
from app.rails.digests import digest_bytes


def rule_body(**overrides: Any) -> dict[str, Any]:
    """A valid rule as a plain dict; each test changes one field."""
    body: dict[str, Any] = {"name": "card_burst", "feature": "card.count_5m", "op": ">=",
                            "value": 5, "points": 30, "reason_code": "CARD_BURST_5M"}
    return {**body, **overrides}


def bundle_body(**overrides: Any) -> dict[str, Any]:
    """A valid scorecard bundle as a plain dict (what YAML decodes to); overriding ``rules``
    without ``features`` lists what those rules read."""
    body: dict[str, Any] = {
        "bundle_id": "test-scorecard", "version": 1, "scope": "auth", "kind": "scorecard",
        "description": "a test bundle",
        "features": ["card.count_5m", "txn.is_tiny_amount", "txn.mcc"],
        "rules": [rule_body(),
                  rule_body(name="tiny", feature="txn.is_tiny_amount", op="==", value=True,
                            points=20, reason_code="TINY_AMOUNT"),
                  rule_body(name="probe_mcc", feature="txn.mcc", op="in", value=[5815, 5816],
                            points=10, reason_code="PROBE_CATEGORY")],
        "bands": {"step_up": 30, "review": 50, "decline": 60},
    }
    if "rules" in overrides and "features" not in overrides:
        body["features"] = sorted({rule["feature"] for rule in overrides["rules"]} or {"txn.mcc"})
    return {**body, **overrides}


def make_bundle(**overrides: Any) -> ScorecardBundle:
    return ScorecardBundle.model_validate(bundle_body(**overrides))


def test_valid_bundle_parses_and_lists_required_features() -> None:
    bundle = make_bundle()
    assert bundle.required_features() == {"card.count_5m", "txn.is_tiny_amount", "txn.mcc"}


def test_a_bundle_may_list_more_features_than_its_rules_read() -> None:
    listed = ["card.count_1h", "card.count_5m", "txn.is_tiny_amount", "txn.mcc"]
    assert make_bundle(features=listed).features == tuple(listed)


def test_a_rule_reading_an_unlisted_feature_is_named() -> None:
    with pytest.raises(ValidationError, match=r"not listed in 'features': \['card.count_5m'\]"):
        make_bundle(features=["txn.is_tiny_amount", "txn.mcc"])


@pytest.mark.parametrize("overrides", [
    {"op": "in", "value": 5},                       # 'in' needs a list
    {"op": ">=", "value": [5]},                     # a list only with 'in'
    {"op": "in", "value": []},                      # an empty list matches nothing
    {"op": "in", "value": [1, 1]},                  # repeats hide typos
    {"op": ">", "value": True},                     # bools are not ordered
    {"value": "5"},                                 # strict: a string is not a number
    {"points": 2.5},                                # points are integers
    {"points": True},                               # strict: true is not 1
    {"name": "Card-Burst"},                         # snake_case names
    {"feature": "count_5m"},                        # a feature name has a kind prefix
    {"reason_code": "card_burst"},                  # UPPER_SNAKE codes
    {"reason_code": "GUARDRAIL"},                   # platform codes are not a rule's own
    {"op": "=~"},
    {"extra": 1},                                   # closed
])
def test_bad_rule_is_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ScorecardRule.model_validate(rule_body(**overrides))


def test_rule_accepts_float_and_bool_values() -> None:
    assert ScorecardRule.model_validate(rule_body(value=2.5)).value == 2.5
    rule = ScorecardRule.model_validate(rule_body(op="!=", value=False))
    assert rule.value is False


def test_bands_must_not_decrease_but_may_be_equal() -> None:
    with pytest.raises(ValidationError, match="non-decreasing"):
        ScoreBands(step_up=50, review=40, decline=90)
    assert ScoreBands(step_up=40, review=40, decline=40).review == 40


@pytest.mark.parametrize("overrides", [
    {"rules": [rule_body(), rule_body(points=5)]},                      # duplicate rule names
    {"rules": []},
    {"features": ["txn.is_tiny_amount", "txn.mcc"]},                  # a rule's feature unlisted
    {"features": ["card.count_5m", "txn.is_tiny_amount", "txn.mcc", "txn.mcc"]},  # a repeat
    {"features": ["txn.mcc", "card.count_5m", "txn.is_tiny_amount"]},  # not sorted
    {"features": []},
    {"features": ["card.count_5m", "txn.is_tiny_amount", "txn.mcc", "Bad Name"]},
    {"feature_sets": [{"name": "txn", "version": 1}]},                 # the old field is gone
    {"version": 0},
    {"version": "1"},
    {"kind": "lightgbm"},
    {"bundle_id": "Bad Id"},
    {"description": ""},
])
def test_bad_bundle_is_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        make_bundle(**overrides)


def test_bundle_is_frozen() -> None:
    bundle = make_bundle()
    with pytest.raises(ValidationError):
        bundle.version = 2  # type: ignore[misc]  # the point: frozen models refuse assignment


def test_bundle_ref_is_the_digest_of_the_canonical_bytes() -> None:
    bundle = make_bundle()
    ref = bundle_ref(bundle)
    assert ref.digest == digest_bytes(bundle_bytes(bundle))
    assert (ref.bundle_id, ref.version, ref.scope) == ("test-scorecard", 1, "auth")
    assert parse_bundle(canonical_loads(bundle_bytes(bundle)), source="x") == bundle


def test_any_change_changes_the_digest() -> None:
    base = bundle_ref(make_bundle()).digest
    changed = bundle_body()
    changed["rules"][0]["points"] = 31
    assert bundle_ref(ScorecardBundle.model_validate(changed)).digest != base
    assert bundle_ref(make_bundle(description="other")).digest != base


def test_yaml_errors_name_the_field_path() -> None:
    text = "bundle_id: x\nversion: 1\nscope: auth\nkind: scorecard\ndescription: d\n" \
           "features: [txn.mcc]\nbands: {step_up: 1, review: 2, decline: 3}\n" \
           "rules:\n  - {name: a, feature: txn.mcc, op: '~', value: 1, points: 1, " \
           "reason_code: A}\n"
    with pytest.raises(BundleInvalidError) as info:
        parse_bundle_yaml(text, source="f.yaml")
    assert info.value.reason_code == "BUNDLE_INVALID"
    assert any(p.startswith("rules.0.op:") for p in info.value.problems)
    assert "f.yaml" in str(info.value)


@pytest.mark.parametrize("text", ["rules: [", "- just\n- a list\n", ""])
def test_yaml_that_is_not_a_bundle_mapping_is_refused(text: str) -> None:
    with pytest.raises(BundleInvalidError):
        parse_bundle_yaml(text, source="f.yaml")
