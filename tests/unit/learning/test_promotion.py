"""The promotion gate refuses without a passing evaluation against the ACTIVE bundle on the
same window, with a feature the registry lacks, or with parity below 100 %; otherwise it passes."""

from __future__ import annotations

from dataclasses import replace

from app.learning.promotion import GateInputs, PromotionEvaluation, lines, refusals

CANDIDATE, ACTIVE = "c" * 64, "a" * 64
GOOD = PromotionEvaluation(
    candidate_digest=CANDIDATE, incumbent_digest=ACTIVE, dataset_id="d" * 64, test_rows=2_000,
    candidate={"average_precision": 0.81, "roc_auc": 0.97, "recall_at_incumbent_friction": 0.7},
    incumbent={"average_precision": 0.55, "roc_auc": 0.90, "recall_at_incumbent_friction": 0.6})
PASS = GateInputs(CANDIDATE, ACTIVE, GOOD, (), 1.0)


def codes(inputs: GateInputs) -> list[str]:
    return [r.reason_code for r in refusals(inputs)]


def test_a_candidate_with_a_passing_evaluation_full_parity_and_its_features_passes() -> None:
    assert refusals(PASS) == []


def test_each_refusal() -> None:
    assert codes(replace(PASS, evaluation=None)) == ["EVALUATION_MISSING"]
    assert codes(replace(PASS, evaluation=replace(GOOD, candidate_digest="e" * 64))) == [
        "EVALUATION_MISSING"]  # another bundle's evaluation is none of this one's
    assert codes(replace(PASS, active_digest="f" * 64)) == ["EVALUATION_STALE"]
    worse = replace(GOOD, candidate={**GOOD.candidate, "average_precision": 0.5})
    assert codes(replace(PASS, evaluation=worse)) == ["EVALUATION_FAILED"]
    less = replace(GOOD, candidate={**GOOD.candidate, "recall_at_incumbent_friction": 0.59})
    assert codes(replace(PASS, evaluation=less)) == ["EVALUATION_FAILED"]
    assert "0.5900 < the incumbent's 0.6000" in lines(refusals(replace(PASS, evaluation=less)))[0]
    assert codes(replace(PASS, missing_features=("txn.v1",))) == ["FEATURE_MISSING"]
    assert codes(replace(PASS, parity_share=0.999)) == ["PARITY_BELOW_100"]
    assert codes(replace(PASS, parity_share=None)) == ["PARITY_BELOW_100"]


def test_refusals_add_up_and_rules_only_incumbents_compare_by_none() -> None:
    assert codes(GateInputs(CANDIDATE, ACTIVE, None, ("x.y",), 0.5)) == [
        "EVALUATION_MISSING", "FEATURE_MISSING", "PARITY_BELOW_100"]
    rules_only = replace(GOOD, incumbent_digest=None, incumbent={})
    assert refusals(GateInputs(CANDIDATE, None, rules_only, (), 1.0)) == []
