"""Case management as AL's executor for ``OPEN_CASE`` intents: one case per intent, ever.

AL routes intents by action type (``app.al.routes``): ``OPEN_CASE`` comes here. The case id is a
function of the intent's idempotency key, and the OPENED event a function of the request (its
time is the trigger's event time, never the wall clock), so executing the same intent again, on
any worker, after any crash, writes the same bytes under the same key: the case opens exactly
once, and a later repeat's answer says ``already_done`` (two racing first executions may both
say not done: the store's create-only write keeps the case single either way). The side
effect's ref is ``case:<case_id>``. The decision's snapshot is kept as the case's evidence
(``app.cases.evidence``), written before the OPENED event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence

from app.al.executor import ExecutionReply, ExecutionRequest
from app.cases.evidence import evidence_of, write_evidence
from app.cases.log import case_id_for_action, event_key, open_case
from app.objectstore.base import ObjectStore
from app.rails.action import AttemptResult
from app.rails.case import CaseEvent, CaseEventType
from app.rails.decision import ActionType
from app.rails.reason_codes import ReasonCode

__all__ = ["CaseOpener", "opened_event"]


def opened_event(request: ExecutionRequest) -> CaseEvent:
    """The OPENED event an OPEN_CASE request makes (deterministic: see the module doc)."""
    if request.trigger_ts_utc is None:
        raise ValueError("an OPEN_CASE request carries its trigger's event time")
    subject = request.subject
    return CaseEvent(
        case_id=case_id_for_action(request.idempotency_key), seq=1,
        event_type=CaseEventType.OPENED, command_id=request.idempotency_key, actor="platform",
        at_utc=request.trigger_ts_utc, run_id=request.run_id, decision_id=request.decision_id,
        action_id=request.idempotency_key, flow_id=subject.get("flow_id"),
        card_id=subject.get("card_id"), account_id=subject.get("account_id"),
        score=request.score, amount_minor=_amount(subject.get("amount_minor")))


def _amount(text: str | None) -> int | None:
    """The flow's amount from the intent's subject (decisions before issue #14 carry none)."""
    return int(text) if text is not None and text.isdigit() else None


class CaseOpener:
    """:class:`app.al.executor.Executor` for OPEN_CASE, on the case log in the object store."""

    name = "case_management"

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    async def execute(self, requests: Sequence[ExecutionRequest]
                      ) -> list[Awaitable[ExecutionReply]]:
        replies: list[Awaitable[ExecutionReply]] = []
        for request in requests:
            reply = await self._open(request)
            done: asyncio.Future[ExecutionReply] = asyncio.get_running_loop().create_future()
            done.set_result(reply)
            replies.append(done)
        return replies

    async def _open(self, request: ExecutionRequest) -> ExecutionReply:
        if request.action_type is not ActionType.OPEN_CASE or request.trigger_ts_utc is None:
            return ExecutionReply(request.idempotency_key, AttemptResult.REJECTED,
                                  reason_code=ReasonCode.EXECUTOR_REJECTED)
        opened = opened_event(request)
        if request.decision is not None:  # first, so no case opened from a decision lacks it
            await write_evidence(self.store, evidence_of(opened.case_id, request.decision))
        created = await open_case(self.store, opened)  # a store failure raises: fail-stop
        return ExecutionReply(request.idempotency_key, AttemptResult.OK,
                              side_effect_ref=f"case:{opened.case_id}",
                              already_done=not created)

    async def lookup(self, keys: Sequence[str]) -> dict[str, str]:
        held: dict[str, str] = {}
        for key in keys:
            case_id = case_id_for_action(key)
            if await self.store.exists(event_key(case_id, 1)):
                held[key] = f"case:{case_id}"
        return held
