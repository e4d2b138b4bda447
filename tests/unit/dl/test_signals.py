"""required_posture: the most restrictive ask wins, named by exactly the signals that asked."""

from __future__ import annotations

import math

import pytest

from app.dl.policy import DegradePolicy
from app.dl.signals import HealthSignals, required_posture
from app.rails.errors import ContractError
from app.rails.posture import Posture
from app.rails.reason_codes import ReasonCode as RC
from tests.unit.dl.test_policy import policy_fields

POLICY = DegradePolicy.model_validate(policy_fields())


def healthy(**overrides: object) -> HealthSignals:
    """Every signal measured and fine; override one per test."""
    fields: dict[str, object] = {"consumer_lag_events": 0, "feature_staleness_s": 0.0,
                                 "registry_resolved": True, "error_rate": 0.0,
                                 "quarantine_rate": 0.0}
    return HealthSignals(**(fields | overrides))  # type: ignore[arg-type]  # test factory


def test_healthy_signals_ask_for_normal_with_no_reasons() -> None:
    assert required_posture(healthy(), POLICY) == (Posture.NORMAL, ())


def test_unmeasured_signals_never_push_the_posture_down() -> None:
    assert required_posture(HealthSignals(), POLICY) == (Posture.NORMAL, ())


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"consumer_lag_events": 20000}, (Posture.DEGRADED, (RC.CONSUMER_LAG_HIGH,))),
        ({"consumer_lag_events": 10**9}, (Posture.RULES_ONLY, (RC.CONSUMER_LAG_HIGH,))),
        ({"feature_staleness_s": 300.0}, (Posture.RULES_ONLY, (RC.FEATURES_STALE,))),
        ({"error_rate": 0.5}, (Posture.FAIL_CLOSED, (RC.ERROR_RATE_HIGH,))),
        ({"quarantine_rate": 0.9}, (Posture.DEGRADED, (RC.QUARANTINE_RATE_HIGH,))),
        ({"registry_resolved": False}, (Posture.RULES_ONLY, (RC.BUNDLE_UNRESOLVED,))),
    ],
)
def test_each_signal_asks_for_its_posture_with_its_code(
    overrides: dict[str, object], expected: tuple[Posture, tuple[RC, ...]]
) -> None:
    assert required_posture(healthy(**overrides), POLICY) == expected


def test_only_signals_asking_for_the_worst_posture_are_named_sorted() -> None:
    signals = healthy(registry_resolved=False, feature_staleness_s=400.0,
                      consumer_lag_events=150000, quarantine_rate=0.5)
    assert required_posture(signals, POLICY) == (
        Posture.RULES_ONLY,
        (RC.BUNDLE_UNRESOLVED, RC.CONSUMER_LAG_HIGH, RC.FEATURES_STALE),
    )


def test_unresolved_registry_is_at_least_rules_only_even_with_lax_thresholds() -> None:
    lax = {"degraded": None, "rules_only": None, "fail_closed": None}
    policy = DegradePolicy.model_validate(policy_fields(
        consumer_lag_events=lax, feature_staleness_s=lax, error_rate=lax, quarantine_rate=lax))
    signals = healthy(registry_resolved=False, error_rate=1.0, consumer_lag_events=10**9)
    assert required_posture(signals, policy) == (Posture.RULES_ONLY, (RC.BUNDLE_UNRESOLVED,))


def test_pinned_policy_does_not_change_what_the_signals_ask_for() -> None:
    pinned = DegradePolicy.model_validate(policy_fields(pinned="FAIL_CLOSED"))
    assert required_posture(healthy(), pinned) == (Posture.NORMAL, ())


@pytest.mark.parametrize(
    ("field", "value"),
    [("consumer_lag_events", -1), ("feature_staleness_s", math.nan),
     ("error_rate", math.inf), ("quarantine_rate", -0.1), ("consumer_lag_events", True)],
)
def test_unusable_measurements_are_refused(field: str, value: object) -> None:
    with pytest.raises(ContractError, match=f"HealthSignals.{field}"):
        healthy(**{field: value})
