"""The transaction as OFP sees it, and the entity kinds it is aggregated under.

A ``Txn`` is one admitted authorisation request reduced to what the feature library reads. It is
built by the agent (online) or by the offline rebuild from the same envelope fields, so both sides
feed identical inputs to one library (parity comes from sharing code, not from keeping two in step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["ENTITY_ID_FIELDS", "ENTITY_KINDS", "EntityKind", "Txn", "entity_id"]

EntityKind = Literal["card", "account", "customer", "device", "ip", "merchant"]

# Order is part of the contract: feature layout and state dumps iterate kinds in this order.
ENTITY_KINDS: Final[tuple[EntityKind, ...]] = (
    "card",
    "account",
    "customer",
    "device",
    "ip",
    "merchant",
)
# The Txn field holding each kind's id (``<kind>_id``).
ENTITY_ID_FIELDS: Final[tuple[str, ...]] = tuple(f"{kind}_id" for kind in ENTITY_KINDS)


@dataclass(frozen=True, slots=True)
class Txn:
    """One admitted authorisation request.

    Attributes:
        ts_us: event time (envelope ``ts_utc``) in epoch microseconds; the only clock OFP uses.
        amount_minor: amount in integer minor units (money is never a float).
        device_id, ip_id: ``None`` for card-present payments (the txn has no such entity).
        declined, stepped_up: the platform's own decision on this txn was DECLINE / STEP_UP.
    """

    ts_us: int
    amount_minor: int
    card_id: str
    account_id: str
    customer_id: str
    device_id: str | None
    ip_id: str | None
    merchant_id: str
    declined: bool = False
    stepped_up: bool = False


def entity_id(txn: Txn, kind: EntityKind) -> str | None:
    """The id of ``txn``'s entity of ``kind``, or ``None`` when the txn has no such entity."""
    value: str | None = getattr(txn, f"{kind}_id")
    return value
