"""The ``reversal`` payload contract: an approved authorisation cancelled before clearing.

Mirrors the engine catalogue's ``reversal`` output (role ``business_traffic``), minus its time
column ``ts_utc`` (the envelope's domain time).
"""

from __future__ import annotations

from pydantic import Field

from app.rails.payloads.fields import (
    AccountId,
    AmountMinor,
    CardId,
    Currency,
    FlowId,
    MerchantId,
    PayloadModel,
    ReversalId,
    ReversalReason,
)

__all__ = ["ReversalV1"]


class ReversalV1(PayloadModel):
    """Full reversal of an approved authorisation before clearing; no clearing follows it."""

    reversal_id: ReversalId
    flow_id: FlowId = Field(description="The authorisation being reversed.")
    card_id: CardId
    account_id: AccountId
    merchant_id: MerchantId
    amount_minor: AmountMinor = Field(description="Reversed amount, positive.")
    currency: Currency
    reason: ReversalReason
