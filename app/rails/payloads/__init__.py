"""Payload contracts: one closed, versioned model per streamed ``(event_type, schema_version)``.

Each model mirrors one streamed output of the engine's interface pack (business traffic and the
label feed), minus the output's time column, which travels as the envelope's ``ts_utc``. Truth
outputs are never streamed, so no truth column (fraud label, subtype, campaign, issuer outcome)
appears in any payload. IG validates payloads with these models (:data:`PAYLOAD_MODELS`); their
JSON Schemas are generated into ``schemas/payloads/``. A changed payload is a new version (a new
model and a new key here), never an edit in place.
"""

from __future__ import annotations

from pydantic import BaseModel

from app.rails.payloads.auth_request import AuthRequestV1
from app.rails.payloads.clearing import ClearingV1
from app.rails.payloads.label_event import LabelEventV1
from app.rails.payloads.refund import RefundV1
from app.rails.payloads.reversal import ReversalV1

__all__ = [
    "LABEL_EVENT_TYPES",
    "PAYLOAD_MODELS",
    "TRAFFIC_EVENT_TYPES",
    "AuthRequestV1",
    "ClearingV1",
    "LabelEventV1",
    "RefundV1",
    "ReversalV1",
]

PAYLOAD_MODELS: dict[tuple[str, str], type[BaseModel]] = {
    ("auth_request", "v1"): AuthRequestV1,
    ("clearing", "v1"): ClearingV1,
    ("refund", "v1"): RefundV1,
    ("reversal", "v1"): ReversalV1,
    ("label_event", "v1"): LabelEventV1,
}
"""``(event_type, schema_version) -> model``. Append new versions; never drop a released one."""

LABEL_EVENT_TYPES: frozenset[str] = frozenset({"label_event"})
"""Event types of the label feed: admitted to ``fp.bus.labels.v1``, never to traffic."""

TRAFFIC_EVENT_TYPES: frozenset[str] = frozenset(
    event_type for event_type, _ in PAYLOAD_MODELS if event_type not in LABEL_EVENT_TYPES
)
"""Event types of business traffic: admitted to ``fp.bus.traffic.v1``."""
