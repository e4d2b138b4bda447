"""Executing a batch in attempt rounds against the real switch (and a scripted executor where a
precise sequence of answers is needed)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from pathlib import Path

import pytest

from app.al.execute import backoff_ms
from app.al.executor import ExecutionReply, ExecutionRequest
from app.al.payment_switch import EXECUTOR_NAME, SwitchFault, fault_of, read_side_effects
from app.al.policy import ActionPolicy, KillSwitch, RetryPolicy
from app.al.rounds import execute_intents
from app.profiles.wiring import SimulatedSwitchWiring
from app.rails.action import AttemptResult, OutcomeStatus
from app.rails.decision import ActionType, DecisionRecord
from app.rails.reason_codes import ReasonCode
from tests.unit.al.conftest import POLICY_REV, MakeDecision, MakeSwitch, decision

FAST = RetryPolicy(max_attempts=3, backoff_initial_ms=5, backoff_max_ms=8, attempt_timeout_ms=30)


class Sleeps:
    """Records backoff waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _work(records: Sequence[DecisionRecord]) -> list:
    return [(r, i) for r in records for i in r.intents]


async def _run(records: Sequence[DecisionRecord], executor, policy: ActionPolicy,
               sleeps: Sleeps | None = None) -> list:
    return await execute_intents(_work(records), executor, policy, POLICY_REV,
                                 sleep=sleeps or Sleeps())


async def test_a_healthy_switch_executes_every_intent_once(
        make_decision: MakeDecision, make_switch: MakeSwitch, tmp_path: Path) -> None:
    records = [make_decision(n, ActionType.APPROVE_AUTH, ActionType.OPEN_CASE) for n in range(5)]
    outcomes = await _run(records, make_switch(), ActionPolicy(retry=FAST))
    assert {o.status for o in outcomes} == {OutcomeStatus.EXECUTED}
    assert all(o.reason_codes == () and len(o.attempts) == 1 for o in outcomes)
    effects = {e["idempotency_key"]: e for e in read_side_effects(tmp_path / "switch")}
    assert {o.action_id: o.side_effect_ref for o in outcomes} == {
        k: e["side_effect_ref"] for k, e in effects.items()}


async def test_a_redelivered_intent_gets_the_earlier_side_effect(
        make_decision: MakeDecision, make_switch: MakeSwitch, tmp_path: Path) -> None:
    switch = make_switch()
    (first,) = await _run([make_decision(1)], switch, ActionPolicy(retry=FAST))
    (again,) = await _run([make_decision(1)], make_switch(), ActionPolicy(retry=FAST))
    assert again.status is OutcomeStatus.EXECUTED
    assert again.reason_codes == (ReasonCode.ALREADY_EXECUTED,)
    assert again.side_effect_ref == first.side_effect_ref
    assert again.outcome_id == first.outcome_id
    assert len(read_side_effects(tmp_path / "switch")) == 1


async def test_a_rejecting_switch_fails_the_intent_after_one_attempt(
        make_decision: MakeDecision, make_switch: MakeSwitch, tmp_path: Path) -> None:
    (outcome,) = await _run([make_decision(1)], make_switch(reject_rate=1.0),
                            ActionPolicy(retry=FAST))
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.reason_codes == (ReasonCode.EXECUTOR_REJECTED,)
    assert [a.result for a in outcome.attempts] == [AttemptResult.REJECTED]
    assert read_side_effects(tmp_path / "switch") == []


async def test_transient_errors_are_retried_with_bounded_backoff_until_attempts_run_out(
        make_decision: MakeDecision, make_switch: MakeSwitch) -> None:
    sleeps = Sleeps()
    retry = RetryPolicy(max_attempts=4, backoff_initial_ms=5, backoff_max_ms=8,
                        attempt_timeout_ms=30)
    outcomes = await _run([make_decision(n) for n in range(10)],
                          make_switch(transient_error_rate=1.0), ActionPolicy(retry=retry),
                          sleeps)
    assert {o.status for o in outcomes} == {OutcomeStatus.FAILED}
    assert all(o.reason_codes == (ReasonCode.RETRIES_EXHAUSTED, ReasonCode.EXECUTOR_ERROR)
               for o in outcomes)
    assert all([a.attempt for a in o.attempts] == [1, 2, 3, 4] for o in outcomes)
    # one backoff per round for the whole batch, never above the cap
    assert sleeps.waits == [backoff_ms(n, retry) / 1000 for n in (1, 2, 3)] == [0.005, 0.008,
                                                                                0.008]


