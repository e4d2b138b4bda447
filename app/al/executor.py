"""The seam between AL and whatever performs side effects (a payment switch, a case system).

An executor receives a batch of requests, each under its idempotency key (the intent's
``action_id``), and must perform each key's side effect at most once however often it is asked
(Stripe-style idempotency keys): a key it already holds answers with the earlier side effect
(``already_done``). Retries reuse the key with a higher ``attempt`` number.

Each request's answer is its own awaitable because answers can be lost one by one (a network
timeout), while the durable work of a batch is done once. Timeouts are AL's verdict, not the
executor's: AL waits for each answer at most ``policy.action.retry.attempt_timeout_ms``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.rails.action import AttemptResult
from app.rails.decision import ActionType, DecisionRecord
from app.rails.reason_codes import ReasonCode

__all__ = ["ExecutionReply", "ExecutionRequest", "Executor"]


@dataclass(frozen=True, slots=True)
class ExecutionRequest:
    """One attempt at one intent; ``idempotency_key`` is the intent's ``action_id``."""

    idempotency_key: str
    action_type: ActionType
    subject: Mapping[str, str]
    decision_id: str
    run_id: str
    attempt: int
    trigger_ts_utc: str | None = None
    """The trigger's event time, for executors that record when (case management)."""
    score: float | None = None
    """The decision's score, for executors that rank by it (case management)."""
    decision: DecisionRecord | None = None
    """The whole decision, with the features it saw: AL parses it only for OPEN_CASE intents
    (the case's evidence); None for every other intent."""


@dataclass(frozen=True, slots=True)
class ExecutionReply:
    """The executor's answer to one request.

    ``result`` is OK, ERROR (transient: retry with the same key) or REJECTED (permanent); an
    executor never answers TIMEOUT, it just does not answer. ``side_effect_ref`` names the side
    effect (OK only); ``already_done`` says the key was held before this request.
    """

    idempotency_key: str
    result: AttemptResult
    side_effect_ref: str | None = None
    already_done: bool = False
    reason_code: ReasonCode | None = None


class Executor(Protocol):
    """Performs side effects effectively once per idempotency key."""

    name: str
    """Stamped on outcomes as ``executor``."""

    async def execute(self, requests: Sequence[ExecutionRequest]
                      ) -> list[Awaitable[ExecutionReply]]:
        """Submit a batch; returns one awaitable answer per request, in request order.

        An answer that is lost never resolves: callers bound the wait themselves.
        """
        ...

    async def lookup(self, keys: Sequence[str]) -> dict[str, str]:
        """The side-effect refs the executor holds for ``keys`` (a read: performs nothing).

        AL asks when attempts ran out after an unanswered one, because an unanswered request may
        still have been performed.
        """
        ...
