"""The summary math on a hand-built run: counts, latency, throughput, actions, audit, campaigns."""

from __future__ import annotations

from typing import Any

import pytest

from app.evaluation import evaluate
from app.reporting.latency import LatencyStats
from app.reporting.records import BusRecord
from app.reporting.sections import summary_sections
from app.reporting.summary import ActionRow, AuditStats, MainJobSummary, build_summary, chart_data
from tests.unit.reporting.conftest import (
    RUN_ID,
    audit_of,
    bus,
    decision,
    outcomes_of,
    truth_row,
)

TRUTH = {r.flow_id: r for r in [
    truth_row("f1"), truth_row("f2"), truth_row("c1", "fraud", "card_testing"),
    truth_row("c2", "fraud", "card_testing"), truth_row("a1", "fraud", "account_takeover"),
    truth_row("r1", "abuse", "refund_abuse"),  # in truth, never decided
]}
# flow, outcome, score, traffic offset, admission ms, decision ms
PLAN = [("f1", "APPROVE", 1.0, 0, 1_000, 1_050), ("f2", "STEP_UP", 20.0, 1, 1_010, 1_100),
        ("c1", "DECLINE", 90.0, 2, 1_020, 1_120), ("c2", "APPROVE", 5.0, 3, 1_030, 1_230),
        ("a1", "REVIEW", 40.0, 4, 1_040, 1_340)]
ADMITTED = {(0, offset): at for _, _, _, offset, at, _ in PLAN}


class Run:
    """The hand-built run: 5 decisions (one repeated), their outcomes and audit records."""

    def __init__(self) -> None:
        self.bodies = {flow: decision(flow, outcome, score=score, offset=offset)
                       for flow, outcome, score, offset, _, _ in PLAN}
        self.decisions = [bus(self.bodies[f], ms, offset=i)
                          for i, (f, _, _, _, _, ms) in enumerate(PLAN)]
        self.decisions.append(self.decisions[0])  # redelivered: counted once
        f1, f2, c1, c2 = (outcomes_of(self.bodies[f]) for f in ("f1", "f2", "c1", "c2"))
        c1 = outcomes_of(self.bodies["c1"], "DENIED")
        hold, case = outcomes_of(self.bodies["a1"])
        case_failed = outcomes_of(self.bodies["a1"], "FAILED")[1]
        self.outcomes = [bus(o, ms) for o, ms in [
            (f1[0], 1_100), (f2[0], 1_200), (c1[0], 1_300), (c2[0], 1_400), (hold, 1_500),
            (case_failed, 1_600)]]
        self.outcomes.append(bus(case, 1_700))  # a second, conflicting outcome for one intent
        self.audit = [audit_of(self.bodies["f1"], f1), audit_of(self.bodies["f2"], f2),
                      audit_of(self.bodies["c1"], c1), audit_of(self.bodies["c2"], [])]

    def summary(self, **overrides: Any) -> MainJobSummary:
        kwargs: dict[str, Any] = {
            "run_id": RUN_ID, "planned_rows": 9, "receipts": {"ADMIT": 8, "QUARANTINE": 1},
            "admitted_by_type": {"clearing": 3, "auth_request": 5},
            "decisions": self.decisions, "outcomes": self.outcomes,
            "audit_records": self.audit,
            "evaluation": evaluate([d.body for d in self.decisions], TRUTH, run_id=RUN_ID),
            "admitted_ms": ADMITTED, "outcomes_expected": True}
        return build_summary(**(kwargs | overrides))


@pytest.fixture
def run() -> Run:
    return Run()


def test_counts_are_over_distinct_ids_in_fixed_order(run: Run) -> None:
    s = run.summary()
    assert s.receipts == {"ADMIT": 8, "DUPLICATE": 0, "QUARANTINE": 1}
    assert s.admitted_by_type == {"auth_request": 5, "clearing": 3}
    assert (s.decisions, s.decision_repeats) == (5, 1)
    assert s.decisions_by_outcome == {"APPROVE": 2, "STEP_UP": 1, "REVIEW": 1, "DECLINE": 1}


def test_actions_by_outcome_per_action_type_with_repeats_and_conflicts(run: Run) -> None:
    s = run.summary()
    assert s.actions == (ActionRow("APPROVE_AUTH", 2, 2, 0, 0),
                         ActionRow("REQUEST_STEP_UP", 1, 1, 0, 0),
                         ActionRow("HOLD_FOR_REVIEW", 1, 1, 0, 0),
                         ActionRow("OPEN_CASE", 1, 0, 0, 1),  # the first outcome wins
                         ActionRow("DECLINE_AUTH", 1, 0, 1, 0))
    assert (s.intents, s.outcomes, s.outcome_repeats, s.outcome_conflicts) == (6, 6, 1, 1)


