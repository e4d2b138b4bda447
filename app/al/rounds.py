"""Execute a batch of intents in attempt rounds: all first attempts in one executor call, then,
after one backoff, the retries of those that need one, and so on.

Retries never hold up the batch one intent at a time: a round costs one executor call and at
most one attempt timeout, whatever its size. Every attempt reuses the intent's idempotency key.
Infrastructure failures (the executor raising) propagate: the worker restarts and the intents
are redelivered under the same keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from app.al.execute import Execution, attempt_of, backoff_ms, conclude, outcome_of, triage
from app.al.executor import ExecutionReply, ExecutionRequest, Executor
from app.al.policy import ActionPolicy, RetryPolicy
from app.al.routes import Routes
from app.rails.action import ActionOutcome, AttemptResult, ExecutionAttempt, OutcomeStatus
from app.rails.decision import ActionIntent, DecisionRecord
from app.rails.decision_view import Decided
from app.rails.policy_rev import PolicyRev

__all__ = ["Sleep", "attempt_rounds", "execute_intents"]

Sleep = Callable[[float], Awaitable[None]]
Work = tuple[Decided, ActionIntent]


async def execute_intents(work: Sequence[Work], executor: Executor | Routes,
                          policy: ActionPolicy, policy_rev: PolicyRev, *,
                          sleep: Sleep = asyncio.sleep) -> list[ActionOutcome]:
    """One outcome per (decision, intent), in input order: DENIED ones are never executed.

    With :class:`Routes`, each intent goes to its action type's executor (their attempt rounds
    run side by side) and its outcome names that executor.
    """
    routes = executor if isinstance(executor, Routes) else Routes(executor)
    verdicts = [triage(record, intent, policy.kill_switch) for record, intent in work]
    runnable = [i for i, v in enumerate(verdicts) if v is None]
    groups: dict[int, tuple[Executor, list[int]]] = {}
    for i in runnable:
        chosen = routes.of(work[i][1].action_type)
        groups.setdefault(id(chosen), (chosen, []))[1].append(i)
    ran = await asyncio.gather(*(attempt_rounds([work[i] for i in indices], chosen,
                                                policy.retry, sleep=sleep)
                                 for chosen, indices in groups.values()))
    executions = {i: execution for (_, indices), done in zip(groups.values(), ran, strict=True)
                  for i, execution in zip(indices, done, strict=True)}
    outcomes: list[ActionOutcome] = []
    for i, ((record, intent), verdict) in enumerate(zip(work, verdicts, strict=True)):
        name = routes.of(intent.action_type).name
        if verdict is not None:
            outcomes.append(outcome_of(record, intent, status=OutcomeStatus.DENIED,
                                       reason_codes=(verdict.reason,), attempts=(),
                                       side_effect_ref=None, executor=name,
                                       policy_rev=policy_rev))
            continue
        execution = executions[i]
        status, reasons, ref = conclude(execution)
        outcomes.append(outcome_of(record, intent, status=status, reason_codes=reasons,
                                   attempts=execution.attempts, side_effect_ref=ref,
                                   executor=name, policy_rev=policy_rev))
    return outcomes


async def attempt_rounds(work: Sequence[Work], executor: Executor, retry: RetryPolicy, *,
                         sleep: Sleep = asyncio.sleep) -> list[Execution]:
    """Attempts until each intent is answered OK or REJECTED, or ``max_attempts`` ran out."""
    timeout_s = retry.attempt_timeout_ms / 1000
    history: list[list[ExecutionAttempt]] = [[] for _ in work]
    final: list[ExecutionReply | None] = [None] * len(work)
    unanswered: set[int] = set()
    pending = list(range(len(work)))
    for attempt in range(1, retry.max_attempts + 1):
        if not pending:
            break
        if attempt > 1:
            await sleep(backoff_ms(attempt - 1, retry) / 1000)
        requests = [_request(*work[i], attempt) for i in pending]
        replies = await _round(executor, requests, timeout_s)
        retrying: list[int] = []
        for i, reply in zip(pending, replies, strict=True):
            history[i].append(attempt_of(attempt, reply))
            if reply is None:
                unanswered.add(i)
            if reply is None or reply.result is AttemptResult.ERROR:
                retrying.append(i)
            else:
                final[i] = reply
        pending = retrying
    recovered = await _held_after_lost_answers(
        executor, [work[i][1].action_id for i in pending if i in unanswered], timeout_s)
    return [Execution(attempts=tuple(history[i]), final=final[i],
                      recovered_ref=recovered.get(work[i][1].action_id))
            for i in range(len(work))]


def _request(record: Decided, intent: ActionIntent, attempt: int) -> ExecutionRequest:
    return ExecutionRequest(idempotency_key=intent.action_id, action_type=intent.action_type,
                            subject=intent.subject, decision_id=record.decision_id,
                            run_id=record.pins.run_id, attempt=attempt,
                            trigger_ts_utc=record.trigger.ts_utc, score=record.score,
                            decision=record if isinstance(record, DecisionRecord) else None)


async def _round(executor: Executor, requests: Sequence[ExecutionRequest],
                 timeout_s: float) -> list[ExecutionReply | None]:
    """One executor call; None for each answer not in within the attempt timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    try:
        answers = await asyncio.wait_for(executor.execute(requests), timeout_s)
    except TimeoutError:
        return [None] * len(requests)
    futures = [asyncio.ensure_future(answer) for answer in answers]
    if futures:
        _, late = await asyncio.wait(futures, timeout=max(0.0, deadline - loop.time()))
        for future in late:
            future.cancel()
    return [None if future.cancelled() or not future.done() else future.result()
            for future in futures]


async def _held_after_lost_answers(executor: Executor, keys: Sequence[str],
                                   timeout_s: float) -> dict[str, str]:
    """Ask the executor which of ``keys`` it performed anyway (their answers were lost).

    Without this, an intent whose last attempts were unanswered would end FAILED although the
    executor performed it. If the status query itself gets no answer, FAILED stands.
    """
    if not keys:
        return {}
    try:
        return await asyncio.wait_for(executor.lookup(keys), timeout_s)
    except TimeoutError:
        return {}
