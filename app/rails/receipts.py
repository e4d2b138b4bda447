"""IG's ingestion receipts: the append-only record of what happened to each submission.

This module owns the receipt contract (DESIGN section 4). Every submission gets exactly one
decision, ADMIT, DUPLICATE or QUARANTINE, with stable reason codes, the ``payload_hash`` used for
collision detection, where it sits on the bus (``eb_ref``) or where its raw bytes were kept
(``quarantine_ref``, by reference), the policy revision that judged it, and the ingestion clock
(``admitted_at_utc``; never the event's ``ts_utc``). A QUARANTINE also says *what* was wrong:
``field_paths`` (dotted paths the gate named, e.g. ``payload.amount_minor``) and a short
``detail`` (names of fields and limits, never input values, which may be sensitive). The
validator enforces the shape each decision must have, so a receipt that claims ADMIT without a
bus position cannot exist: a publish failure never yields ADMIT.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    model_validator,
)

from app.rails.digests import Digest
from app.rails.envelope import EventType
from app.rails.ids import Hex32, Hex64
from app.rails.pins import ContextPins
from app.rails.policy_rev import PolicyRev
from app.rails.reason_codes import ReasonCode
from app.rails.timefmt import TsUtc

__all__ = [
    "MAX_RECEIPT_DETAIL_CHARS",
    "MAX_RECEIPT_FIELD_PATHS",
    "EbRef",
    "IngestionReceipt",
    "QuarantineRef",
    "QuarantineRetention",
    "ReceiptDecision",
    "TopicName",
]

TopicName = Annotated[str, Strict(), StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,249}$")]
"""A Kafka topic name (Kafka's own legal characters and length)."""

NonNegativeInt = Annotated[int, Strict(), Field(ge=0)]

MAX_RECEIPT_DETAIL_CHARS = 500
"""Longest ``detail`` a receipt carries (the builder shortens longer ones)."""
MAX_RECEIPT_FIELD_PATHS = 32
"""Most ``field_paths`` a receipt carries (the builder keeps the first ones, sorted)."""

FieldPath = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=256)]
"""A dotted path into the submission (``payload.amount_minor``, ``<root>``), never a value."""


def _safe_key(key: str) -> str:
    if key.startswith("/") or any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError("object key must be relative, without empty, '.' or '..' segments")
    return key


ObjectKey = Annotated[
    str,
    Strict(),
    StringConstraints(pattern=r"^[A-Za-z0-9._=/-]{1,1024}$"),
    AfterValidator(_safe_key),
]


_NOT_NULL: dict[str, Any] = {"not": {"type": "null"}}
_DECISION_RULES: dict[str, Any] = {
    "allOf": [
        {
            "if": {"properties": {"decision": {"const": "QUARANTINE"}}},
            "then": {
                "required": ["quarantine_ref", "reason_codes"],
                "properties": {
                    "quarantine_ref": _NOT_NULL,
                    "eb_ref": {"type": "null"},
                    "reason_codes": {"minItems": 1},
                },
            },
            "else": {
                "required": ["eb_ref", "event_id", "event_type", "pins", "payload_hash"],
                "properties": {
                    name: _NOT_NULL
                    for name in ("eb_ref", "event_id", "event_type", "pins", "payload_hash")
                }
                | {"quarantine_ref": {"type": "null"}},
            },
        },
        {
            "if": {"properties": {"decision": {"const": "ADMIT"}}},
            "then": {"properties": {"reason_codes": {"maxItems": 0}}},
        },
        {
            "if": {"properties": {"decision": {"const": "DUPLICATE"}}},
            "then": {
                "required": ["reason_codes"],
                "properties": {"reason_codes": {"contains": {"const": "DUPLICATE_EVENT"}}},
            },
        },
    ]
}
"""JSON Schema form of the rules ``IngestionReceipt`` enforces per decision."""


class ReceiptDecision(StrEnum):
    """What IG did with a submission. Values are wire contracts: add, never rename."""

    ADMIT = "ADMIT"
    """Published to the bus for the first time; ``eb_ref`` is where."""
    DUPLICATE = "DUPLICATE"
    """Same dedupe key and payload hash as an earlier ADMIT; ``eb_ref`` is the original's."""
    QUARANTINE = "QUARANTINE"
    """Not published; the raw bytes are kept by reference in ``quarantine_ref``."""


