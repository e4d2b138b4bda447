"""Read one admitted traffic record back into typed form for the hot path.

IG validated the record before admitting it, so a failure here means the traffic log holds
something IG would not have written (a bug, or a foreign writer): the caller turns it into an
anomaly record, never a crash and never a decision.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from app.ofp.entities import ENTITY_ID_FIELDS, ENTITY_KINDS
from app.rails.envelope import CanonicalEnvelope, EnvelopeRejection, parse_envelope
from app.rails.payloads import PAYLOAD_MODELS
from app.rails.payloads.declared import DeclaredContract
from app.rails.receipts import EbRef
from app.rails.timefmt import ts_to_epoch_micros

__all__ = ["ENTITY_FIELDS", "TRIGGER_EVENT_TYPE", "DeclaredOf", "TrafficEvent",
           "UnreadableTrafficError", "parse_traffic"]

TRIGGER_EVENT_TYPE = "auth_request"
"""The generated world's trigger, and the default of ``policy.decision.triggers`` (which event
types trigger a decision is policy: an imported world adds its transaction event type)."""

DeclaredOf = Callable[[str], Mapping[tuple[str, str], DeclaredContract]]
"""run_id -> the payload contracts generated from that run's declared schema (imported worlds)."""

ENTITY_FIELDS: tuple[tuple[str, str], ...] = tuple(zip(ENTITY_KINDS, ENTITY_ID_FIELDS, strict=True))
"""Entity kind -> payload field, for every traffic payload that names entities (the kinds are
declared once, in ``app.ofp.entities``)."""


class UnreadableTrafficError(Exception):
    """The record is not an envelope with a known, valid payload (detail in the message)."""


@dataclass(frozen=True, slots=True)
class TrafficEvent:
    envelope: CanonicalEnvelope
    payload: BaseModel
    eb_ref: EbRef
    ts_us: int
    declared: DeclaredContract | None = None
    """The generated contract the payload was read with (an imported world's event), if any."""

    @property
    def entities(self) -> dict[str, str | None]:
        """Entity kind -> id as the payload names it (None or absent = no such entity)."""
        return {kind: getattr(self.payload, field, None) for kind, field in ENTITY_FIELDS}


def parse_traffic(raw: bytes, eb_ref: EbRef, declared_of: DeclaredOf | None = None
                  ) -> TrafficEvent:
    """Typed view of an admitted traffic record.

    Args:
        declared_of: the run's generated contracts, for event types with no hand-written model
            (an imported world's traffic, validated by IG against the same contract).

    Raises:
        UnreadableTrafficError: envelope or payload invalid, or an event type with no model.
    """
    envelope = parse_envelope(raw)
    if isinstance(envelope, EnvelopeRejection):
        raise UnreadableTrafficError(f"{envelope.reason_code}: {envelope.detail}"[:300])
    key = (envelope.event_type, envelope.schema_version)
    model = PAYLOAD_MODELS.get(key)
    contract = None
    if model is None and declared_of is not None:
        contract = declared_of(envelope.run_id).get(key)
        model = None if contract is None else contract.model
    if model is None:
        raise UnreadableTrafficError(
            f"no payload model for {envelope.event_type}/{envelope.schema_version}"[:300])
    try:
        payload = model.model_validate(envelope.payload)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors(include_input=False))
        raise UnreadableTrafficError(f"payload invalid at {fields}"[:300]) from None
    return TrafficEvent(envelope=envelope, payload=payload, eb_ref=eb_ref,
                        ts_us=ts_to_epoch_micros(envelope.ts_utc), declared=contract)
