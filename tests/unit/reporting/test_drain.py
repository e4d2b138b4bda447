"""Drain detection from the durable record (pure): what counts, what is missing, stalls."""

from __future__ import annotations

from typing import Any

from app.rails.ids import make_id
from app.rails.policy_rev import policy_rev_of
from app.rails.receipts import EbRef, IngestionReceipt, QuarantineRef
from app.reporting.drain import DrainTracker, StallWatch
from app.reporting.progress import progress_line
from tests.unit.reporting.conftest import (
    OTHER_PINS,
    PINS,
    RUN_ID,
    audit_of,
    bus,
    decision,
    outcomes_of,
)

_REV = policy_rev_of("reporting.test", "r1", {})


def receipt(n: int, kind: str = "ADMIT", event_type: str = "auth_request",
            pins: dict[str, Any] | None = None) -> IngestionReceipt:
    """The n-th receipt of the run (its event id is the trigger id of ``decision(f"f{n}")``)."""
    pins = pins or PINS.model_dump()
    event_id = make_id("test.trigger", pins["run_id"], f"f{n}")
    common: dict[str, Any] = {"receipt_id": make_id("test.receipt", n, kind, pins["run_id"]),
                              "decision": kind, "policy_rev": _REV,
                              "admitted_at_utc": "2026-11-24T00:00:00.000000Z"}
    if kind == "QUARANTINE":
        return IngestionReceipt(**common, reason_codes=("PAYLOAD_SCHEMA_INVALID",),
                                run_id=pins["run_id"], pins=pins, quarantine_ref=QuarantineRef(
                                    object_key=f"ig/quarantine/{n}",
                                    digest={"algo": "sha256", "hex": make_id("q", n)}))
    return IngestionReceipt(
        **common, reason_codes=("DUPLICATE_EVENT",) if kind == "DUPLICATE" else (),
        event_id=event_id, event_type=event_type, run_id=pins["run_id"], pins=pins,
        payload_hash=make_id("payload", n),
        eb_ref=EbRef(topic="fp.bus.traffic.v1", partition=0, offset=n))


def tracker(planned: int = 3, *, outcomes: bool = True, audit: bool = True) -> DrainTracker:
    return DrainTracker(RUN_ID, planned, outcomes_expected=outcomes, audit_expected=audit)


def test_drained_only_when_every_step_is_complete() -> None:
    t = tracker()
    t.add_receipts([receipt(1), receipt(2), receipt(3, event_type="clearing")])
    d1, d2 = decision("f1"), decision("f2", "REVIEW")
    t.add_rtdl([bus(d1, 1), bus(d2, 2)])
    assert t.progress().missing() == ["actions: 3 of 3 intents have no action_outcome on rtdl "
                                      "(is AL running?)",
                                      "audit: 2 of 2 decisions have no audit record "
                                      "(is DLA running?)"]
    o1, o2 = outcomes_of(d1), outcomes_of(d2)
    t.add_rtdl([bus(o, 3) for o in o1 + o2])
    t.add_audit([audit_of(d1, o1)])
    p = t.progress()
    assert not p.drained and p.missing() == [
        "audit: 1 of 2 decisions have no audit record (is DLA running?)"]
    t.add_audit([audit_of(d2, o2)])
    p = t.progress()
    assert p.drained and p.missing() == [] and p.fraction == 1.0
    assert (p.rows_judged, p.admitted_auths, p.decided, p.intents, p.outcomes, p.audited) == \
        (3, 2, 2, 3, 3, 2)


def test_not_streamed_yet_is_not_drained_even_when_decisions_caught_up() -> None:
    t = tracker(planned=10, outcomes=False, audit=False)
    t.add_receipts([receipt(1)])
    t.add_rtdl([bus(decision("f1"), 1)])
    p = t.progress()
    assert not p.drained
    assert p.missing() == ["admission: 9 of 10 planned rows have no IG receipt"]


def test_quarantine_counts_as_judged_duplicate_does_not() -> None:
    t = tracker(planned=2, outcomes=False, audit=False)
    t.add_receipts([receipt(1), receipt(1, "DUPLICATE"), receipt(2, "QUARANTINE")])
    t.add_rtdl([bus(decision("f1"), 1)])
    p = t.progress()
    assert (p.rows_judged, p.admitted_auths, p.drained) == (2, 1, True)


def test_steps_not_expected_are_skipped_not_counted_as_missing() -> None:
    t = tracker(planned=1, outcomes=False, audit=False)
    t.add_receipts([receipt(1)])
    t.add_rtdl([bus(decision("f1"), 1)])
    p = t.progress()
    assert p.drained and p.intents == 1 and p.outcomes == 0
    assert progress_line(p).endswith("outcomes n/a  audit n/a")


def test_repeated_records_and_other_runs_change_nothing() -> None:
    t = tracker(planned=1, outcomes=True, audit=False)
    t.add_receipts([receipt(1), receipt(1), receipt(5, pins=OTHER_PINS.model_dump())])
    d = decision("f1")
    t.add_rtdl([bus(d, 1), bus(d, 1), bus(decision("f1", pins=OTHER_PINS), 1),
                *(bus(o, 2) for o in outcomes_of(decision("f1", pins=OTHER_PINS)))])
    p = t.progress()
    assert (p.rows_judged, p.admitted_auths, p.decisions, p.decided, p.outcomes) == (1, 1, 1, 1, 0)
    assert not p.drained


def test_a_decision_for_an_event_never_admitted_does_not_count_as_decided() -> None:
    t = tracker(planned=1, outcomes=False, audit=False)
    t.add_receipts([receipt(1)])
    t.add_rtdl([bus(decision("f7"), 1)])
    assert (t.progress().decided, t.progress().decisions) == (0, 1)


def test_progress_fraction_weighs_every_expected_step() -> None:
    t = tracker(planned=4)
    t.add_receipts([receipt(1), receipt(2)])  # 2 of 4 rows, 0 of 2 decisions
    assert t.progress().fraction == 2 / 6
    assert "judged 2/4 (admit 2, duplicate 0, quarantine 0)  decided 0/2  outcomes 0/0  " \
        "audited 0/0" in progress_line(t.progress())


def test_stall_watch_fires_only_after_stall_s_without_change() -> None:
    clock = [100.0]
    watch = StallWatch(10.0, lambda: clock[0])
    assert not watch.stalled(("a",))
    clock[0] = 109.0
    assert not watch.stalled(("a",))
    clock[0] = 111.0
    assert watch.stalled(("a",)) and watch.idle_s() == 11.0
    assert not watch.stalled(("b",))  # progress resets the clock
    clock[0] = 120.0
    assert not watch.stalled(("b",))
