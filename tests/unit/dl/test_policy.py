"""DegradePolicy: every threshold written out, validated, with errors naming the dotted field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.dl.policy import DegradePolicy, Thresholds
from app.rails.posture import Posture


def policy_fields(**overrides: Any) -> dict[str, Any]:
    """A valid ``policy.degrade`` body, as a profile would hold it."""
    return {
        "pinned": None,
        "quiet_period_s": 30,
        "max_posture_age_s": 10,
        "consumer_lag_events": {"degraded": 20000, "rules_only": 100000, "fail_closed": None},
        "feature_staleness_s": {"degraded": 60, "rules_only": 300, "fail_closed": None},
        "error_rate": {"degraded": 0.02, "rules_only": 0.10, "fail_closed": 0.50},
        "quarantine_rate": {"degraded": 0.20, "rules_only": None, "fail_closed": None},
    } | overrides


def first_error(body: dict[str, Any]) -> tuple[str, str, str]:
    """(dotted path, error type, message) of the first validation error, as the loader shows it."""
    with pytest.raises(ValidationError) as caught:
        DegradePolicy.model_validate(body)
    first = caught.value.errors()[0]
    return ".".join(str(part) for part in first["loc"]), first["type"], first["msg"]


def test_valid_policy_loads_with_thresholds_as_given() -> None:
    policy = DegradePolicy.model_validate(policy_fields())
    assert policy.pinned is None
    assert policy.consumer_lag_events == Thresholds(
        degraded=20000, rules_only=100000, fail_closed=None
    )


def test_pinned_accepts_a_posture_value() -> None:
    assert DegradePolicy.model_validate(policy_fields(pinned="RULES_ONLY")).pinned is (
        Posture.RULES_ONLY
    )


def test_decreasing_thresholds_fail_naming_the_field_and_levels() -> None:
    body = policy_fields(
        consumer_lag_events={"degraded": 20000, "rules_only": 10000, "fail_closed": None}
    )
    path, _, msg = first_error(body)
    assert path == "consumer_lag_events"
    assert "rules_only=10000 is below degraded=20000" in msg


def test_order_is_checked_across_a_none_level() -> None:
    body = policy_fields(error_rate={"degraded": 0.2, "rules_only": None, "fail_closed": 0.1})
    path, _, msg = first_error(body)
    assert path == "error_rate"
    assert "fail_closed=0.1 is below degraded=0.2" in msg


def test_equal_thresholds_are_allowed() -> None:
    body = policy_fields(error_rate={"degraded": 0.1, "rules_only": 0.1, "fail_closed": 0.1})
    assert DegradePolicy.model_validate(body).error_rate.fail_closed == 0.1


def test_non_positive_threshold_fails_with_dotted_path() -> None:
    body = policy_fields(
        feature_staleness_s={"degraded": 0, "rules_only": 300, "fail_closed": None}
    )
    path, kind, _ = first_error(body)
    assert (path, kind) == ("feature_staleness_s.degraded", "greater_than")


def test_a_threshold_level_left_out_is_an_error_not_a_default() -> None:
    body = policy_fields(error_rate={"degraded": 0.02, "rules_only": 0.10})
    assert first_error(body)[:2] == ("error_rate.fail_closed", "missing")


def test_a_signal_left_out_is_an_error_not_a_default() -> None:
    body = policy_fields()
    del body["quarantine_rate"]
    assert first_error(body)[:2] == ("quarantine_rate", "missing")


@pytest.mark.parametrize("field", ["quiet_period_s", "max_posture_age_s"])
def test_periods_must_be_given_and_positive(field: str) -> None:
    assert first_error(policy_fields(**{field: 0}))[:2] == (field, "greater_than")
    body = policy_fields()
    del body[field]
    assert first_error(body)[:2] == (field, "missing")


@pytest.mark.parametrize("field", ["error_rate", "quarantine_rate"])
def test_share_thresholds_above_one_fail(field: str) -> None:
    body = policy_fields(**{field: {"degraded": 0.5, "rules_only": 1.5, "fail_closed": None}})
    path, _, msg = first_error(body)
    assert path == field
    assert "rules_only=1.5" in msg


def test_unknown_keys_are_errors() -> None:
    body = policy_fields(
        consumer_lag_events={"degraded": 1, "rules_only": 2, "fail_closed": 3, "critical": 4}
    )
    assert first_error(body)[:2] == ("consumer_lag_events.critical", "extra_forbidden")
    assert first_error(policy_fields(hold_s=5))[:2] == ("hold_s", "extra_forbidden")


def test_unknown_pinned_posture_is_an_error() -> None:
    assert first_error(policy_fields(pinned="PANIC"))[:2] == ("pinned", "enum")


def test_policy_is_frozen() -> None:
    policy = DegradePolicy.model_validate(policy_fields())
    with pytest.raises(ValidationError):
        policy.quiet_period_s = 5  # type: ignore[misc]  # the point of the test


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, Posture.NORMAL),
        (0.0199, Posture.NORMAL),
        (0.02, Posture.DEGRADED),
        (0.10, Posture.RULES_ONLY),
        (0.50, Posture.FAIL_CLOSED),
        (1.0, Posture.FAIL_CLOSED),
    ],
)
def test_posture_for_triggers_at_the_threshold_itself(value: float, expected: Posture) -> None:
    thresholds = Thresholds(degraded=0.02, rules_only=0.10, fail_closed=0.50)
    assert thresholds.posture_for(value) is expected


def test_none_levels_are_never_asked_for() -> None:
    assert Thresholds(degraded=None, rules_only=None, fail_closed=None).posture_for(1e12) is (
        Posture.NORMAL
    )
    assert Thresholds(degraded=10, rules_only=None, fail_closed=None).posture_for(1e12) is (
        Posture.DEGRADED
    )
