"""The pure scorecard on hand-made decisions and truth: counts a person can check by hand."""

from __future__ import annotations

import random

import pytest

from app.evaluation import TruthRow, evaluate
from app.rails.canonical_json import canonical_dumps
from app.rails.errors import ContractError
from tests.unit.evaluation.conftest import MakeDecision


def _row(flow_id: str, label: str = "legit", subtype: str = "none") -> TruthRow:
    return TruthRow(flow_id=flow_id, label=label, subtype=subtype,
                    campaign_id=None if label == "legit" else f"camp_{subtype}",
                    is_fraud_or_abuse=label != "legit")


TRUTH = {r.flow_id: r for r in [
    _row("ct1", "fraud", "card_testing"), _row("ct2", "fraud", "card_testing"),
    _row("ct3", "fraud", "card_testing"), _row("ct4", "fraud", "card_testing"),
    _row("ato1", "fraud", "account_takeover"),
    _row("ra1", "abuse", "refund_abuse"),  # in truth, never decided
    *[_row(f"l{i}") for i in range(10)],
]}


@pytest.fixture
def decisions(make_decision: MakeDecision) -> list[dict[str, object]]:
    """Card testing: 3 of 4 caught; ATO: missed; legit: 2 step-ups and 1 decline out of 10."""
    legit = ["STEP_UP", "STEP_UP", "DECLINE", *["APPROVE"] * 7]
    return [
        make_decision("ct1", "DECLINE", score=0.97), make_decision("ct2", "REVIEW", score=0.8),
        make_decision("ct3", "STEP_UP", score=0.6), make_decision("ct4", "APPROVE", score=0.2),
        make_decision("ato1", "APPROVE", score=0.1),
        *[make_decision(f"l{i}", o, score=(i + 1) / 10) for i, o in enumerate(legit)],
    ]


def test_recall_per_subtype_counts_any_friction_as_caught(
    decisions: list[dict[str, object]],
) -> None:
    rows = {c.subtype: c for c in evaluate(decisions, TRUTH).campaigns}
    ct = rows["card_testing"]
    assert (ct.label, ct.in_truth, ct.decided, ct.caught) == ("fraud", 4, 4, 3)
    assert (ct.declined, ct.reviewed, ct.stepped_up, ct.recall) == (1, 1, 1, 0.75)
    assert (rows["account_takeover"].decided, rows["account_takeover"].recall) == (1, 0.0)


def test_subtype_in_truth_but_never_decided_has_a_row_without_recall(
    decisions: list[dict[str, object]],
) -> None:
    evaluation = evaluate(decisions, TRUTH)
    assert [(c.label, c.subtype) for c in evaluation.campaigns] == [
        ("fraud", "card_testing"), ("fraud", "account_takeover"), ("abuse", "refund_abuse")]
    refund = evaluation.campaigns[-1]
    assert (refund.in_truth, refund.decided, refund.recall) == (1, 0, None)
    assert evaluation.recall == 3 / 5


def test_legit_friction_and_decline_shares(decisions: list[dict[str, object]]) -> None:
    legit = evaluate(decisions, TRUTH).legit
    assert (legit.in_truth, legit.decided, legit.friction, legit.declined) == (10, 10, 3, 1)
    assert (legit.friction_share, legit.decline_share) == (0.3, 0.1)


def test_precision_is_fraud_or_abuse_share_of_friction(decisions: list[dict[str, object]]) -> None:
    evaluation = evaluate(decisions, TRUTH)
    assert (evaluation.friction, evaluation.friction_fraud_or_abuse) == (6, 3)
    assert evaluation.precision == 0.5


def test_totals_by_outcome_and_posture_keep_every_rung(
    decisions: list[dict[str, object]], make_decision: MakeDecision,
) -> None:
    evaluation = evaluate([*decisions, make_decision("l0b", "STEP_UP", posture="FAIL_CLOSED")],
                          TRUTH)
    assert evaluation.by_outcome == {"APPROVE": 9, "STEP_UP": 4, "REVIEW": 1, "DECLINE": 2}
    assert evaluation.postures == {"NORMAL": 15, "DEGRADED": 0, "RULES_ONLY": 0,
                                   "FAIL_CLOSED": 1}


