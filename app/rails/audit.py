"""DLA's audit record: one per decision chain (decision -> intents -> outcomes), by reference.

This module owns the contract of what DLA appends to its segments in the object store (DESIGN
sections 6 and 10). A record points at the decision and every outcome by their positions on
``fp.bus.rtdl.v1`` (``EbRef``) and repeats the provenance an auditor asks for first: the trigger's
event id and ``eb_ref``, snapshot hash, ``graph_version``, bundle ref, posture, policy revision,
and per intent its outcome status and reasons. Nothing is copied that the bus already holds.

An rtdl record DLA can put into no chain (an outcome for an unknown decision or intent, a second
different decision under one id, unreadable bytes) becomes an :class:`AuditAnomaly` next to the
records, with ``anomaly_id`` = H(reason, eb_ref): nothing DLA reads is dropped silently.

Records are never rewritten. A correction (e.g. a conflicting second outcome for an audited
action) is a new record with ``supersedes`` naming the record it corrects.
``audit_id`` = H(decision_id, the record's content), so the same chain recorded twice is one id.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.rails.action import OutcomeStatus
from app.rails.decision import (
    ActionType,
    BundleRef,
    DecisionOutcome,
    DecisionReason,
    ShadowScore,
)
from app.rails.ids import Hex64
from app.rails.pins import ContextPins
from app.rails.policy_rev import PolicyRev
from app.rails.posture import Posture
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import EbRef
from app.rails.timefmt import TsUtc

__all__ = ["AuditAnomaly", "AuditDecision", "AuditIntent", "AuditRecord"]

_Closed = ConfigDict(extra="forbid", frozen=True)


class AuditIntent(BaseModel):
    """One intent of the chain with its terminal outcome (by reference)."""

    model_config = _Closed

    action_id: Hex64
    action_type: ActionType
    outcome_id: Hex64
    status: OutcomeStatus
    reason_codes: tuple[DecisionReason, ...]
    attempts: int = Field(ge=0)
    side_effect_ref: str | None
    outcome_ref: EbRef = Field(description="Where the outcome sits on fp.bus.rtdl.v1.")
    outcome_policy_rev: PolicyRev


class AuditDecision(BaseModel):
    """The decision's provenance, repeated for lookup; the full record is at ``decision_ref``."""

    model_config = _Closed

    decision_ref: EbRef = Field(description="Where the decision sits on fp.bus.rtdl.v1.")
    trigger_event_id: Hex64
    trigger_ref: EbRef = Field(description="Where the trigger sits on fp.bus.traffic.v1.")
    trigger_ts_utc: TsUtc
    outcome: DecisionOutcome
    reason_codes: tuple[DecisionReason, ...]
    score: float | None
    posture: Posture
    bundle: BundleRef | None
    snapshot_hash: Hex64
    graph_version: Hex64 | None
    policy_rev: PolicyRev
    shadow: ShadowScore | None = Field(
        default=None, description="The SHADOW bundle's score and the outcome the decision would "
        "have had with it ACTIVE, when one was set (recorded, never acted on).")


class AuditRecord(BaseModel):
    """One closed decision chain, or a correction of an earlier one."""

    model_config = _Closed

    record_type: Literal["audit_record"] = "audit_record"
    schema_version: Literal["v1"] = "v1"
    audit_id: Hex64
    decision_id: Hex64
    pins: ContextPins
    decision: AuditDecision
    intents: tuple[AuditIntent, ...]
    supersedes: Hex64 | None = Field(
        default=None, description="The audit_id this record corrects; None for a first record.")
    correction_reasons: tuple[DecisionReason, ...] = ()


class AuditAnomaly(BaseModel):
    """One rtdl record that is in no audit chain, and why."""

    model_config = _Closed

    record_type: Literal["audit_anomaly"] = "audit_anomaly"
    schema_version: Literal["v1"] = "v1"
    anomaly_id: Hex64
    reason_code: ReasonCode
    eb_ref: EbRef = Field(description="Where the record sits on fp.bus.rtdl.v1.")
    decision_id: Hex64 | None = None
    action_id: Hex64 | None = None
    detail: str = Field(max_length=500, description="Human detail; never raw payload values.")
