"""The bus-only check of "exactly one decision per admitted trigger"."""

from __future__ import annotations

import orjson

from app.conformance.decision_coverage import check_decision_coverage
from app.rails.watermark import END_MICROS, watermark_at, watermark_value


def _event(event_id: str, event_type: str = "auth_request", run_id: str = "r1") -> bytes:
    return orjson.dumps({"event_id": event_id, "event_type": event_type, "run_id": run_id})


def _decision(event_id: str, run_id: str = "r1") -> bytes:
    return orjson.dumps({"record_type": "decision", "pins": {"run_id": run_id},
                         "trigger": {"event_id": event_id}})


def test_exactly_one_decision_each_is_ok() -> None:
    coverage = check_decision_coverage([_event("a"), _event("b"), _event("c", "clearing")],
                                       [_decision("a"), _decision("b"),
                                        orjson.dumps({"record_type": "outcome"})])
    assert coverage.ok and coverage.triggers == 2 and coverage.decisions == 2
    assert coverage.lines()[-1].startswith("OK")


def test_every_kind_of_violation_is_named() -> None:
    coverage = check_decision_coverage(
        [_event("a"), _event("b"), _event("c", "clearing")],
        [_decision("a"), _decision("a"), _decision("c"), _decision("zz"), b"{not json"])
    assert not coverage.ok
    assert coverage.missing == ("b",)
    assert coverage.repeated == ("a",)
    assert coverage.for_non_triggers == ("c",)
    assert coverage.unknown_triggers == ("zz",)
    assert coverage.unreadable == 1
    assert coverage.lines()[-1] == "VIOLATED"


def test_other_runs_are_ignored_when_a_run_is_named() -> None:
    coverage = check_decision_coverage([_event("a"), _event("x", run_id="r2")],
                                       [_decision("a"), _decision("x", run_id="r2")],
                                       run_id="r1")
    assert coverage.ok and coverage.triggers == 1 and coverage.decisions == 1


def test_watermark_records_are_neither_triggers_nor_other_events() -> None:
    """#12: IG's watermark records share the traffic log; coverage skips them by record_type."""
    mark = watermark_value(watermark_at("ab" * 16, 0, 2, END_MICROS))
    for run_id in (None, "ab" * 16):
        coverage = check_decision_coverage([_event("a", run_id="ab" * 16), mark],
                                           [_decision("a", run_id="ab" * 16)], run_id=run_id)
        assert coverage.ok and coverage.triggers == 1


def test_the_trigger_types_are_the_policys() -> None:
    """Issue #15: an imported world's transactions trigger when the policy says so."""
    traffic = [_event("a", "card_transaction"), _event("b", "card_transaction_label")]
    rtdl = [_decision("a")]
    assert check_decision_coverage(
        traffic, rtdl, trigger_types=("auth_request", "card_transaction")).ok
    default = check_decision_coverage(traffic, rtdl)
    assert default.for_non_triggers == ("a",) and not default.ok
