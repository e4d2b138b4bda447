"""DF's policy: guardrails, the conservative outcomes, bundle scope and fallback.

Embedded in the profile as ``policy.decision``. Guardrails are the bank's hard rules: they can
only *raise* friction above what the model says, and under RULES_ONLY they are all that decides.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.rails.condition import Condition
from app.rails.envelope import EventType

__all__ = ["ConservativeOutcome", "DecisionPolicy", "Guardrail"]

_Closed = ConfigDict(extra="forbid", frozen=True)

ConservativeOutcome = Literal["STEP_UP", "REVIEW", "DECLINE"]
"""An outcome that is never APPROVE: what FAIL_CLOSED and incomplete snapshots fall back to."""


class Guardrail(Condition):
    """``if <feature> <op> <value> then at least <outcome>`` with a reason code.

    The condition part is the one scorecard rules use (:class:`app.rails.condition.Condition`):
    the same validation, the same evaluation (:meth:`~app.rails.condition.Condition.holds`).
    """

    model_config = _Closed

    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    outcome: ConservativeOutcome
    reason_code: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,63}$")]


class DecisionPolicy(BaseModel):
    """How DF turns a snapshot, a bundle and a posture into an outcome."""

    model_config = _Closed

    scope: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")] = Field(
        description="Registry scope whose ACTIVE bundle scores authorisations.")
    on_unusable_bundle: Literal["bootstrap", "fail_closed"] = Field(
        description="When the ACTIVE bundle is missing or incompatible: score with the bootstrap "
                    "scorecard (reason BUNDLE_FALLBACK), or decide without a model.")
    fail_closed_outcome: ConservativeOutcome = Field(
        description="The outcome of every decision under FAIL_CLOSED (never APPROVE).")
    incomplete_snapshot_outcome: ConservativeOutcome = Field(
        description="Least friction for a trigger later than the allowed lateness.")
    allowed_lateness_s: float = Field(
        gt=0, description="How far behind the feature watermark a trigger may be and still get "
                          "exact features.")
    max_clock_advance_s: float = Field(
        default=900.0, gt=0,
        description="How far (event-time seconds) one applied event may move the event-time "
                    "clock of a hot-path shard (the watermark behind eviction and the lateness "
                    "judgement); an event further ahead is applied at its own time but moves the "
                    "clock only this far (app/hotpath/event_clock.py). At most allowed_lateness_s, "
                    "so one event can neither make a trigger late nor evict what one needs.")
    registry_refresh_s: float = Field(
        gt=0, description="How often a worker re-resolves the ACTIVE bundle (wall clock).")
    guardrails: tuple[Guardrail, ...] = Field(
        description="Hard rules, evaluated in order; each can only raise the outcome.")
    triggers: tuple[EventType, ...] = Field(
        default=("auth_request",), min_length=1,
        description="Event types that trigger a decision (one per admitted event): the "
                    "generated world's auth_request, plus an imported world's transaction "
                    "event type (e.g. card_transaction). Unique; never a label feed's type.")

    @model_validator(mode="after")
    def _unique_triggers(self) -> DecisionPolicy:
        if len(set(self.triggers)) != len(self.triggers):
            raise ValueError("decision triggers must be unique")
        if "label_event" in self.triggers:
            raise ValueError("label_event is a label feed, never a decision trigger")
        return self

    @model_validator(mode="after")
    def _unique_guardrails(self) -> DecisionPolicy:
        names = [g.name for g in self.guardrails]
        if len(set(names)) != len(names):
            raise ValueError("guardrail names must be unique")
        return self

    @model_validator(mode="after")
    def _clock_advance_within_lateness(self) -> DecisionPolicy:
        if self.max_clock_advance_s > self.allowed_lateness_s:
            raise ValueError("max_clock_advance_s must not exceed allowed_lateness_s")
        return self
