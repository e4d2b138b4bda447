"""Forced health signals walk DL through all four postures with hysteresis; DF obeys each.

The worker's DegradeMonitor is driven with a fake clock and forced signals; after every tick a
trigger is decided with the posture the monitor hands DF, exactly as the agent does.
"""

from __future__ import annotations

from app.dl.ladder import transition_fact
from app.hotpath.engine import DecisionContext
from app.profiles.loader import load_profile
from app.rails.decision import DecisionOutcome
from app.rails.governance import FactType
from app.rails.posture import Posture
from app.rails.reason_codes import ReasonCode
from app.registry.resolver import Resolution, bootstrap_pair
from app.runtime.degrade_monitor import DegradeMonitor
from tests.unit.hotpath.test_engine import engine, raw, step

POLICY = load_profile("local").policy


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_forced_signals_walk_all_postures_with_hysteresis_and_df_obeys() -> None:
    clock = Clock()
    monitor = DegradeMonitor(POLICY.degrade, scope="test-worker", now=clock)
    hot = engine()
    ref, bundle = bootstrap_pair()
    resolved = Resolution(bundle=bundle, ref=ref, reason_codes=())
    lag = POLICY.degrade.consumer_lag_events
    offset = 0
    seen: list[tuple[Posture, Posture]] = []
    facts = []

    def tick_and_decide(lag_events: int, errors: int = 0, events: int = 100) -> Posture:
        nonlocal offset
        monitor.note_batch(events, errors)
        transition = monitor.tick(lag_events=lag_events, registry_resolved=True)
        if transition is not None:
            facts.append(transition_fact(transition, scope="test-worker",
                                         policy_rev=load_profile("local").policy_rev,
                                         at_utc="2026-11-24T00:00:00.000000Z"))
        posture, reasons = monitor.current()
        record = step(hot, raw(offset), offset,
                      DecisionContext(posture=posture, posture_reasons=reasons,
                                      resolution=resolved)).decision
        offset += 1
        assert record is not None and record.posture is posture
        graph = [k for k in record.snapshot.values if k.startswith("graph.")]
        assert bool(graph) == posture.uses_graph          # no graph features unless NORMAL
        assert (record.score is not None) == posture.uses_model  # no model under RULES_ONLY+
        if posture is Posture.FAIL_CLOSED:
            assert record.outcome is not DecisionOutcome.APPROVE
            assert ReasonCode.POSTURE_FAIL_CLOSED in record.reason_codes
        seen.append((monitor.ladder.posture, posture))
        return posture

    assert tick_and_decide(0) is Posture.NORMAL
    assert lag.degraded is not None and lag.rules_only is not None
    assert tick_and_decide(int(lag.degraded)) is Posture.DEGRADED          # at once
    assert tick_and_decide(int(lag.rules_only)) is Posture.RULES_ONLY      # at once
    assert tick_and_decide(0, errors=90) is Posture.FAIL_CLOSED            # error rate 0.9
    quiet = POLICY.degrade.quiet_period_s
    clock.t += 1
    assert tick_and_decide(0) is Posture.FAIL_CLOSED           # the quiet period starts here
    clock.t += quiet / 2
    assert tick_and_decide(0) is Posture.FAIL_CLOSED           # not quiet long enough yet
    clock.t += quiet / 2 + 0.1
    assert tick_and_decide(0) is Posture.RULES_ONLY            # one step up, not straight home
    clock.t += quiet / 2
    assert tick_and_decide(int(lag.rules_only)) is Posture.RULES_ONLY  # a blip resets the timer
    clock.t += quiet / 2 + 0.1
    assert tick_and_decide(0) is Posture.RULES_ONLY            # quiet again: the timer restarts
    for expected in (Posture.DEGRADED, Posture.NORMAL):
        clock.t += quiet + 0.1
        assert tick_and_decide(0) is expected
    assert [f.to_value for f in facts] == ["DEGRADED", "RULES_ONLY", "FAIL_CLOSED",
                                           "RULES_ONLY", "DEGRADED", "NORMAL"]
    assert all(f.fact_type is FactType.POSTURE_CHANGED for f in facts)


def test_a_stale_posture_stamp_means_fail_closed() -> None:
    clock = Clock()
    monitor = DegradeMonitor(POLICY.degrade, scope="w", now=clock)
    assert monitor.current() == (Posture.FAIL_CLOSED, (ReasonCode.POSTURE_MISSING.value,))
    monitor.tick(lag_events=0, registry_resolved=True)
    assert monitor.current()[0] is Posture.NORMAL
    clock.t += POLICY.degrade.max_posture_age_s + 1
    assert monitor.current() == (Posture.FAIL_CLOSED, (ReasonCode.POSTURE_STALE.value,))
