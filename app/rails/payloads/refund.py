"""The ``refund`` payload contract: a merchant refund of a cleared purchase.

Mirrors the engine catalogue's ``refund`` output (role ``business_traffic``), minus its time
column ``ts_utc`` (the envelope's domain time). The amount is positive: the event type says which
way the money moves.
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
    RefundId,
)

__all__ = ["RefundV1"]


class RefundV1(PayloadModel):
    """A merchant refund (full or partial) of a cleared purchase, back to the card."""

    refund_id: RefundId
    flow_id: FlowId = Field(description="The purchase being refunded.")
    card_id: CardId
    account_id: AccountId
    merchant_id: MerchantId
    amount_minor: AmountMinor = Field(description="Refunded amount, positive.")
    currency: Currency
