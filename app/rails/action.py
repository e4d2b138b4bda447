"""AL's action outcome: exactly one terminal outcome per action intent, on ``fp.bus.rtdl.v1``.

This module owns the contract for what happened to an intent (DESIGN sections 6 and 10). An
outcome says how the intent ended (``status``: EXECUTED, DENIED or FAILED), why (``reason_codes``),
through which attempts (``attempts``, each with its own result and reason, all under the same
idempotency key), and which side effect the executor holds for it (``side_effect_ref``).

``outcome_id`` = H(action_id): one id per intent, so a second outcome for the same intent is
visible as a repeated id to anyone reading the topic, and consumers dedupe on it. The record
carries no wall clock: ``ts_utc`` is the trigger's event time, so an outcome is a function of the
intent, the executor's answers and the policy in force.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.rails.decision import ActionType, DecisionReason
from app.rails.ids import Hex64, make_id
from app.rails.pins import ContextPins
from app.rails.policy_rev import PolicyRev
from app.rails.timefmt import TsUtc

__all__ = [
    "ActionOutcome",
    "AttemptResult",
    "ExecutionAttempt",
    "OutcomeStatus",
    "outcome_id_of",
]

_Closed = ConfigDict(extra="forbid", frozen=True)


class OutcomeStatus(StrEnum):
    """How an intent ended. Values are wire contracts."""

    EXECUTED = "EXECUTED"
    DENIED = "DENIED"
    FAILED = "FAILED"


class AttemptResult(StrEnum):
    """What one execution attempt got back from the executor. Values are wire contracts."""

    OK = "OK"
    """The executor performed the side effect (or already held it under this key)."""
    TIMEOUT = "TIMEOUT"
    ERROR = "ERROR"
    """A transient error: retried with the same key."""
    REJECTED = "REJECTED"
    """A permanent refusal: no further attempts."""


class ExecutionAttempt(BaseModel):
    """One call to the executor under the intent's idempotency key."""

    model_config = _Closed

    attempt: Annotated[int, Field(ge=1)]
    result: AttemptResult
    reason_code: DecisionReason | None = None


class ActionOutcome(BaseModel):
    """The one terminal outcome of an action intent."""

    model_config = _Closed

    record_type: Literal["action_outcome"] = "action_outcome"
    schema_version: Literal["v1"] = "v1"
    outcome_id: Hex64 = Field(description="H(action_id): one outcome id per intent.")
    action_id: Hex64 = Field(description="The intent's idempotency key.")
    decision_id: Hex64
    action_type: ActionType
    pins: ContextPins
    trigger_event_id: Hex64
    ts_utc: TsUtc = Field(description="The trigger's event time (no wall clock).")
    status: OutcomeStatus
    reason_codes: tuple[DecisionReason, ...]
    attempts: tuple[ExecutionAttempt, ...] = Field(
        description="Every executor call in order; empty when the intent was never executed.")
    side_effect_ref: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = (
        Field(description="The executor's reference for the side effect (EXECUTED only)."))
    executor: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
    policy_rev: PolicyRev


def outcome_id_of(action_id: str) -> str:
    """The outcome id of an intent: one per ``action_id``."""
    return make_id("action_outcome", action_id)
