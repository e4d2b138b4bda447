"""DF's pure decision: snapshot + posture + bundle + guardrails -> one decision record.

The order of precedence is the degrade ladder's: FAIL_CLOSED decides the conservative outcome
without looking further; RULES_ONLY (or a bundle that cannot be used) leaves the guardrails alone;
otherwise the bundle's score band and the guardrails both speak and the stricter wins. An
incomplete snapshot (a trigger later than the allowed lateness) never decides less than the
policy's floor. Nothing here reads a clock: the record is a function of its inputs.

Whenever the ACTIVE bundle's turn comes (a posture that uses a model), the scope's SHADOW
bundle, if the resolution has one, is scored on the same values and recorded as
``DecisionRecord.shadow``, with the outcome the decision would have had with the shadow as ACTIVE
(its band, then the same guardrails and incomplete-snapshot floor), so the two compare one to
one against truth. Its result feeds nothing else: the outcome, reason codes and intents are those
of the same decision without a shadow (only an unusable shadow adds ``SHADOW_UNAVAILABLE``). Any
bundle kind scores through the one :class:`app.scoring.Scorer` interface.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.df.guardrails import evaluate_guardrails
from app.df.intents import intents_for
from app.df.policy import DecisionPolicy
from app.rails.decision import (
    DecisionOutcome,
    DecisionRecord,
    FeatureSnapshot,
    FeatureValue,
    ShadowScore,
    TriggerRef,
)
from app.rails.ids import decision_id as make_decision_id
from app.rails.pins import ContextPins
from app.rails.policy_rev import PolicyRev
from app.rails.posture import Posture
from app.rails.reason_codes import ReasonCode
from app.registry.resolver import Resolution
from app.scoring.base import Scored

__all__ = ["DecideInputs", "decide"]


@dataclass(frozen=True, slots=True)
class DecideInputs:
    """Everything one decision depends on (and nothing else)."""

    pins: ContextPins
    trigger: TriggerRef
    subject: dict[str, str]
    snapshot: FeatureSnapshot
    posture: Posture
    posture_reasons: tuple[str, ...]
    resolution: Resolution
    policy: DecisionPolicy
    policy_rev: PolicyRev


def _stricter(a: DecisionOutcome, b: DecisionOutcome) -> DecisionOutcome:
    return a if a.friction >= b.friction else b


def _unique(codes: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(codes))


def decide(inp: DecideInputs) -> DecisionRecord:
    """The decision for one trigger; see the module docstring for precedence."""
    run_id = inp.pins.run_id
    decision_id = make_decision_id(run_id, inp.trigger.event_id)
    values: Mapping[str, FeatureValue] = inp.snapshot.values
    reasons: list[str] = list(inp.posture_reasons)
    score_value: float | None = None
    bundle_ref = None
    shadow: ShadowScore | None = None
    seen: Scored | None = None  # the shadow's score, when the model's turn comes
    if inp.posture is Posture.FAIL_CLOSED:
        outcome = DecisionOutcome(inp.policy.fail_closed_outcome)
        reasons.append(ReasonCode.POSTURE_FAIL_CLOSED)
    else:
        outcome = DecisionOutcome.APPROVE
        if inp.posture.uses_model:
            reasons.extend(inp.resolution.reason_codes)
            reasons.extend(inp.resolution.shadow_reason_codes)
            scorer = inp.resolution.scorer
            if scorer is not None:
                result = scorer.score(values)
                score_value = result.score
                bundle_ref = inp.resolution.ref
                outcome = DecisionOutcome(result.outcome_band)
                reasons.extend(result.reason_codes)
                if outcome is not DecisionOutcome.APPROVE:
                    reasons.append(ReasonCode.SCORE_BAND)
            if inp.resolution.shadow is not None:
                seen = inp.resolution.shadow.scorer.score(values)
        guard_outcome, guard_codes = evaluate_guardrails(inp.policy.guardrails, values)
        if guard_outcome.friction > outcome.friction:
            reasons.append(ReasonCode.GUARDRAIL)
        reasons.extend(guard_codes)
        outcome = _stricter(outcome, guard_outcome)
        floor = guard_outcome
        if not inp.snapshot.complete:
            floor = _stricter(floor, DecisionOutcome(inp.policy.incomplete_snapshot_outcome))
            outcome = _stricter(outcome, floor)
            reasons.append(ReasonCode.SNAPSHOT_INCOMPLETE)
        if seen is not None and inp.resolution.shadow is not None:
            shadow = ShadowScore(bundle=inp.resolution.shadow.ref, score=seen.score,
                                 outcome=_stricter(DecisionOutcome(seen.outcome_band), floor),
                                 reason_codes=_unique(seen.reason_codes))
    return DecisionRecord(
        decision_id=decision_id,
        pins=inp.pins,
        trigger=inp.trigger,
        outcome=outcome,
        reason_codes=_unique(str(code) for code in reasons),
        score=score_value,
        posture=inp.posture,
        bundle=bundle_ref,
        snapshot=inp.snapshot,
        policy_rev=inp.policy_rev,
        intents=intents_for(outcome, run_id, decision_id, inp.subject),
        shadow=shadow,
    )
