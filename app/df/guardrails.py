"""Policy guardrails: hard rules that set a floor under the outcome, whatever the model says."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.df.policy import Guardrail
from app.rails.decision import DecisionOutcome, FeatureValue

__all__ = ["evaluate_guardrails"]


def evaluate_guardrails(guardrails: Sequence[Guardrail], values: Mapping[str, FeatureValue]
                        ) -> tuple[DecisionOutcome, tuple[str, ...]]:
    """The strictest outcome the fired guardrails ask for (APPROVE if none) and their codes.

    A guardrail over a missing or None feature never fires: absent data is not evidence (the
    posture and completeness rules handle missing data explicitly).
    """
    outcome = DecisionOutcome.APPROVE
    codes: list[str] = []
    for rule in guardrails:
        if rule.holds(values):
            codes.append(rule.reason_code)
            floor = DecisionOutcome(rule.outcome)
            if floor.friction > outcome.friction:
                outcome = floor
    return outcome, tuple(codes)
