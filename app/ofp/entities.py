"""The entity kinds every feature, the graph and the traffic parser share: declared once here.

Order is part of the contract: the fold's value layout and state dumps iterate kinds in this
order (the graph sorts them for its own output). Each kind's id travels in the payload field
``<kind>_id``.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = ["ENTITY_ID_FIELDS", "ENTITY_KINDS", "EntityKind"]

EntityKind = Literal["card", "account", "customer", "device", "ip", "merchant"]

ENTITY_KINDS: Final[tuple[EntityKind, ...]] = (
    "card",
    "account",
    "customer",
    "device",
    "ip",
    "merchant",
)
ENTITY_ID_FIELDS: Final[tuple[str, ...]] = tuple(f"{kind}_id" for kind in ENTITY_KINDS)
"""The payload (and ``Txn``) field holding each kind's id, in ``ENTITY_KINDS`` order."""