async def test_unanswered_attempts_time_out_and_fail_when_nothing_was_performed(
        make_switch: MakeSwitch) -> None:
    wiring = SimulatedSwitchWiring(timeout_rate=1.0)
    record = next(r for n in range(100) if all(
        fault_of(wiring, (r := decision(n)).intents[0].action_id, a) is SwitchFault.LOST
        for a in (1, 2, 3)))
    (outcome,) = await _run([record], make_switch(timeout_rate=1.0), ActionPolicy(retry=FAST))
    assert outcome.status is OutcomeStatus.FAILED
    assert outcome.reason_codes == (ReasonCode.RETRIES_EXHAUSTED, ReasonCode.EXECUTOR_TIMEOUT)
    assert [a.result for a in outcome.attempts] == [AttemptResult.TIMEOUT] * 3


async def test_a_performed_request_whose_answer_was_lost_is_already_done_on_retry(
        make_switch: MakeSwitch, tmp_path: Path) -> None:
    wiring = SimulatedSwitchWiring(timeout_rate=0.5)
    record = next(r for n in range(500)
                  if fault_of(wiring, (r := decision(n)).intents[0].action_id, 1)
                  is SwitchFault.PERFORMED_LOST
                  and fault_of(wiring, r.intents[0].action_id, 2) is SwitchFault.NONE)
    (outcome,) = await _run([record], make_switch(timeout_rate=0.5), ActionPolicy(retry=FAST))
    assert outcome.status is OutcomeStatus.EXECUTED
    assert outcome.reason_codes == (ReasonCode.ALREADY_EXECUTED,)
    assert [a.result for a in outcome.attempts] == [AttemptResult.TIMEOUT, AttemptResult.OK]
    assert [e["idempotency_key"] for e in read_side_effects(tmp_path / "switch")] == [
        outcome.action_id]


async def test_a_performed_request_is_executed_even_when_every_answer_was_lost(
        make_switch: MakeSwitch, tmp_path: Path) -> None:
    wiring = SimulatedSwitchWiring(timeout_rate=1.0)
    record = next(r for n in range(500)
                  if fault_of(wiring, (r := decision(n)).intents[0].action_id, 1)
                  is SwitchFault.PERFORMED_LOST)
    (outcome,) = await _run([record], make_switch(timeout_rate=1.0), ActionPolicy(retry=FAST))
    assert outcome.status is OutcomeStatus.EXECUTED  # the status query found the side effect
    assert outcome.reason_codes == (ReasonCode.ALREADY_EXECUTED,)
    assert {a.result for a in outcome.attempts} == {AttemptResult.TIMEOUT}
    (effect,) = read_side_effects(tmp_path / "switch")
    assert effect["side_effect_ref"] == outcome.side_effect_ref


async def test_the_kill_switch_and_mismatches_deny_without_touching_the_switch(
        make_decision: MakeDecision, make_switch: MakeSwitch, tmp_path: Path) -> None:
    on = ActionPolicy(retry=FAST, kill_switch=KillSwitch(enabled=True, reason="incident",
                                                         action_types=(ActionType.OPEN_CASE,)))
    record = make_decision(1, ActionType.APPROVE_AUTH, ActionType.OPEN_CASE)
    stranger = make_decision(2).intents[0]
    work = [*_work([record]), (record, stranger)]
    outcomes = await execute_intents(work, make_switch(), on, POLICY_REV, sleep=Sleeps())
    assert [(o.status, o.reason_codes) for o in outcomes] == [
        (OutcomeStatus.EXECUTED, ()),
        (OutcomeStatus.DENIED, (ReasonCode.KILL_SWITCH_ON,)),
        (OutcomeStatus.DENIED, (ReasonCode.INTENT_DECISION_MISMATCH,))]
    assert all(o.attempts == () and o.side_effect_ref is None for o in outcomes[1:])
    assert outcomes[2].decision_id == record.decision_id
    assert [e["idempotency_key"] for e in read_side_effects(tmp_path / "switch")] == [
        record.intents[0].action_id]