class QuarantineRetention(StrEnum):
    """How much of a quarantined submission the object store keeps. Add, never rename."""

    FULL = "FULL"
    """Every byte submitted, under ``object_key``; ``digest`` is theirs."""
    PREFIX = "PREFIX"
    """Only the first bytes of a submission over the record size limit; ``digest`` is the
    stored prefix's (the submission itself is identified by the receipt id)."""
    NONE = "NONE"
    """Nothing: the quarantine storage quota was spent (reason ``QUARANTINE_QUOTA_EXCEEDED``);
    ``object_key`` is where the bytes would have gone, ``digest`` is the submission's."""


class EbRef(BaseModel):
    """A record's position on the event bus: replay starts from here."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    topic: TopicName
    partition: NonNegativeInt
    offset: NonNegativeInt


class QuarantineRef(BaseModel):
    """Where quarantined raw bytes live in the object store, and their digest to verify them."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    object_key: ObjectKey
    digest: Digest
    # Not strict: read back from canonical JSON, the value is a string.
    retained: QuarantineRetention = Field(default=QuarantineRetention.FULL, strict=False)


class IngestionReceipt(BaseModel):
    """IG's append-only record of one submission's outcome.

    ``run_id`` repeats ``pins.run_id`` for lookups and must agree with it; both are absent only
    when the bytes never parsed far enough to know the run.
    """

    # Not strict as a whole, so a receipt read back from canonical JSON (enum values as strings,
    # arrays as lists) validates; every scalar inside is strict. The rules of the validator below
    # are mirrored into the JSON Schema so non-Python readers get them too.
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_DECISION_RULES)

    receipt_id: Hex64
    decision: ReceiptDecision
    reason_codes: tuple[ReasonCode, ...] = ()
    event_id: Hex64 | None = None
    event_type: EventType | None = None
    run_id: Hex32 | None = None
    pins: ContextPins | None = None
    payload_hash: Hex64 | None = None
    eb_ref: EbRef | None = None
    quarantine_ref: QuarantineRef | None = None
    field_paths: tuple[FieldPath, ...] = Field(
        default=(), max_length=MAX_RECEIPT_FIELD_PATHS,
        description="QUARANTINE: the dotted field paths the gate found wrong (empty if none).")
    detail: str | None = Field(
        default=None, max_length=MAX_RECEIPT_DETAIL_CHARS,
        description="QUARANTINE: what was wrong, for people (field names and limits, never "
                    "input values); wording may change, codes do not.")
    policy_rev: PolicyRev
    admitted_at_utc: TsUtc = Field(description="Ingestion clock: when IG decided.")

    @model_validator(mode="after")
    def _shape_follows_decision(self) -> Self:
        problems: list[str] = []
        if self.pins is not None and self.run_id != self.pins.run_id:
            problems.append("run_id must equal pins.run_id")
        if len(set(self.reason_codes)) != len(self.reason_codes):
            problems.append("reason_codes must not repeat")
        if self.decision is ReceiptDecision.QUARANTINE:
            if self.quarantine_ref is None:
                problems.append("QUARANTINE needs quarantine_ref")
            if self.eb_ref is not None:
                problems.append("QUARANTINE must not have eb_ref (nothing was published)")
            if not self.reason_codes:
                problems.append("QUARANTINE needs at least one reason code")
        else:
            missing = [
                name
                for name in ("eb_ref", "event_id", "event_type", "pins", "payload_hash")
                if getattr(self, name) is None
            ]
            if missing:
                problems.append(f"{self.decision.value} needs {', '.join(missing)}")
            if self.quarantine_ref is not None:
                problems.append(f"{self.decision.value} must not have quarantine_ref")
        if self.decision is ReceiptDecision.ADMIT and self.reason_codes:
            problems.append("ADMIT carries no reason codes")
        if (
            self.decision is ReceiptDecision.DUPLICATE
            and ReasonCode.DUPLICATE_EVENT not in self.reason_codes
        ):
            problems.append("DUPLICATE needs reason code DUPLICATE_EVENT")
        if problems:
            raise ValueError("; ".join(problems))
        return self
