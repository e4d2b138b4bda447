"""The progress bar and the run's verdict count IG's ADMIT, DUPLICATE and QUARANTINE apart, and a
run that admits nothing, or decides nothing while it has triggers, fails with its top reason
codes (issue #15 item 1)."""

from __future__ import annotations

from app.rails.receipts import IngestionReceipt
from app.reporting.drain import DrainTracker, run_failure
from app.reporting.progress import progress_line
from tests.unit.reporting.conftest import RUN_ID, bus, decision
from tests.unit.reporting.test_drain import receipt


def _quarantined(n: int, code: str) -> IngestionReceipt:
    return receipt(n, "QUARANTINE").model_copy(update={"reason_codes": (code,)})


def test_a_receipt_is_not_an_admission() -> None:
    t = DrainTracker(RUN_ID, 5, outcomes_expected=False, audit_expected=False)
    t.add_receipts([receipt(1), receipt(2, "DUPLICATE"), _quarantined(3, "EVENT_TYPE_UNKNOWN"),
                    _quarantined(4, "EVENT_TYPE_UNKNOWN"), _quarantined(5, "PAYLOAD_FIELD_TYPE")])
    p = t.progress()
    assert (p.rows_judged, p.admitted, p.duplicates, p.quarantined) == (4, 1, 1, 3)
    assert p.quarantine_reasons == (("EVENT_TYPE_UNKNOWN", 2), ("PAYLOAD_FIELD_TYPE", 1))
    assert "judged 4/5 (admit 1, duplicate 1, quarantine 3)" in progress_line(p)


def test_every_event_type_in_the_triggers_policy_waits_for_a_decision() -> None:
    t = DrainTracker(RUN_ID, 3, outcomes_expected=False, audit_expected=False,
                     triggers=("auth_request", "card_transaction"))
    t.add_receipts([receipt(1, event_type="card_transaction"), receipt(2),
                    receipt(3, event_type="card_transaction_label")])
    assert t.progress().admitted_auths == 2 and not t.progress().drained
    t.add_rtdl([bus(decision("f1"), 1), bus(decision("f2"), 2)])
    assert t.progress().drained


def test_a_run_that_admits_nothing_fails_naming_its_top_reason_codes() -> None:
    t = DrainTracker(RUN_ID, 3000, outcomes_expected=False, audit_expected=False)
    t.add_receipts([_quarantined(n, "EVENT_TYPE_UNKNOWN") for n in range(3000)])
    assert t.progress().drained  # every row judged: "drained" alone would call it a success
    assert run_failure(t.progress(), has_triggers=True) == (
        "NOTHING_ADMITTED", "0 of 3,000 admitted; QUARANTINE EVENT_TYPE_UNKNOWN 3,000")


def test_a_run_with_triggers_that_decides_nothing_fails() -> None:
    t = DrainTracker(RUN_ID, 2, outcomes_expected=False, audit_expected=False,
                     triggers=("card_transaction",))
    t.add_receipts([receipt(1, event_type="clearing"), _quarantined(2, "PAYLOAD_FIELD_TYPE")])
    code, message = run_failure(t.progress(), has_triggers=True) or ("", "")
    assert code == "NOTHING_DECIDED"
    assert message == ("1 of 2 admitted, 0 of them triggers, none decided; "
                       "QUARANTINE PAYLOAD_FIELD_TYPE 1")


def test_a_run_that_decided_or_has_no_triggers_has_not_failed() -> None:
    t = DrainTracker(RUN_ID, 1, outcomes_expected=False, audit_expected=False)
    t.add_receipts([receipt(1, event_type="clearing")])
    assert run_failure(t.progress(), has_triggers=False) is None
    t = DrainTracker(RUN_ID, 1, outcomes_expected=False, audit_expected=False)
    t.add_receipts([receipt(1)])
    t.add_rtdl([bus(decision("f1"), 1)])
    assert run_failure(t.progress(), has_triggers=True) is None
