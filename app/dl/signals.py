"""Health signals and the posture they ask for: the input side of the degrade ladder.

This module owns the mapping from one set of measurements to the most restrictive posture any of
them requires, with the reason codes that justify it. It has no memory and no clock: hysteresis is
the ladder's job (:mod:`app.dl.ladder`). A signal that was not measured yet (None) never pushes the
posture down, so a worker that just started is not degraded by the absence of data; missing
*postures* are handled on the DF side (:mod:`app.dl.posture_view`), where they fail closed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.dl.policy import DegradePolicy
from app.rails.errors import ContractError
from app.rails.posture import Posture
from app.rails.reason_codes import ReasonCode

__all__ = ["HealthSignals", "required_posture"]


@dataclass(frozen=True, slots=True)
class HealthSignals:
    """One reading of the hot path's health; None = not measured yet.

    Raises:
        ContractError: a measured value is negative, NaN or infinite. Such a value would compare
            false against every threshold and so silently hold the posture at NORMAL.
    """

    consumer_lag_events: int | None = None
    """Events the hot path's consumer is behind the traffic log."""
    feature_staleness_s: float | None = None
    """Seconds the feature/graph watermark has not advanced while traffic waits."""
    registry_resolved: bool | None = None
    """Whether the registry resolved a usable ACTIVE bundle; False asks for RULES_ONLY."""
    error_rate: float | None = None
    """Hot-path errors and anomalies per event (a share)."""
    quarantine_rate: float | None = None
    """Share of IG submissions quarantined."""

    def __post_init__(self) -> None:
        for name in ("consumer_lag_events", "feature_staleness_s", "error_rate",
                     "quarantine_rate"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not math.isfinite(value)
                                      or value < 0):
                raise ContractError(
                    f"HealthSignals.{name} must be a finite number >= 0 or None, got {value!r}"
                )


def required_posture(
    signals: HealthSignals, policy: DegradePolicy
) -> tuple[Posture, tuple[ReasonCode, ...]]:
    """The most restrictive posture any signal asks for, and the codes of the signals asking.

    Only the signals that ask for the returned posture are named (a lag that merely asks for
    DEGRADED is not a reason for FAIL_CLOSED). Codes are sorted, so equal inputs give equal
    output. NORMAL comes with no codes. ``policy.pinned`` is not applied here: pinning is a
    property of the ladder, while this function reports what the health actually asks for.
    """
    asks: list[tuple[Posture, ReasonCode]] = []
    measured = (
        (signals.consumer_lag_events, policy.consumer_lag_events, ReasonCode.CONSUMER_LAG_HIGH),
        (signals.feature_staleness_s, policy.feature_staleness_s, ReasonCode.FEATURES_STALE),
        (signals.error_rate, policy.error_rate, ReasonCode.ERROR_RATE_HIGH),
        (signals.quarantine_rate, policy.quarantine_rate, ReasonCode.QUARANTINE_RATE_HIGH),
    )
    for value, thresholds, code in measured:
        if value is not None:
            asks.append((thresholds.posture_for(value), code))
    if signals.registry_resolved is False:
        asks.append((Posture.RULES_ONLY, ReasonCode.BUNDLE_UNRESOLVED))
    worst = max((posture for posture, _ in asks), key=lambda p: p.level, default=Posture.NORMAL)
    if worst is Posture.NORMAL:
        return Posture.NORMAL, ()
    return worst, tuple(sorted({code for posture, code in asks if posture is worst}))