def test_an_intent_without_outcome_is_missing_in_its_row(run: Run) -> None:
    s = run.summary(outcomes=run.outcomes[:1])
    assert s.actions[0] == ActionRow("APPROVE_AUTH", 2, 1, 0, 0) and s.actions[0].missing == 1
    assert sum(a.missing for a in s.actions) == 5


def test_latency_percentiles_and_throughput_from_bus_timestamps(run: Run) -> None:
    s = run.summary()
    assert s.decision_latency == LatencyStats(5, 100.0, 300.0, 300.0)  # 50 90 100 200 300
    assert (s.decision_latency_unknown, s.outcome_latency_unknown) == (0, 0)
    # outcome ms - admission ms: 100 190 280 370 460 560 (the conflicting repeat not counted)
    assert s.outcome_latency == LatencyStats(6, 280.0, 560.0, 560.0)
    assert s.span_s == pytest.approx(0.34)  # first admission 1 000 -> last decision 1 340
    assert s.throughput_per_s == pytest.approx(5 / 0.34)


def test_audit_chain_is_complete_when_its_record_lists_every_intent(run: Run) -> None:
    s = run.summary()
    assert s.audit == AuditStats(decisions=5, audited=4, complete=3, corrections=0)
    assert s.audit is not None and s.audit.unaudited == 1
    c2 = run.bodies["c2"]
    fixed = audit_of(c2, outcomes_of(c2), supersedes=run.audit[-1]["audit_id"])
    s = run.summary(audit_records=[*run.audit, fixed])
    assert s.audit == AuditStats(decisions=5, audited=4, complete=4, corrections=1)


def test_audit_not_deployed_and_outcomes_not_expected_are_explicit(run: Run) -> None:
    s = run.summary(audit_records=None, outcomes=[], outcomes_expected=False)
    text = {sec.title: sec for sec in summary_sections(s)}
    assert s.audit is None
    assert text["Audit"].notes == ("audit: not expected (DLA is not in wiring.worker.agents)",)
    assert text["Actions by outcome"].rows == ()
    assert "not expected" in text["Actions by outcome"].notes[0]


def test_per_campaign_table_comes_from_the_evaluation(run: Run) -> None:
    sections = {sec.title: sec for sec in summary_sections(run.summary())}
    table = sections["Fraud caught and legitimate friction by campaign type"]
    assert table.rows == (
        ("fraud", "card_testing", "2", "2", "1", "0", "0", "1", "50.0%"),
        ("fraud", "account_takeover", "1", "1", "1", "0", "1", "0", "100.0%"),
        ("abuse", "refund_abuse", "1", "0", "0", "0", "0", "0", "-"),
    )
    assert "legitimate friction: 1 of 2 decided legitimate flows (50.0%); declined 0 (0.0%)" \
        in table.notes


def test_missing_steps_mean_not_drained(run: Run) -> None:
    s = run.summary(missing=["audit: 1 of 5 decisions have no audit record (is DLA running?)"])
    assert not s.drained
    assert "NOT drained: audit: 1 of 5" in summary_sections(s)[0].notes[-1]
    assert run.summary().drained


def test_chart_series_from_the_same_records(run: Run) -> None:
    data = chart_data(run.decisions, run.outcomes, ADMITTED, TRUTH)
    assert data.decision_times == ((0.05, "APPROVE"), (0.1, "STEP_UP"), (0.12, "DECLINE"),
                                   (0.23, "APPROVE"), (0.34, "REVIEW"))
    assert sorted(data.decision_latency_ms) == [50.0, 90.0, 100.0, 200.0, 300.0]
    assert data.scores_by_label == {"legit": (1.0, 20.0), "fraud": (90.0, 5.0, 40.0),
                                    "abuse": ()}


def test_a_decision_without_a_readable_trigger_counts_as_unknown_latency() -> None:
    stray = BusRecord(0, 0, 1, {"record_type": "decision"})  # no trigger.eb_ref
    s = build_summary(run_id=RUN_ID, planned_rows=0, receipts={}, admitted_by_type={},
                      decisions=[stray], outcomes=[], audit_records=[],
                      evaluation=evaluate([], {}, run_id=RUN_ID), admitted_ms={},
                      outcomes_expected=True)
    assert (s.decisions, s.decision_latency, s.decision_latency_unknown) == (1, None, 1)
    assert s.throughput_per_s is None
