"""Turn an admission decision plus what happened after it into an IngestionReceipt (pure).

``admitted_at_utc`` is the ingestion clock, passed in; the receipt id is a pure function of the
submission and the decision, so re-processing after a crash writes the same id (readers dedupe
receipts on it).
"""

from __future__ import annotations

from app.ig.admission import Duplicate, Quarantine
from app.rails.envelope import CanonicalEnvelope
from app.rails.ids import receipt_id
from app.rails.policy_rev import PolicyRev
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import (
    MAX_RECEIPT_DETAIL_CHARS,
    MAX_RECEIPT_FIELD_PATHS,
    EbRef,
    IngestionReceipt,
    QuarantineRef,
    QuarantineRetention,
    ReceiptDecision,
)

__all__ = ["admit_receipt", "duplicate_receipt", "quarantine_receipt"]


def admit_receipt(env: CanonicalEnvelope, payload_hash: str, eb_ref: EbRef,
                  policy_rev: PolicyRev, admitted_at_utc: str) -> IngestionReceipt:
    """ADMIT: only ever built from the broker's ack, or from the record found on the bus."""
    return IngestionReceipt(
        receipt_id=receipt_id(env.run_id, env.event_type, env.event_id, payload_hash,
                              ReceiptDecision.ADMIT),
        decision=ReceiptDecision.ADMIT, event_id=env.event_id, event_type=env.event_type,
        run_id=env.run_id, pins=env.pins(), payload_hash=payload_hash, eb_ref=eb_ref,
        policy_rev=policy_rev, admitted_at_utc=admitted_at_utc,
    )


def duplicate_receipt(decision: Duplicate, policy_rev: PolicyRev,
                      admitted_at_utc: str) -> IngestionReceipt:
    """DUPLICATE: points at the original's ``eb_ref``."""
    env = decision.envelope
    return IngestionReceipt(
        receipt_id=receipt_id(env.run_id, env.event_type, env.event_id, decision.payload_hash,
                              ReceiptDecision.DUPLICATE),
        decision=ReceiptDecision.DUPLICATE, reason_codes=(ReasonCode.DUPLICATE_EVENT,),
        event_id=env.event_id, event_type=env.event_type, run_id=env.run_id, pins=env.pins(),
        payload_hash=decision.payload_hash, eb_ref=decision.original, policy_rev=policy_rev,
        admitted_at_utc=admitted_at_utc,
    )


def quarantine_receipt(decision: Quarantine, ref: QuarantineRef, policy_rev: PolicyRev,
                       admitted_at_utc: str) -> IngestionReceipt:
    """QUARANTINE: raw bytes kept by reference; envelope fields only when it parsed.

    The id hashes the *raw* bytes: two different submissions that share an event id and payload
    (say, one with a wrong seed) are two quarantine records, not one. The gate's field paths and
    detail ride along (issue #11 item 9), shortened to the contract's bounds; bytes the quota did
    not keep add ``QUARANTINE_QUOTA_EXCEEDED`` after the gate's own code.
    """
    env = decision.envelope
    codes: tuple[ReasonCode, ...] = (decision.reason_code,)
    detail = decision.detail
    if ref.retained is QuarantineRetention.NONE:
        codes += (ReasonCode.QUARANTINE_QUOTA_EXCEEDED,)
        # ``quarantine_ref`` still names where the bytes would be; none were written.
        detail = (f"{detail.split('; the first')[0]}; raw bytes not kept (quarantine quota)"
                  if detail else "raw bytes not kept (quarantine quota)")
    return IngestionReceipt(
        receipt_id=receipt_id(env.run_id if env else None, env.event_type if env else None,
                              env.event_id if env else None, decision.raw_digest.hex,
                              ReceiptDecision.QUARANTINE),
        decision=ReceiptDecision.QUARANTINE, reason_codes=codes,
        event_id=env.event_id if env else None, event_type=env.event_type if env else None,
        run_id=env.run_id if env else None, pins=env.pins() if env else None,
        payload_hash=decision.payload_hash, quarantine_ref=ref,
        field_paths=_field_paths(decision.field_paths), detail=_detail(detail),
        policy_rev=policy_rev, admitted_at_utc=admitted_at_utc,
    )


def _field_paths(paths: tuple[str, ...]) -> tuple[str, ...]:
    kept = sorted({p[:256] for p in paths if p})
    return tuple(kept[:MAX_RECEIPT_FIELD_PATHS])


def _detail(detail: str) -> str | None:
    if not detail:
        return None
    if len(detail) <= MAX_RECEIPT_DETAIL_CHARS:
        return detail
    return detail[: MAX_RECEIPT_DETAIL_CHARS - 3] + "..."
