"""AL's pure rules: triage of intents, backoff bound, how attempts conclude, outcome fields."""

from __future__ import annotations

import pytest

from app.al.execute import Execution, backoff_ms, conclude, outcome_of, triage
from app.al.executor import ExecutionReply
from app.al.policy import KillSwitch, RetryPolicy
from app.rails.action import AttemptResult, ExecutionAttempt, OutcomeStatus, outcome_id_of
from app.rails.decision import ActionIntent, ActionType
from app.rails.reason_codes import ReasonCode
from tests.unit.al.conftest import POLICY_REV, MakeDecision

OFF = KillSwitch()


def test_a_valid_intent_may_be_executed(make_decision: MakeDecision) -> None:
    record = make_decision(1)
    assert triage(record, record.intents[0], OFF) is None


def test_an_intent_naming_another_decision_is_denied(make_decision: MakeDecision) -> None:
    record, other = make_decision(1), make_decision(2)
    verdict = triage(record, other.intents[0], OFF)
    assert verdict is not None and verdict.reason is ReasonCode.INTENT_DECISION_MISMATCH


def test_an_intent_whose_key_is_not_derived_from_run_decision_and_type_is_denied(
        make_decision: MakeDecision) -> None:
    record = make_decision(1)
    forged = record.intents[0].model_copy(update={"action_type": ActionType.DECLINE_AUTH})
    verdict = triage(record, forged, OFF)
    assert verdict is not None and verdict.reason is ReasonCode.INTENT_KEY_MISMATCH


@pytest.mark.parametrize(("types", "denied"), [
    ((), set(ActionType)),
    ((ActionType.DECLINE_AUTH,), {ActionType.DECLINE_AUTH}),
    ((ActionType.APPROVE_AUTH, ActionType.OPEN_CASE),
     {ActionType.APPROVE_AUTH, ActionType.OPEN_CASE}),
])
def test_the_kill_switch_denies_exactly_the_action_types_it_covers(
        make_decision: MakeDecision, types: tuple[ActionType, ...],
        denied: set[ActionType]) -> None:
    record = make_decision(1, *ActionType)
    on = KillSwitch(enabled=True, action_types=types, reason="incident 42")
    got = {i.action_type for i in record.intents
           if (v := triage(record, i, on)) is not None and v.reason is ReasonCode.KILL_SWITCH_ON}
    assert got == denied
    assert all(triage(record, i, OFF) is None for i in record.intents)


def test_a_mismatch_wins_over_the_kill_switch(make_decision: MakeDecision) -> None:
    record, other = make_decision(1), make_decision(2)
    on = KillSwitch(enabled=True, reason="incident")
    verdict = triage(record, other.intents[0], on)
    assert verdict is not None and verdict.reason is ReasonCode.INTENT_DECISION_MISMATCH


def test_backoff_doubles_from_the_initial_wait_and_never_exceeds_the_cap() -> None:
    policy = RetryPolicy(max_attempts=10, backoff_initial_ms=20, backoff_max_ms=100)
    assert [backoff_ms(n, policy) for n in range(0, 7)] == [0, 20, 40, 80, 100, 100, 100]
    assert backoff_ms(50, RetryPolicy(backoff_initial_ms=10_000, backoff_max_ms=60_000)) == 60_000


def _ok(already: bool = False) -> ExecutionReply:
    return ExecutionReply("k", AttemptResult.OK, side_effect_ref="sw_1", already_done=already,
                          reason_code=ReasonCode.ALREADY_EXECUTED if already else None)


TIMEOUT = ExecutionAttempt(attempt=1, result=AttemptResult.TIMEOUT,
                           reason_code=ReasonCode.EXECUTOR_TIMEOUT)


@pytest.mark.parametrize(("execution", "expected"), [
    (Execution((), _ok()), (OutcomeStatus.EXECUTED, (), "sw_1")),
    (Execution((), _ok(already=True)),
     (OutcomeStatus.EXECUTED, (ReasonCode.ALREADY_EXECUTED,), "sw_1")),
    (Execution((), ExecutionReply("k", AttemptResult.REJECTED,
                                  reason_code=ReasonCode.EXECUTOR_REJECTED)),
     (OutcomeStatus.FAILED, (ReasonCode.EXECUTOR_REJECTED,), None)),
    (Execution((TIMEOUT,), None),
     (OutcomeStatus.FAILED, (ReasonCode.RETRIES_EXHAUSTED, ReasonCode.EXECUTOR_TIMEOUT), None)),
    (Execution((TIMEOUT,), None, recovered_ref="sw_9"),
     (OutcomeStatus.EXECUTED, (ReasonCode.ALREADY_EXECUTED,), "sw_9")),
])
def test_attempts_conclude_in_one_status_with_its_reasons(
        execution: Execution, expected: tuple[OutcomeStatus, tuple[str, ...], str | None]
) -> None:
    assert conclude(execution) == expected


def test_an_outcome_takes_its_pins_ids_and_time_from_the_decision(
        make_decision: MakeDecision) -> None:
    record = make_decision(3)
    intent: ActionIntent = record.intents[0]
    outcome = outcome_of(record, intent, status=OutcomeStatus.EXECUTED, reason_codes=(),
                         attempts=(), side_effect_ref="sw_1", executor="simulated_switch",
                         policy_rev=POLICY_REV)
    assert outcome.outcome_id == outcome_id_of(intent.action_id)
    assert outcome.pins == record.pins and outcome.decision_id == record.decision_id
    assert outcome.ts_utc == record.trigger.ts_utc
    assert outcome.trigger_event_id == record.trigger.event_id
    assert outcome.policy_rev == POLICY_REV