class ScriptedExecutor:
    """Answers from a script per (key, attempt): a result, or None for a lost answer."""

    name = "scripted"

    def __init__(self, script: dict[tuple[str, int], AttemptResult | None]) -> None:
        self.script = script
        self.calls: list[list[tuple[str, int]]] = []

    async def execute(self, requests: Sequence[ExecutionRequest]
                      ) -> list[Awaitable[ExecutionReply]]:
        self.calls.append([(r.idempotency_key, r.attempt) for r in requests])
        loop = asyncio.get_running_loop()
        answers = []
        for r in requests:
            answer: asyncio.Future[ExecutionReply] = loop.create_future()
            result = self.script.get((r.idempotency_key, r.attempt), AttemptResult.OK)
            if result is not None:
                answer.set_result(ExecutionReply(r.idempotency_key, result,
                                                 side_effect_ref="ref" if result is
                                                 AttemptResult.OK else None))
            answers.append(answer)
        return answers

    async def lookup(self, keys: Sequence[str]) -> dict[str, str]:
        return {}


async def test_a_batch_runs_in_rounds_one_executor_call_per_attempt_number() -> None:
    records = [decision(n) for n in range(4)]
    keys = [r.intents[0].action_id for r in records]
    executor = ScriptedExecutor({(keys[1], 1): AttemptResult.ERROR, (keys[2], 1): None,
                                 (keys[2], 2): AttemptResult.ERROR})
    sleeps = Sleeps()
    outcomes = await _run(records, executor, ActionPolicy(retry=FAST), sleeps)
    assert executor.calls == [[(k, 1) for k in keys], [(keys[1], 2), (keys[2], 2)],
                              [(keys[2], 3)]]
    assert [len(o.attempts) for o in outcomes] == [1, 2, 3, 1]
    assert {o.status for o in outcomes} == {OutcomeStatus.EXECUTED}
    assert len(sleeps.waits) == 2


@pytest.mark.parametrize("max_attempts", [1, 2, 5])
async def test_never_more_attempts_than_the_policy_allows(max_attempts: int) -> None:
    record = decision(0)
    key = record.intents[0].action_id
    executor = ScriptedExecutor({(key, a): AttemptResult.ERROR for a in range(1, 10)})
    retry = FAST.model_copy(update={"max_attempts": max_attempts})
    (outcome,) = await _run([record], executor, ActionPolicy(retry=retry))
    assert len(outcome.attempts) == len(executor.calls) == max_attempts
    assert outcome.status is OutcomeStatus.FAILED


async def test_routes_send_open_case_to_case_management_and_name_it_on_the_outcome(
        make_decision: MakeDecision, make_switch: MakeSwitch, tmp_path: Path) -> None:
    from app.al.routes import Routes
    from app.cases.log import case_id_for_action, list_case_ids
    from app.cases.opener import CaseOpener
    from app.objectstore.local import LocalObjectStore

    records = [make_decision(n, ActionType.HOLD_FOR_REVIEW, ActionType.OPEN_CASE)
               for n in range(3)]
    async with LocalObjectStore(tmp_path / "objects") as store:
        routes = Routes(make_switch(), {ActionType.OPEN_CASE: CaseOpener(store)})
        outcomes = await _run(records, routes, ActionPolicy(retry=FAST))
        again = await _run(records, routes, ActionPolicy(retry=FAST))  # a redelivery
        cases = await list_case_ids(store)
    assert {o.status for o in outcomes + again} == {OutcomeStatus.EXECUTED}
    assert {(o.action_type, o.executor) for o in outcomes} == {
        (ActionType.HOLD_FOR_REVIEW, EXECUTOR_NAME), (ActionType.OPEN_CASE, "case_management")}
    opened = {o.action_id: o.side_effect_ref for o in outcomes
              if o.action_type is ActionType.OPEN_CASE}
    assert sorted(cases) == sorted(case_id_for_action(a) for a in opened)
    assert all(ref == f"case:{case_id_for_action(a)}" for a, ref in opened.items())
    switch_keys = {e["idempotency_key"] for e in read_side_effects(tmp_path / "switch")}
    assert switch_keys == {o.action_id for o in outcomes
                           if o.action_type is ActionType.HOLD_FOR_REVIEW}
    assert [o.reason_codes for o in again if o.action_type is ActionType.OPEN_CASE] == \
        [(ReasonCode.ALREADY_EXECUTED,)] * 3
    async with LocalObjectStore(tmp_path / "objects") as store:  # each case keeps its evidence
        from app.cases.evidence import read_evidence
        kept = {case_id: await read_evidence(store, case_id) for case_id in cases}
    by_decision = {r.decision_id: r for r in records}
    assert all(e is not None and e.snapshot == by_decision[e.decision_id].snapshot
               and e.reason_codes == by_decision[e.decision_id].reason_codes
               for e in kept.values())
