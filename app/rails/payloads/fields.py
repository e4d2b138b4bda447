"""Field types shared by the payload contracts: prefixed ids, money, codes and vocabularies.

This module keeps one definition per wire field, so ``card_id`` means the same string in every
event type and a column swapped with another (an account id where a card id belongs) is refused
at the gate. Ids follow the engine's interface pack: a type prefix and zero-padded digits
(``card_00000042``; flow-derived ids carry the flow's 12 digits, ``flow_000000000042``). Money is
integer minor units (int64, never negative: refunds and reversals are positive amounts of their
own event type) plus an ISO 4217 currency code. Vocabularies are ``Literal``: their values are
wire contracts, added to but never renamed.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

__all__ = [
    "INT64_MAX",
    "AccountId",
    "AmountMinor",
    "CardId",
    "Channel",
    "ClearingId",
    "CountryCode",
    "Currency",
    "CustomerId",
    "DeviceId",
    "EntryMode",
    "FlowId",
    "ImportedEntityId",
    "ImportedLabelEventId",
    "IpId",
    "LabelEventId",
    "LabelType",
    "LabelValue",
    "Mcc",
    "MerchantId",
    "PayloadModel",
    "RefundId",
    "ReversalId",
    "ReversalReason",
    "SubjectFlowId",
    "TxnId",
]

INT64_MAX = 9_223_372_036_854_775_807
"""Largest amount the engine's ``int64`` columns (and Parquet, and Kafka clients) can carry."""


def _pattern(regex: str) -> StringConstraints:
    return StringConstraints(pattern=regex)


_ENTITY_DIGITS = "[0-9]{1,18}"  # zero-padded index; the pack pads to 8 but promises no width
_FLOW_DIGITS = "[0-9]{12}"  # the catalogue's flow_<12 digits>, shared by every flow-derived id

FlowId = Annotated[str, Strict(), _pattern(f"^flow_{_FLOW_DIGITS}$")]
"""``flow_<12 digits>``: one per authorisation, numbered in time order; follow-ups reuse it."""
TxnId = Annotated[str, Strict(), _pattern(f"^txn_{_FLOW_DIGITS}$")]
"""``txn_<12 digits>``: an imported world's transaction (its 0-based source row); it is that
world's flow id (the decision subject's ``flow_id``, labels, cases)."""
SubjectFlowId = Annotated[str, Strict(), _pattern(f"^(flow|txn)_{_FLOW_DIGITS}$")]
"""The flow a label or a decision is about: a generated world's ``flow_<12 digits>`` or an
imported world's ``txn_<12 digits>``."""
ImportedLabelEventId = Annotated[str, Strict(), _pattern(f"^lbl_{_FLOW_DIGITS}$")]
"""``lbl_<txn digits>``: an imported world's label event (one per labelled transaction)."""
ImportedEntityId = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=256)]
"""An entity id as an imported table carries it (trimmed source text, never synthesised)."""
ClearingId = Annotated[str, Strict(), _pattern(f"^clr_{_FLOW_DIGITS}$")]
"""``clr_<flow digits>``: the clearing of a flow."""
RefundId = Annotated[str, Strict(), _pattern(f"^rfd_{_FLOW_DIGITS}$")]
"""``rfd_<flow digits>``: the refund of a flow."""
ReversalId = Annotated[str, Strict(), _pattern(f"^rev_{_FLOW_DIGITS}$")]
"""``rev_<flow digits>``: the reversal of a flow."""
LabelEventId = Annotated[str, Strict(), _pattern(f"^lbl_{_FLOW_DIGITS}_[0-3]$")]
"""``lbl_<flow digits>_<kind 0-3>``: one label event of a flow."""
CardId = Annotated[str, Strict(), _pattern(f"^card_{_ENTITY_DIGITS}$")]
"""``card_<digits>``, e.g. ``card_00000042``."""
AccountId = Annotated[str, Strict(), _pattern(f"^acct_{_ENTITY_DIGITS}$")]
"""``acct_<digits>``."""
CustomerId = Annotated[str, Strict(), _pattern(f"^cust_{_ENTITY_DIGITS}$")]
"""``cust_<digits>``."""
DeviceId = Annotated[str, Strict(), _pattern(f"^dev_{_ENTITY_DIGITS}$")]
"""``dev_<digits>``."""
IpId = Annotated[str, Strict(), _pattern(f"^ip_{_ENTITY_DIGITS}$")]
"""``ip_<digits>``: an IP address by reference (the address itself never travels)."""
MerchantId = Annotated[str, Strict(), _pattern(f"^merch_{_ENTITY_DIGITS}$")]
"""``merch_<digits>``."""

Mcc = Annotated[str, Strict(), _pattern("^[0-9]{4}$")]
"""4-digit ISO 18245 merchant category code, as a string (leading zeros matter)."""
CountryCode = Annotated[str, Strict(), _pattern("^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2 country code."""
Currency = Annotated[str, Strict(), _pattern("^[A-Z]{3}$")]
"""ISO 4217 alphabetic currency code."""
AmountMinor = Annotated[int, Strict(), Field(ge=0, le=INT64_MAX)]
"""Integer minor units of ``currency`` (cents for EUR); never a float, never negative."""

Channel = Literal["card_present", "online"]
EntryMode = Literal["chip", "contactless", "magstripe", "keyed", "ecommerce", "card_on_file"]
ReversalReason = Literal["merchant_cancel", "system_timeout"]
LabelType = Literal["post_auth_detection", "customer_dispute", "chargeback"]
LabelValue = Literal["fraud", "abuse", "legit"]
"""The bank's assessment in a label event (a view, not ground truth)."""


class PayloadModel(BaseModel):
    """Base of every payload contract: closed, immutable, strict (no coercion at the wire)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)
