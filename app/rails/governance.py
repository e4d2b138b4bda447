"""Governance facts: the audit trail of changes to how the platform decides.

Posture transitions, bundle activations, kill-switch and policy changes are facts on
``fp.bus.audit.v1``. They are about the platform's operation, not about one event, so they carry
the wall-clock time of the change (``at_utc``, the apply clock) and never feed a decision.
``fact_id`` is a pure function of the fact's content, so a re-emitted fact dedupes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.rails.decision import DecisionReason
from app.rails.ids import Hex64, make_id
from app.rails.policy_rev import PolicyRev
from app.rails.timefmt import TsUtc

__all__ = ["FactType", "GovernanceFact", "governance_fact"]


class FactType(StrEnum):
    """Kinds of governance fact. Values are wire contracts."""

    POSTURE_CHANGED = "POSTURE_CHANGED"
    BUNDLE_ACTIVATED = "BUNDLE_ACTIVATED"
    SHADOW_CHANGED = "SHADOW_CHANGED"
    KILL_SWITCH_CHANGED = "KILL_SWITCH_CHANGED"
    POLICY_CHANGED = "POLICY_CHANGED"


class GovernanceFact(BaseModel):
    """One change: what (``fact_type``, ``scope``), from and to what, why, when, by which policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record_type: Literal["governance_fact"] = "governance_fact"
    fact_id: Hex64
    fact_type: FactType
    scope: str = Field(min_length=1, max_length=128, description="e.g. a worker or bundle scope")
    from_value: str | None
    to_value: str
    reason_codes: tuple[DecisionReason, ...]
    policy_rev: PolicyRev
    at_utc: TsUtc = Field(description="Apply clock: when the change took effect.")
    details: dict[str, Any] = Field(default_factory=dict)


def governance_fact(fact_type: FactType, scope: str, from_value: str | None, to_value: str,
                    reason_codes: tuple[str, ...], policy_rev: PolicyRev, at_utc: str,
                    details: dict[str, Any] | None = None) -> GovernanceFact:
    """Build a fact whose id is derived from everything it says."""
    body = {"fact_type": str(fact_type), "scope": scope, "from_value": from_value,
            "to_value": to_value, "reason_codes": list(reason_codes), "at_utc": at_utc,
            "policy_digest": policy_rev.digest.hex, "details": details or {}}
    return GovernanceFact(fact_id=make_id("governance_fact", body), fact_type=fact_type,
                          scope=scope, from_value=from_value, to_value=to_value,
                          reason_codes=reason_codes, policy_rev=policy_rev, at_utc=at_utc,
                          details=details or {})
