"""AL's pure rules: which intents may run, how long to back off, and how an intent ended.

No I/O and no clock: an outcome is a function of the decision, the intent, the executor's
answers and the live policy. ``ts_utc`` is the trigger's event time.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.al.executor import ExecutionReply
from app.al.policy import KillSwitch, RetryPolicy
from app.rails.action import (
    ActionOutcome,
    AttemptResult,
    ExecutionAttempt,
    OutcomeStatus,
    outcome_id_of,
)
from app.rails.decision import ActionIntent
from app.rails.decision_view import Decided
from app.rails.ids import action_idempotency_key
from app.rails.policy_rev import PolicyRev
from app.rails.reason_codes import ReasonCode

__all__ = ["Execution", "Verdict", "attempt_of", "backoff_ms", "conclude", "outcome_of", "triage"]


@dataclass(frozen=True, slots=True)
class Execution:
    """Every attempt at one intent and how the attempts ended.

    ``final`` is the answer that ended them (OK or REJECTED), None when they ran out;
    ``recovered_ref`` is a side effect the executor turned out to hold after they ran out (an
    attempt whose answer was lost had been performed).
    """

    attempts: tuple[ExecutionAttempt, ...]
    final: ExecutionReply | None
    recovered_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """How an intent ends without execution (DENIED, with a reason)."""

    reason: ReasonCode


def triage(record: Decided, intent: ActionIntent, kill_switch: KillSwitch) -> Verdict | None:
    """None when ``intent`` may be executed; else why it is DENIED.

    An intent that names another decision, or whose key is not H(run, decision, type), is never
    executed: its key could collide with another intent's side effect.
    """
    if intent.decision_id != record.decision_id:
        return Verdict(ReasonCode.INTENT_DECISION_MISMATCH)
    expected = action_idempotency_key(record.pins.run_id, record.decision_id, intent.action_type)
    if intent.action_id != expected:
        return Verdict(ReasonCode.INTENT_KEY_MISMATCH)
    if kill_switch.covers(intent.action_type):
        return Verdict(ReasonCode.KILL_SWITCH_ON)
    return None


def backoff_ms(retry_number: int, policy: RetryPolicy) -> int:
    """The wait before retry ``retry_number`` (1 = before attempt 2): exponential, capped."""
    if retry_number < 1:
        return 0
    return min(policy.backoff_max_ms, policy.backoff_initial_ms << (retry_number - 1))


def attempt_of(attempt: int, reply: ExecutionReply | None) -> ExecutionAttempt:
    """The record of one attempt (None = no answer in time)."""
    if reply is None:
        return ExecutionAttempt(attempt=attempt, result=AttemptResult.TIMEOUT,
                                reason_code=ReasonCode.EXECUTOR_TIMEOUT)
    return ExecutionAttempt(attempt=attempt, result=reply.result, reason_code=reply.reason_code)


def conclude(execution: Execution) -> tuple[OutcomeStatus, tuple[str, ...], str | None]:
    """(status, reason codes, side_effect_ref) of an executed intent."""
    final = execution.final
    if final is not None and final.result is AttemptResult.OK:
        reasons: tuple[str, ...] = (ReasonCode.ALREADY_EXECUTED,) if final.already_done else ()
        return OutcomeStatus.EXECUTED, reasons, final.side_effect_ref
    if final is not None and final.result is AttemptResult.REJECTED:
        return OutcomeStatus.FAILED, (ReasonCode.EXECUTOR_REJECTED,), None
    if execution.recovered_ref is not None:
        return OutcomeStatus.EXECUTED, (ReasonCode.ALREADY_EXECUTED,), execution.recovered_ref
    last = execution.attempts[-1].reason_code if execution.attempts else None
    reasons = (ReasonCode.RETRIES_EXHAUSTED,) + ((last,) if last else ())
    return OutcomeStatus.FAILED, reasons, None


def outcome_of(record: Decided, intent: ActionIntent, *, status: OutcomeStatus,
               reason_codes: tuple[str, ...], attempts: tuple[ExecutionAttempt, ...],
               side_effect_ref: str | None, executor: str, policy_rev: PolicyRev
               ) -> ActionOutcome:
    """The one outcome of ``intent``, pinned and timed like its decision's trigger."""
    return ActionOutcome(
        outcome_id=outcome_id_of(intent.action_id), action_id=intent.action_id,
        decision_id=record.decision_id, action_type=intent.action_type, pins=record.pins,
        trigger_event_id=record.trigger.event_id, ts_utc=record.trigger.ts_utc, status=status,
        reason_codes=reason_codes, attempts=attempts, side_effect_ref=side_effect_ref,
        executor=executor, policy_rev=policy_rev)
