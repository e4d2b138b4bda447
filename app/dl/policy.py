"""The degrade policy: when health signals push the posture down and when it may come back.

This module owns the knobs of the degrade ladder (DESIGN section 6), embedded in the profile as
``policy.degrade``. Every threshold must be written in the profile: a hidden default would let a
posture change that no reviewer ever saw in the policy diff (and its digest). ``pinned`` exists for
deterministic replay, where the posture must not depend on the replaying machine's health.
"""

from __future__ import annotations

from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.rails.posture import Posture

__all__ = ["DegradePolicy", "Thresholds"]

_Closed = ConfigDict(extra="forbid", frozen=True)

_LEVELS = ("degraded", "rules_only", "fail_closed")


class Thresholds(BaseModel):
    """Signal values at or above which the ladder asks for each posture; None = never that one.

    Values are non-decreasing from ``degraded`` to ``fail_closed`` (ignoring None), so a worse
    signal can never ask for a milder posture. The unit is that of the signal it guards.
    """

    model_config = _Closed

    degraded: float | None = Field(
        gt=0, description="At or above this value: DEGRADED (no graph features); None = never."
    )
    rules_only: float | None = Field(
        gt=0, description="At or above this value: RULES_ONLY (no model); None = never."
    )
    fail_closed: float | None = Field(
        gt=0, description="At or above this value: FAIL_CLOSED (never approve); None = never."
    )

    @model_validator(mode="after")
    def _non_decreasing(self) -> Thresholds:
        set_levels = [(name, getattr(self, name)) for name in _LEVELS
                      if getattr(self, name) is not None]
        for (low_name, low), (high_name, high) in pairwise(set_levels):
            if high < low:
                raise ValueError(
                    f"thresholds must be non-decreasing: {high_name}={high:g} is below "
                    f"{low_name}={low:g}"
                )
        return self

    def posture_for(self, value: float) -> Posture:
        """The most restrictive posture whose threshold ``value`` reaches; NORMAL if none."""
        for name, posture in (("fail_closed", Posture.FAIL_CLOSED),
                              ("rules_only", Posture.RULES_ONLY),
                              ("degraded", Posture.DEGRADED)):
            threshold = getattr(self, name)
            if threshold is not None and value >= threshold:
                return posture
        return Posture.NORMAL


class DegradePolicy(BaseModel):
    """How DL turns health signals into a posture (``policy.degrade`` in the profile).

    A profile holds for example::

        degrade:
          pinned: null
          quiet_period_s: 30
          max_posture_age_s: 10
          consumer_lag_events: {degraded: 20000, rules_only: 100000, fail_closed: null}
          feature_staleness_s: {degraded: 60, rules_only: 300, fail_closed: null}
          error_rate: {degraded: 0.02, rules_only: 0.10, fail_closed: 0.50}
          quarantine_rate: {degraded: 0.20, rules_only: null, fail_closed: null}

    An unresolvable registry asks for RULES_ONLY at least; that is fixed, not a knob, because
    without a bundle there is no model to run whatever the policy says.
    """

    model_config = _Closed

    pinned: Posture | None = Field(
        default=None,
        description="When set, the ladder always answers this posture and ignores signals "
        "(deterministic replay); None = follow the signals.",
    )
    quiet_period_s: float = Field(
        gt=0,
        description="Seconds every signal must stay below the current posture before the ladder "
        "upgrades one level; each upgrade restarts it. E.g. 30.",
    )
    max_posture_age_s: float = Field(
        gt=0,
        description="Seconds after which DF treats a posture stamp as stale (FAIL_CLOSED). "
        "E.g. 10; keep it above DL's publish interval.",
    )
    consumer_lag_events: Thresholds = Field(
        description="Hot-path consumer lag behind the traffic log, in events. "
        "E.g. 20000 / 100000 / null."
    )
    feature_staleness_s: Thresholds = Field(
        description="Seconds the feature/graph watermark has not advanced while traffic waits. "
        "E.g. 60 / 300 / null."
    )
    error_rate: Thresholds = Field(
        description="Hot-path errors and anomalies per event, as a share in (0, 1]. "
        "E.g. 0.02 / 0.10 / 0.50."
    )
    quarantine_rate: Thresholds = Field(
        description="Share of IG submissions quarantined, in (0, 1]. E.g. 0.20 / null / null."
    )

    @field_validator("error_rate", "quarantine_rate")
    @classmethod
    def _shares_at_most_one(cls, value: Thresholds) -> Thresholds:
        # A share above 1 can never be reached: the level would silently never trigger.
        for name in _LEVELS:
            threshold = getattr(value, name)
            if threshold is not None and threshold > 1:
                raise ValueError(f"{name}={threshold:g} is a share of events and must be <= 1")
        return value
