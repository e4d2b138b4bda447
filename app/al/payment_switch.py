"""The built-in executor: a simulated payment switch with a durable side-effect log.

It behaves like a real switch with idempotency keys: the first request under a key performs the
side effect (one line in the log, ``app.al.side_effect_log``); any later request under the same
key, from any worker process, gets the earlier side effect back (``already_done``).

Faults come from the wiring's rates, decided by a hash of (key, attempt) so a run misbehaves the
same way every time, also after a restart:
- REJECTED: a share of *keys* is refused for good (every attempt), never performed;
- ERROR: a transient error for that attempt, nothing performed;
- TIMEOUT: the attempt is never answered. A real switch may have performed a request whose
  answer was lost, so half of the lost answers (by a second hash) are *performed* first: the
  retry under the same key then gets ``already_done`` — the case idempotency keys exist for.
  The other half never reached the switch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

from app.al.executor import ExecutionReply, ExecutionRequest
from app.al.side_effect_log import SideEffectLog, read_side_effects
from app.profiles.wiring import SimulatedSwitchWiring
from app.rails.action import AttemptResult
from app.rails.ids import make_id
from app.rails.reason_codes import ReasonCode

__all__ = ["EXECUTOR_NAME", "PaymentSwitch", "SwitchFault", "fault_of", "read_side_effects",
           "side_effect_ref_of"]

EXECUTOR_NAME = "simulated_switch"
LOST_ANSWER_PERFORMED_SHARE = 0.5
"""Of the unanswered attempts, the share the switch performed before the answer was lost."""


class SwitchFault(Enum):
    """What the switch does with one attempt."""

    NONE = "none"
    REJECT = "reject"
    ERROR = "error"
    LOST = "lost"
    """Never reached the switch: no side effect, no answer."""
    PERFORMED_LOST = "performed_lost"
    """Performed, but the answer is lost."""


def _unit(tag: str, *parts: Any) -> float:
    """A deterministic number in [0, 1) from ``parts``."""
    return int(make_id(tag, *parts)[:16], 16) / float(1 << 64)


def fault_of(wiring: SimulatedSwitchWiring, key: str, attempt: int) -> SwitchFault:
    """The fault (if any) the switch injects into ``attempt`` of ``key``: a pure function."""
    if _unit("switch.reject", key) < wiring.reject_rate:
        return SwitchFault.REJECT
    draw = _unit("switch.fault", key, attempt)
    if draw < wiring.transient_error_rate:
        return SwitchFault.ERROR
    if draw < wiring.transient_error_rate + wiring.timeout_rate:
        performed = _unit("switch.lost_answer", key, attempt) < LOST_ANSWER_PERFORMED_SHARE
        return SwitchFault.PERFORMED_LOST if performed else SwitchFault.LOST
    return SwitchFault.NONE


def side_effect_ref_of(key: str) -> str:
    """The switch's reference for the side effect of ``key`` (the same for every attempt)."""
    return "sw_" + make_id("switch.side_effect", key)[:32]


class PaymentSwitch:
    """:class:`app.al.executor.Executor` over a shared, durable side-effect log."""

    name = EXECUTOR_NAME

    def __init__(self, wiring: SimulatedSwitchWiring, log_dir: Path) -> None:
        self.wiring = wiring
        self.log = SideEffectLog(log_dir)

    async def execute(self, requests: Sequence[ExecutionRequest]
                      ) -> list[Awaitable[ExecutionReply]]:
        """Perform the batch (one locked append + fsync), then answer after the latency."""
        faults = [fault_of(self.wiring, r.idempotency_key, r.attempt) for r in requests]
        perform = [_entry(r) for r, f in zip(requests, faults, strict=True)
                   if f in (SwitchFault.NONE, SwitchFault.PERFORMED_LOST)]
        held = await asyncio.to_thread(self.log.append_new, perform) if perform else {}
        if self.wiring.latency_ms:
            await asyncio.sleep(self.wiring.latency_ms / 1000)
        loop = asyncio.get_running_loop()
        answers: list[Awaitable[ExecutionReply]] = []
        for request, fault in zip(requests, faults, strict=True):
            answer: asyncio.Future[ExecutionReply] = loop.create_future()
            reply = _reply(request.idempotency_key, fault, held)
            if reply is not None:  # a lost answer never resolves: the caller times out
                answer.set_result(reply)
            answers.append(answer)
        return answers

    async def lookup(self, keys: Sequence[str]) -> dict[str, str]:
        """Side-effect refs the log holds for ``keys``."""
        return await asyncio.to_thread(self.log.lookup, keys)


def _entry(request: ExecutionRequest) -> dict[str, Any]:
    key = request.idempotency_key
    return {"idempotency_key": key, "action_type": str(request.action_type),
            "subject": dict(request.subject), "decision_id": request.decision_id,
            "run_id": request.run_id, "attempt": request.attempt,
            "side_effect_ref": side_effect_ref_of(key)}


def _reply(key: str, fault: SwitchFault,
           held: dict[str, tuple[str, bool]]) -> ExecutionReply | None:
    if fault is SwitchFault.REJECT:
        return ExecutionReply(key, AttemptResult.REJECTED,
                              reason_code=ReasonCode.EXECUTOR_REJECTED)
    if fault is SwitchFault.ERROR:
        return ExecutionReply(key, AttemptResult.ERROR, reason_code=ReasonCode.EXECUTOR_ERROR)
    if fault in (SwitchFault.LOST, SwitchFault.PERFORMED_LOST):
        return None
    ref, already_done = held[key]
    return ExecutionReply(key, AttemptResult.OK, side_effect_ref=ref, already_done=already_done,
                          reason_code=ReasonCode.ALREADY_EXECUTED if already_done else None)
