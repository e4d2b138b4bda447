"""Label health of a run: coverage of truly bad flows by decision outcome, time to label,
overturns and cases, and the summary section that prints them."""

from __future__ import annotations

from app.cases.model import CasePolicy, Claim, Resolve, fold, handle
from app.evaluation.truth import TruthRow
from app.labels.health import label_health
from app.rails.case import CaseEvent, CaseEventType
from tests.factories import make_label_assertion

FLOW = "flow_{:012d}".format


def _truth(flow: int, bad: bool) -> TruthRow:
    return TruthRow(flow_id=FLOW(flow), label="fraud" if bad else "legit",
                    subtype="card_testing" if bad else "legit", campaign_id=None,
                    is_fraud_or_abuse=bad)


def test_coverage_time_to_label_overturns_and_cases() -> None:
    assertions = [
        make_label_assertion(1, kind=0, label_value="fraud", effective_s=0, observed_s=3600),
        make_label_assertion(2, kind=0, label_value="fraud", effective_s=0, observed_s=7200),
        make_label_assertion(2, kind=1, label_value="legit", effective_s=0, observed_s=10800),
        make_label_assertion(4, kind=0, label_value="fraud", effective_s=0, observed_s=36000),
    ]
    truth = {FLOW(i): _truth(i, bad) for i, bad in ((1, True), (2, True), (3, True), (4, False))}
    outcomes = {FLOW(1): "DECLINE", FLOW(2): "APPROVE", FLOW(3): "APPROVE", FLOW(4): "APPROVE"}
    opened = CaseEvent(case_id="c" * 32, seq=1, event_type=CaseEventType.OPENED,
                       command_id="o", actor="platform", at_utc="2024-03-01T12:00:00.000000Z")
    case = fold([opened])
    for command in (Claim(case.case_id, "c", "ann", 1), Resolve(case.case_id, "r", "ann", 2,
                                                                "abuse", "x")):
        events = handle(case, command, at_utc="2024-03-02T12:00:00.000000Z",
                        policy=CasePolicy())
        assert isinstance(events, list)
        case = fold([*case.events, *events])
    bad = {flow for flow, row in truth.items() if row.is_fraud_or_abuse}
    health = label_health(assertions, [case, fold([opened.model_copy(
        update={"case_id": "d" * 32})])], outcomes, bad)
    assert health.coverage == (("APPROVE", 2, 1), ("DECLINE", 1, 1))
    assert health.label_events == 4
    assert (health.time_to_label_h_p50, health.time_to_label_h_p90) == (3.0, 10.0)  # 1,2,3,10 h
    assert (health.labelled_flows, health.overturned_flows) == (3, 1)
    assert health.cases_opened == 2
    assert health.cases_by_state == (("OPEN", 1), ("RESOLVED", 1))
    assert health.resolved_by_verdict == (("abuse", 1),)


def test_the_summary_prints_label_health() -> None:
    from dataclasses import replace

    from app.reporting.sections import summary_sections
    from tests.unit.reporting.test_summary import Run  # the suite's small summarised run

    health = label_health([make_label_assertion(1)], [], {FLOW(1): "DECLINE"}, {FLOW(1)})
    summary = replace(Run().summary(), labels=health)
    [section] = [s for s in summary_sections(summary) if s.title == "Labels and cases"]
    assert section.rows == (("DECLINE", "1", "1", "100.0%"),)
    assert any("cases opened: 0" in n for n in section.notes)
