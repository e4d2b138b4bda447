"""Action intents for an outcome: what AL is asked to do, with ids AL dedupes on."""

from __future__ import annotations

from app.rails.decision import ActionIntent, ActionType, DecisionOutcome
from app.rails.ids import action_idempotency_key

__all__ = ["ACTIONS_BY_OUTCOME", "intents_for"]

ACTIONS_BY_OUTCOME: dict[DecisionOutcome, tuple[ActionType, ...]] = {
    DecisionOutcome.APPROVE: (ActionType.APPROVE_AUTH,),
    DecisionOutcome.STEP_UP: (ActionType.REQUEST_STEP_UP,),
    DecisionOutcome.REVIEW: (ActionType.HOLD_FOR_REVIEW, ActionType.OPEN_CASE),
    DecisionOutcome.DECLINE: (ActionType.DECLINE_AUTH,),
}


def intents_for(outcome: DecisionOutcome, run_id: str, decision_id: str,
                subject: dict[str, str]) -> tuple[ActionIntent, ...]:
    """One intent per action of ``outcome``; ``action_id`` = H(run, decision, action type)."""
    return tuple(
        ActionIntent(action_id=action_idempotency_key(run_id, decision_id, str(action)),
                     action_type=action, decision_id=decision_id, subject=subject)
        for action in ACTIONS_BY_OUTCOME[outcome]
    )