def test_decisions_without_truth_are_unmatched_never_dropped(
    decisions: list[dict[str, object]], make_decision: MakeDecision,
) -> None:
    extra = [make_decision("ghost", "DECLINE"), make_decision(None, "REVIEW")]
    evaluation = evaluate([*decisions, *extra], TRUTH)
    assert (evaluation.decisions, evaluation.matched, evaluation.unmatched) == (17, 15, 2)
    assert evaluation.unmatched_sample == ("<no flow_id>", "ghost")
    assert evaluation.by_outcome["DECLINE"] == 3  # unmatched still count in the totals
    assert evaluation.friction == 6  # but not in truth-based metrics


def test_a_decision_naming_two_flows_is_unmatched(make_decision: MakeDecision) -> None:
    decision = make_decision("ct1", "DECLINE")
    second = dict(decision["intents"][0])  # type: ignore[index]  # wire dict
    second["subject"] = {"flow_id": "ct2"}
    decision["intents"] = [*decision["intents"], second]  # type: ignore[misc]  # wire dict
    assert evaluate([decision], TRUTH).unmatched == 1


def test_redelivered_decision_counts_once_and_malformed_is_counted(
    decisions: list[dict[str, object]],
) -> None:
    evaluation = evaluate([*decisions, decisions[0], {"outcome": "MAYBE"}, "junk"], TRUTH)
    assert (evaluation.decisions, evaluation.duplicates, evaluation.malformed) == (15, 1, 2)


def test_decisions_of_two_runs_are_refused(make_decision: MakeDecision) -> None:
    mixed = [make_decision("ct1"), make_decision("ct2", request="run-2")]
    with pytest.raises(ContractError) as info:
        evaluate(mixed, TRUTH)
    assert info.value.reason_code == "EVAL_RUNS_MIXED"
    with pytest.raises(ContractError):
        evaluate(mixed[:1], TRUTH, run_id="0" * 32)


def test_score_summary_by_label_uses_nearest_rank(decisions: list[dict[str, object]],
                                                  make_decision: MakeDecision) -> None:
    scores = {s.label: s for s in evaluate([*decisions, make_decision("l0x")], TRUTH).scores}
    assert list(scores) == ["legit", "fraud"]
    legit = scores["legit"]
    assert (legit.count, legit.min, legit.p50, legit.p90, legit.max) == (10, 0.1, 0.5, 0.9, 1.0)
    assert (scores["fraud"].count, scores["fraud"].p50) == (5, 0.6)


def test_no_scores_means_no_summary(make_decision: MakeDecision) -> None:
    assert evaluate([make_decision("l1", score=None)], TRUTH).scores == ()


def test_order_of_decisions_does_not_change_the_report(
    decisions: list[dict[str, object]],
) -> None:
    shuffled = list(decisions)
    random.Random(7).shuffle(shuffled)
    first, second = evaluate(decisions, TRUTH), evaluate(shuffled, TRUTH)
    assert first == second
    assert canonical_dumps(first.to_dict()) == canonical_dumps(second.to_dict())


def test_to_dict_is_json_and_names_the_run(decisions: list[dict[str, object]]) -> None:
    body = evaluate(decisions, TRUTH).to_dict()
    assert body["run_id"] == decisions[0]["pins"]["run_id"]  # type: ignore[index]  # wire dict
    assert body["campaigns"][0] == {
        "label": "fraud", "subtype": "card_testing", "in_truth": 4, "decided": 4, "caught": 3,
        "stepped_up": 1, "reviewed": 1, "declined": 1, "recall": 0.75}
    assert body["friction"] == {"decisions": 6, "fraud_or_abuse": 3, "precision": 0.5}
    canonical_dumps(body)  # raises on anything that is not plain JSON


def test_empty_input_gives_an_all_zero_report() -> None:
    evaluation = evaluate([], TRUTH)
    assert evaluation.decisions == 0 and evaluation.run_id is None
    assert evaluation.precision is None and evaluation.legit.friction_share is None
