"""Audit anomalies (contract: ``app.rails.audit.AuditAnomaly``): building one, by position.

Nothing DLA reads is dropped silently: an outcome for a decision DLA never saw, an outcome that
names no intent of its decision, a second different decision under one ``decision_id``, or bytes
that do not parse all become an ``audit_anomaly`` line next to the audit records of the same
segment. ``anomaly_id`` = H(reason, eb_ref): a record read twice (restart, redelivery) gives
the same id, and readers dedupe on it.
"""

from __future__ import annotations

from app.rails.audit import AuditAnomaly
from app.rails.ids import make_id
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import EbRef

__all__ = ["AuditAnomaly", "audit_anomaly"]


def audit_anomaly(reason: ReasonCode, eb_ref: EbRef, detail: str, *,
                  decision_id: str | None = None, action_id: str | None = None) -> AuditAnomaly:
    """An anomaly whose id is a function of the record's position and the reason."""
    return AuditAnomaly(
        anomaly_id=make_id("audit_anomaly", str(reason), eb_ref.model_dump()),
        reason_code=reason, eb_ref=eb_ref, decision_id=decision_id, action_id=action_id,
        detail=detail[:500])
