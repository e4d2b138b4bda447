"""AL's policy: the kill switch and the retry discipline (``policy.action`` in a profile).

The kill switch is policy, not wiring: turning it on is a profile change with a new revision,
which workers pick up while running (``reload_s``) and record as a governance fact.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.rails.decision import ActionType

__all__ = ["ActionPolicy", "KillSwitch", "RetryPolicy"]

_Closed = ConfigDict(extra="forbid", frozen=True)


class KillSwitch(BaseModel):
    """When on, intents of the covered action types end DENIED (KILL_SWITCH_ON), unexecuted."""

    model_config = _Closed

    enabled: bool = False
    action_types: tuple[ActionType, ...] = Field(
        default=(), description="Action types it covers; empty = every action type.")
    reason: str = Field(default="", max_length=200,
                        description="Why it is on: copied to the governance fact.")

    @model_validator(mode="after")
    def _reason_when_on(self) -> KillSwitch:
        if self.enabled and not self.reason.strip():
            raise ValueError("a kill switch that is on needs a reason")
        return self

    def covers(self, action_type: ActionType) -> bool:
        """True when an intent of ``action_type`` must be DENIED."""
        return self.enabled and (not self.action_types or action_type in self.action_types)


class RetryPolicy(BaseModel):
    """Bounded retries with the same idempotency key, exponential backoff between attempts."""

    model_config = _Closed

    max_attempts: int = Field(default=3, ge=1, le=10)
    backoff_initial_ms: int = Field(default=20, ge=0, le=10_000)
    backoff_max_ms: int = Field(default=500, ge=0, le=60_000)
    attempt_timeout_ms: int = Field(default=2_000, gt=0, le=60_000,
                                    description="An attempt without an answer by then: TIMEOUT.")


class ActionPolicy(BaseModel):
    """Everything AL decides by policy."""

    model_config = _Closed

    kill_switch: KillSwitch = KillSwitch()
    retry: RetryPolicy = RetryPolicy()
    reload_s: float = Field(default=1.0, gt=0, le=300,
                            description="How often workers re-read the profile for a kill-switch "
                                        "change (seconds).")
