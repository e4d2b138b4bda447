"""The fold's input record (``Txn``) and the one extractor that builds it from any event type.

A ``Txn`` is one admitted traffic event reduced to what the feature library reads: event time,
amount, the ids of the entities it names and its event type. Every event type whose payload
carries entity ids and an amount can feed the windows (:data:`FEEDABLE_EVENT_TYPES`); which
features it feeds is part of each feature's definition (``FeatureDef.sources``). The hot path,
the feature query and the offline rebuild all go through :func:`txn_of`, so every side feeds
identical inputs to one library (parity comes from sharing code, not from keeping two in step).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from types import MappingProxyType
from typing import Final

from pydantic import BaseModel

from app.ofp.entities import ENTITY_ID_FIELDS, ENTITY_KINDS, EntityKind
from app.rails.payloads import AuthRequestV1, ClearingV1, RefundV1, ReversalV1

__all__ = [
    "DEFAULT_SOURCE",
    "ENTITY_ID_FIELDS",
    "ENTITY_KINDS",
    "FEEDABLE_EVENT_TYPES",
    "EntityKind",
    "Txn",
    "entity_id",
    "txn_of",
    "txn_of_declared",
]

DEFAULT_SOURCE: Final = "auth_request"
"""The event type that feeds a feature unless its definition names others."""


@dataclass(frozen=True, slots=True)
class Txn:
    """One admitted traffic event as the fold reads it.

    Attributes:
        ts_us: event time (envelope ``ts_utc``) in epoch microseconds; the only clock OFP uses.
        amount_minor: amount in integer minor units (money is never a float).
        card_id .. merchant_id: the entity ids; ``None`` where the event names no such entity
            (a card-present payment has no device or IP, a refund no customer).
        event_type: which event it was; decides which features it feeds.
    """

    ts_us: int
    amount_minor: int
    card_id: str | None
    account_id: str | None
    customer_id: str | None
    device_id: str | None
    ip_id: str | None
    merchant_id: str | None
    event_type: str = DEFAULT_SOURCE


def entity_id(txn: Txn, kind: EntityKind) -> str | None:
    """The id of ``txn``'s entity of ``kind``, or ``None`` when the txn has no such entity."""
    value: str | None = getattr(txn, f"{kind}_id")
    return value


_Extractor = Callable[[BaseModel, int], Txn]


def _extractor(event_type: str, model: type[BaseModel]) -> _Extractor:
    """A fast ``payload -> Txn`` for one payload model: a C getter of the id fields it has."""
    present = tuple(f for f in ENTITY_ID_FIELDS if f in model.model_fields)
    if "amount_minor" not in model.model_fields or not present:
        raise TypeError(f"{model.__name__} has no amount or no entity id: it cannot feed windows")
    if present == ENTITY_ID_FIELDS:
        ids = attrgetter(*ENTITY_ID_FIELDS)

        def full(payload: BaseModel, ts_us: int) -> Txn:
            amount: int = payload.amount_minor  # type: ignore[attr-defined]  # checked above
            card, account, customer, device, ip, merchant = ids(payload)
            return Txn(ts_us, amount, card, account, customer, device, ip, merchant, event_type)

        return full
    fields = tuple(f if f in present else None for f in ENTITY_ID_FIELDS)

    def partial(payload: BaseModel, ts_us: int) -> Txn:
        card, account, customer, device, ip, merchant = (
            None if f is None else getattr(payload, f) for f in fields)
        amount: int = payload.amount_minor  # type: ignore[attr-defined]  # checked above
        return Txn(ts_us, amount, card, account, customer, device, ip, merchant, event_type)

    return partial


_EXTRACTORS: Final[Mapping[str, _Extractor]] = MappingProxyType({
    event_type: _extractor(event_type, model)
    for event_type, model in (
        ("auth_request", AuthRequestV1),
        ("clearing", ClearingV1),
        ("refund", RefundV1),
        ("reversal", ReversalV1),
    )
})
FEEDABLE_EVENT_TYPES: Final[frozenset[str]] = frozenset(_EXTRACTORS)
"""Event types whose payload has entity ids and an amount: the ones a feature may name as a
source. Add an event type here (with its payload model) to let features read it."""


def txn_of(event_type: str, payload: BaseModel, ts_us: int) -> Txn:
    """The fold's input record for one admitted event.

    Raises:
        KeyError: ``event_type`` is not in :data:`FEEDABLE_EVENT_TYPES`.
    """
    return _EXTRACTORS[event_type](payload, ts_us)


def txn_of_declared(payload: BaseModel, ts_us: int) -> Txn:
    """The fold's input record for an imported world's transaction (a payload read with a
    contract generated from its declared schema, ``app.rails.payloads.declared``).

    An imported transaction is an authorisation to the feature library: it feeds the features
    whose sources include :data:`DEFAULT_SOURCE`, through the same six entity id columns every
    import declares (null where the import maps none: such an entity gets no aggregate).
    """
    card, account, customer, device, ip, merchant = (
        getattr(payload, f, None) for f in ENTITY_ID_FIELDS)
    amount: int = payload.amount_minor  # type: ignore[attr-defined]  # every import declares it
    return Txn(ts_us, amount, card, account, customer, device, ip, merchant, DEFAULT_SOURCE)
