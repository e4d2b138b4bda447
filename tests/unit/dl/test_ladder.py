"""DegradeLadder: downgrade at once, upgrade one level per unbroken quiet period, pin for replay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from app.dl.ladder import DegradeLadder, PostureTransition, transition_fact
from app.dl.policy import DegradePolicy
from app.dl.posture_view import PostureStamp
from app.dl.signals import HealthSignals
from app.rails.errors import ContractError
from app.rails.governance import FactType, GovernanceFact
from app.rails.policy_rev import policy_rev_of
from app.rails.posture import Posture
from app.rails.reason_codes import ReasonCode as RC
from tests.unit.dl.test_policy import policy_fields

N, D, R, F = Posture.NORMAL, Posture.DEGRADED, Posture.RULES_ONLY, Posture.FAIL_CLOSED
QUIET_S = 30.0
HEALTHY = HealthSignals(consumer_lag_events=0, feature_staleness_s=0.0, registry_resolved=True,
                        error_rate=0.0, quarantine_rate=0.0)
LAGGING = HealthSignals(consumer_lag_events=25000)          # asks DEGRADED
NO_BUNDLE = HealthSignals(registry_resolved=False)          # asks RULES_ONLY
ERRORS = HealthSignals(error_rate=0.6)                      # asks FAIL_CLOSED

Step = tuple[float, Posture, Posture, tuple[RC, ...]]


def make_ladder(start: Posture = N, **policy_overrides: Any) -> DegradeLadder:
    policy = DegradePolicy.model_validate(policy_fields(quiet_period_s=QUIET_S,
                                                        **policy_overrides))
    return DegradeLadder(policy, scope="df.worker-0", start=start)


def run(ladder: DegradeLadder, script: Iterable[tuple[float, HealthSignals]]) -> list[Step]:
    """Feed readings in order; the transitions as (at_s, from, to, reasons)."""
    steps = []
    for now_s, signals in script:
        t = ladder.observe(signals, now_s)
        if t is not None:
            steps.append((t.at_s, t.from_posture, t.to_posture, t.reason_codes))
    return steps


def every_second(signals: HealthSignals, start_s: int, end_s: int) -> list[tuple[float, Any]]:
    return [(float(s), signals) for s in range(start_s, end_s + 1)]


def test_walks_down_at_once_then_back_up_one_level_per_quiet_period() -> None:
    ladder = make_ladder()
    script = [(0.0, HEALTHY), (1.0, LAGGING), (2.0, NO_BUNDLE), (3.0, ERRORS),
              *every_second(HEALTHY, 4, 200)]
    assert run(ladder, script) == [
        (1.0, N, D, (RC.CONSUMER_LAG_HIGH,)),
        (2.0, D, R, (RC.BUNDLE_UNRESOLVED,)),
        (3.0, R, F, (RC.ERROR_RATE_HIGH,)),
        (34.0, F, R, (RC.SIGNALS_QUIET,)),   # quiet since 4.0
        (64.0, R, D, (RC.SIGNALS_QUIET,)),   # each step restarts the quiet timer
        (94.0, D, N, (RC.SIGNALS_QUIET,)),
    ]
    assert (ladder.posture, ladder.since_s) == (N, 94.0)


def test_downgrade_skips_levels() -> None:
    ladder = make_ladder()
    assert run(ladder, [(0.0, HEALTHY), (5.0, ERRORS)]) == [(5.0, N, F, (RC.ERROR_RATE_HIGH,))]


def test_a_blip_at_the_current_level_restarts_the_quiet_period() -> None:
    ladder = make_ladder()
    script = [(0.0, LAGGING), *every_second(HEALTHY, 1, 25), (26.0, LAGGING),
              *every_second(HEALTHY, 27, 100)]
    assert run(ladder, script) == [
        (0.0, N, D, (RC.CONSUMER_LAG_HIGH,)),
        (57.0, D, N, (RC.SIGNALS_QUIET,)),   # quiet again from 27.0, not from 1.0
    ]


def test_a_blip_below_the_current_level_does_not_restart_the_quiet_period() -> None:
    ladder = make_ladder()
    script = [(0.0, NO_BUNDLE), *every_second(HEALTHY, 1, 15), (16.0, LAGGING),
              *every_second(HEALTHY, 17, 40)]
    assert run(ladder, script)[1] == (31.0, R, D, (RC.SIGNALS_QUIET,))


def test_upgrades_stop_at_the_posture_the_signals_still_ask_for() -> None:
    ladder = make_ladder()
    script = [(0.0, ERRORS), *every_second(LAGGING, 1, 500)]
    assert run(ladder, script) == [
        (0.0, N, F, (RC.ERROR_RATE_HIGH,)),
        (31.0, F, R, (RC.SIGNALS_QUIET,)),
        (61.0, R, D, (RC.SIGNALS_QUIET,)),
    ]
    assert ladder.posture is D


def test_sparse_readings_upgrade_only_once_per_reading() -> None:
    ladder = make_ladder()
    # The quiet run starts at the first quiet reading; a long gap then earns a single step.
    assert run(ladder, [(0.0, ERRORS), (1.0, HEALTHY), (1000.0, HEALTHY)]) == [
        (0.0, N, F, (RC.ERROR_RATE_HIGH,)),
        (1000.0, F, R, (RC.SIGNALS_QUIET,)),
    ]


def test_unmeasured_signals_never_downgrade() -> None:
    ladder = make_ladder()
    assert run(ladder, every_second(HealthSignals(), 0, 100)) == []
    assert ladder.posture is N


def test_unmeasured_signals_count_as_quiet_for_an_upgrade() -> None:
    ladder = make_ladder()
    steps = run(ladder, [(0.0, LAGGING), *every_second(HealthSignals(), 1, 31)])
    assert steps[-1] == (31.0, D, N, (RC.SIGNALS_QUIET,))


def test_pinned_moves_once_on_the_first_reading_then_ignores_signals() -> None:
    ladder = make_ladder(pinned="RULES_ONLY")
    script = [(0.0, HEALTHY), (1.0, ERRORS), *every_second(HEALTHY, 2, 300), (301.0, LAGGING)]
    assert run(ladder, script) == [(0.0, N, R, (RC.POSTURE_PINNED,))]
    assert ladder.posture is R


def test_pinned_to_the_start_posture_records_no_transition() -> None:
    ladder = make_ladder(start=F, pinned="FAIL_CLOSED")
    assert run(ladder, [(0.0, HEALTHY), *every_second(HEALTHY, 1, 100)]) == []
    assert ladder.posture is F


def test_start_posture_is_held_until_a_quiet_period_passes() -> None:
    ladder = make_ladder(start=F)
    assert ladder.since_s is None
    steps = run(ladder, every_second(HEALTHY, 10, 40))
    assert steps == [(40.0, F, R, (RC.SIGNALS_QUIET,))]


def test_clock_stepping_back_restarts_the_quiet_period() -> None:
    ladder = make_ladder()
    script = [(100.0, LAGGING), (101.0, HEALTHY), (120.0, HEALTHY), (50.0, HEALTHY),
              (79.0, HEALTHY), (80.0, HEALTHY)]
    assert run(ladder, script)[1:] == [(80.0, D, N, (RC.SIGNALS_QUIET,))]


def test_stamp_reports_the_posture_as_of_the_last_reading() -> None:
    ladder = make_ladder()
    assert ladder.stamp() is None
    run(ladder, [(0.0, LAGGING), (7.0, LAGGING)])
    assert ladder.stamp() == PostureStamp(posture=D, at_s=7.0)
    assert ladder.since_s == 0.0


@pytest.mark.parametrize("scope", ["", "x" * 129])
def test_scope_must_fit_a_governance_fact(scope: str) -> None:
    policy = DegradePolicy.model_validate(policy_fields())
    with pytest.raises(ContractError, match="scope"):
        DegradeLadder(policy, scope=scope)


def test_transition_fact_is_a_valid_governance_fact_with_a_deterministic_id() -> None:
    policy = DegradePolicy.model_validate(policy_fields())
    rev = policy_rev_of("fraud", "r1", {"degrade": policy.model_dump(mode="json")})
    transition = PostureTransition(from_posture=N, to_posture=R,
                                   reason_codes=(RC.BUNDLE_UNRESOLVED, RC.FEATURES_STALE),
                                   at_s=12.5)
    at_utc = "2024-03-01T12:00:00.000000Z"
    fact = transition_fact(transition, "df.worker-0", rev, at_utc)

    assert GovernanceFact.model_validate(fact.model_dump(mode="json")) == fact
    assert (fact.fact_type, fact.scope, fact.from_value, fact.to_value) == (
        FactType.POSTURE_CHANGED, "df.worker-0", "NORMAL", "RULES_ONLY")
    assert fact.reason_codes == ("BUNDLE_UNRESOLVED", "FEATURES_STALE")
    assert (fact.policy_rev, fact.at_utc) == (rev, at_utc)
    # Same content, same id (a re-emitted fact dedupes), whichever process clock observed it.
    same_elsewhere = PostureTransition(N, R, transition.reason_codes, at_s=99_999.0)
    assert transition_fact(same_elsewhere, "df.worker-0", rev, at_utc).fact_id == fact.fact_id
    # Any change of content, another id.
    assert transition_fact(transition, "df.worker-1", rev, at_utc).fact_id != fact.fact_id
    later = "2024-03-01T12:00:01.000000Z"
    assert transition_fact(transition, "df.worker-0", rev, later).fact_id != fact.fact_id
