"""The ``auth_request`` payload contract: an authorisation request, the platform's decision trigger.

Mirrors the engine catalogue's ``auth_request`` output (role ``business_traffic``), minus its time
column ``ts_utc``, which travels as the envelope's domain time. No truth column belongs here: the
issuer's outcome and whether the flow was fraud are never on the hot path.
"""

from __future__ import annotations

from pydantic import Field

from app.rails.payloads.fields import (
    AccountId,
    AmountMinor,
    CardId,
    Channel,
    CountryCode,
    Currency,
    CustomerId,
    DeviceId,
    EntryMode,
    FlowId,
    IpId,
    Mcc,
    MerchantId,
    PayloadModel,
)

__all__ = ["AuthRequestV1"]


class AuthRequestV1(PayloadModel):
    """An authorisation request: a card asks to pay a merchant; one per flow.

    The decision (approve, step up, review, decline) is the platform's to make. ``device_id`` and
    ``ip_id`` are present but null for card-present payments.
    """

    flow_id: FlowId = Field(description="flow_<12 digits>, in time order.")
    card_id: CardId
    account_id: AccountId
    customer_id: CustomerId
    device_id: DeviceId | None = Field(description="Null for card_present.")
    ip_id: IpId | None = Field(description="Null for card_present.")
    merchant_id: MerchantId
    mcc: Mcc = Field(description="4-digit merchant category code.")
    merchant_country: CountryCode = Field(description="ISO 3166 alpha-2.")
    channel: Channel
    entry_mode: EntryMode
    amount_minor: AmountMinor
    currency: Currency
