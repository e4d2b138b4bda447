"""One condition model (``app.rails.condition``) for scorecard rules and guardrails."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.df.guardrails import evaluate_guardrails
from app.df.policy import Guardrail
from app.profiles.loader import load_profile
from app.rails.bundle import ScorecardRule
from app.rails.condition import Condition
from app.rails.decision import DecisionOutcome, FeatureValue
from app.registry.resolver import load_bootstrap

RULE = {"name": "r", "points": 10, "reason_code": "R_FIRED"}
GUARD = {"name": "g", "outcome": "REVIEW", "reason_code": "G_FIRED"}

CASES: list[tuple[dict[str, Any], dict[str, FeatureValue], bool]] = [
    ({"feature": "card.count_5m", "op": ">=", "value": 3}, {"card.count_5m": 3}, True),
    ({"feature": "card.count_5m", "op": ">=", "value": 3}, {"card.count_5m": 2}, False),
    ({"feature": "card.count_5m", "op": ">", "value": 2.5}, {"card.count_5m": 3}, True),
    ({"feature": "card.count_5m", "op": ">=", "value": 3}, {}, False),          # absent
    ({"feature": "card.count_5m", "op": "<", "value": 3}, {"card.count_5m": None}, False),
    ({"feature": "card.count_5m", "op": "!=", "value": 3},
     {"card.count_5m": float("nan")}, False),                                   # NaN: no evidence
    ({"feature": "graph.new_device", "op": "==", "value": True},
     {"graph.new_device": True}, True),
    ({"feature": "graph.new_device", "op": "==", "value": True},
     {"graph.new_device": 1}, False),                                           # 1 is not true
    ({"feature": "card.count_5m", "op": "==", "value": 1}, {"card.count_5m": True}, False),
    ({"feature": "txn.mcc", "op": "in", "value": [5999, 7995]}, {"txn.mcc": 7995}, True),
    ({"feature": "txn.mcc", "op": "in", "value": [5999, 7995]}, {"txn.mcc": True}, False),
]


@pytest.mark.parametrize(("cond", "values", "expected"), CASES)
def test_rules_and_guardrails_share_one_evaluation(cond: dict[str, Any],
                                                   values: dict[str, FeatureValue],
                                                   expected: bool) -> None:
    rule = ScorecardRule.model_validate(cond | RULE)
    guard = Guardrail.model_validate(cond | GUARD)
    assert isinstance(rule, Condition) and isinstance(guard, Condition)
    assert Condition.model_validate(cond).holds(values) is expected
    assert rule.holds(values) is expected
    assert guard.holds(values) is expected
    outcome, codes = evaluate_guardrails([guard], values)
    assert (outcome, codes) == ((DecisionOutcome.REVIEW, ("G_FIRED",)) if expected
                                else (DecisionOutcome.APPROVE, ()))


@pytest.mark.parametrize("cond", [
    {"feature": "card.count_5m", "op": "in", "value": 3},             # in without a list
    {"feature": "card.count_5m", "op": ">=", "value": [3]},           # a list without in
    {"feature": "card.count_5m", "op": "in", "value": []},            # empty list
    {"feature": "card.count_5m", "op": "in", "value": [1, 1]},        # repeats
    {"feature": "graph.new_device", "op": ">", "value": True},        # bool ordered
    {"feature": "card.count_5m", "op": ">=", "value": "3"},           # strict: a string
    {"feature": "card.count_5m", "op": "~", "value": 3},              # unknown op
    {"feature": "count_5m", "op": ">=", "value": 3},                  # not a feature name
])
def test_rules_and_guardrails_refuse_the_same_conditions(cond: dict[str, Any]) -> None:
    for model, extra in ((Condition, {}), (ScorecardRule, RULE), (Guardrail, GUARD)):
        with pytest.raises(ValidationError):
            model.model_validate(cond | extra)


def test_a_scorecard_rule_still_refuses_a_platform_reason_code() -> None:
    with pytest.raises(ValidationError, match="platform reason code"):
        ScorecardRule.model_validate({"feature": "card.count_5m", "op": ">=", "value": 3}
                                     | RULE | {"reason_code": "GUARDRAIL"})


@pytest.mark.parametrize("profile", ["local", "dev", "prod"])
def test_every_profile_and_the_bootstrap_still_validate(profile: str) -> None:
    guardrails = load_profile(profile).policy.decision.guardrails
    assert guardrails and all(isinstance(g, Condition) for g in guardrails)
    assert all(isinstance(r, Condition) for r in load_bootstrap().rules)
