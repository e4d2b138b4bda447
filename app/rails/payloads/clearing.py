"""The ``clearing`` payload contract: settlement of an approved authorisation.

Mirrors the engine catalogue's ``clearing`` output (role ``business_traffic``), minus its time
column ``ts_utc`` (the envelope's domain time).
"""

from __future__ import annotations

from pydantic import Field

from app.rails.payloads.fields import (
    AccountId,
    AmountMinor,
    CardId,
    ClearingId,
    Currency,
    FlowId,
    MerchantId,
    PayloadModel,
)

__all__ = ["ClearingV1"]


class ClearingV1(PayloadModel):
    """Settlement of an approved, unreversed authorisation, 2 hours to 5 days after it."""

    clearing_id: ClearingId
    flow_id: FlowId = Field(description="The authorisation this clears.")
    card_id: CardId
    account_id: AccountId
    merchant_id: MerchantId
    amount_minor: AmountMinor = Field(
        description="May differ from the authorisation (tips, fuel pre-authorisation)."
    )
    currency: Currency
