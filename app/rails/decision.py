"""DF's decision record: one per admitted authorisation request, with full provenance.

This module owns the contract on ``fp.bus.rtdl.v1`` for decisions and their action intents
(DESIGN sections 6 and 10). A record says what was decided (``outcome``, ``reason_codes``), from
what (the trigger's ``eb_ref`` and event id, the feature snapshot with its ``as_of``, input basis,
``graph_version`` and ``snapshot_hash``), by which model (``bundle``), under which ``posture`` and
policy revision, and what must happen next (``intents``). Every id is a pure function of its
inputs, so redelivery and replay land on byte-identical records. No wall clock appears here: the
record is a function of the traffic log and the pinned configuration only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

from app.rails.canonical_json import canonical_dumps
from app.rails.digests import Digest
from app.rails.envelope import EventType
from app.rails.ids import Hex64, make_id
from app.rails.pins import ContextPins
from app.rails.policy_rev import PolicyRev
from app.rails.posture import Posture
from app.rails.receipts import EbRef
from app.rails.timefmt import TsUtc

__all__ = [
    "ActionIntent",
    "ActionType",
    "BundleRef",
    "DecisionOutcome",
    "DecisionReason",
    "DecisionRecord",
    "FeatureName",
    "FeatureSetRef",
    "FeatureSnapshot",
    "FeatureValue",
    "ShadowScore",
    "TriggerRef",
    "encode_decision",
    "snapshot_hash_of",
]

_Closed = ConfigDict(extra="forbid", frozen=True)

DecisionReason = Annotated[str, Strict(), StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,63}$")]
"""A decision reason code: a platform ``ReasonCode`` or a bundle rule's own code (UPPER_SNAKE)."""

FeatureValue = int | float | bool | None
FeatureName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$")]


class DecisionOutcome(StrEnum):
    """What DF decided, from least to most friction. Values are wire contracts."""

    APPROVE = "APPROVE"
    STEP_UP = "STEP_UP"
    REVIEW = "REVIEW"
    DECLINE = "DECLINE"

    @property
    def friction(self) -> int:
        """0 (APPROVE) .. 3 (DECLINE): a guardrail may only raise it."""
        return _FRICTION[self]


_FRICTION: dict[DecisionOutcome, int] = {o: i for i, o in enumerate(DecisionOutcome)}
"""Declaration order is friction order (looked up per guardrail and decision: no list per call)."""


class ActionType(StrEnum):
    """What AL may be asked to do. Values are wire contracts."""

    APPROVE_AUTH = "APPROVE_AUTH"
    REQUEST_STEP_UP = "REQUEST_STEP_UP"
    HOLD_FOR_REVIEW = "HOLD_FOR_REVIEW"
    OPEN_CASE = "OPEN_CASE"
    DECLINE_AUTH = "DECLINE_AUTH"


class FeatureSetRef(BaseModel):
    """A feature family a snapshot's values come from (``ofp_core``, ``ieg_links``, ``txn``),
    identified by the digest of its definitions in the feature registry (``app.ofp.registry``):
    any change to a definition changes the digest, so nothing is bumped by hand."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    digest: Hex64


class BundleRef(BaseModel):
    """Which model bundle scored: by digest, so nobody can swap it under the same name."""

    # Not strict as a whole, so a ref read back from JSON (arrays as lists) validates.
    model_config = ConfigDict(extra="forbid", frozen=True)

    bundle_id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
    version: Annotated[int, Field(ge=1)]
    scope: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")]
    digest: Digest


class TriggerRef(BaseModel):
    """The admitted event a decision answers, and where it sits on the traffic log."""

    model_config = _Closed

    event_id: Hex64
    event_type: EventType
    ts_utc: TsUtc
    eb_ref: EbRef


class FeatureSnapshot(BaseModel):
    """The features a decision saw, as of the trigger's ``ts_utc`` (strictly earlier events only).

    ``input_basis`` maps ``"<topic>|<partition>"`` to the next offset not yet applied when the
    snapshot was taken; ``graph_version`` is the digest of the graph's applied offset vector
    (None when the posture excluded graph features). ``snapshot_hash`` is the sha256 of the
    canonical JSON of every other field (:func:`snapshot_hash_of`).
    """

    model_config = _Closed

    feature_sets: tuple[FeatureSetRef, ...]
    as_of: TsUtc
    values: dict[FeatureName, FeatureValue]
    input_basis: dict[str, Annotated[int, Field(ge=0)]]
    graph_version: Hex64 | None
    complete: bool = Field(description="False when the trigger was later than allowed lateness.")
    snapshot_hash: Hex64


def snapshot_hash_of(body: dict[str, object]) -> str:
    """``snapshot_hash`` over a snapshot's fields other than the hash itself."""
    return make_id("feature_snapshot", {k: v for k, v in body.items() if k != "snapshot_hash"})


class ActionIntent(BaseModel):
    """One action DF asks AL to take; ``action_id`` is AL's idempotency key."""

    model_config = _Closed

    action_id: Hex64 = Field(
        description="app.rails.ids.action_idempotency_key(run, decision, type)")
    action_type: ActionType
    decision_id: Hex64
    subject: dict[str, str] = Field(description="What the action targets, e.g. card_id, flow_id.")


class ShadowScore(BaseModel):
    """What the scope's SHADOW bundle would have said: recorded, never acted on.

    The decision's outcome, reason codes and intents are the ACTIVE bundle's and the policy's
    alone; a shadow only lets the platform compare a candidate on live traffic.
    """

    model_config = _Closed

    bundle: BundleRef
    score: float = Field(allow_inf_nan=False)
    outcome: DecisionOutcome = Field(
        description="The outcome the decision would have had with the shadow ACTIVE: its score "
        "band, then the same guardrails and incomplete-snapshot floor (not the decision's).")
    reason_codes: tuple[DecisionReason, ...]


class DecisionRecord(BaseModel):
    """One decision per admitted trigger per run (``decision_id`` = H(run_id, trigger event_id))."""

    model_config = _Closed

    record_type: Literal["decision"] = "decision"
    schema_version: Literal["v1"] = "v1"
    decision_id: Hex64
    pins: ContextPins
    trigger: TriggerRef
    outcome: DecisionOutcome
    reason_codes: tuple[DecisionReason, ...]
    score: float | None = Field(description="The bundle's score; None when no model ran.")
    posture: Posture
    bundle: BundleRef | None = Field(
        description="None when no model ran (RULES_ONLY, FAIL_CLOSED).")
    snapshot: FeatureSnapshot
    policy_rev: PolicyRev
    intents: tuple[ActionIntent, ...]
    shadow: ShadowScore | None = Field(
        default=None,
        description="The SHADOW bundle's score when the scope has one and a model ran; never "
                    "changes outcome, reason codes or intents.")


_PLAIN_VALUE_TYPES = frozenset((int, float, bool, type(None)))
_STR_TYPE = frozenset((str,))
_WITHOUT_VALUES = {"snapshot": {"values"}}


def encode_decision(record: DecisionRecord) -> bytes:
    """The record's bytes on rtdl: ``canonical_dumps(record.model_dump(mode="json"))``, byte for
    byte, without pydantic serialising the snapshot's ~150 values one union at a time (the
    largest part of a record). Values of exact plain types are their own JSON form, so they go
    in as they are (``canonical_dumps`` still checks them); anything else takes the full dump.
    """
    values = record.snapshot.values
    if not (_PLAIN_VALUE_TYPES.issuperset(map(type, values.values()))
            and _STR_TYPE.issuperset(map(type, values))):
        return canonical_dumps(record.model_dump(mode="json"))
    body = record.model_dump(mode="json", exclude=_WITHOUT_VALUES)
    body["snapshot"]["values"] = values
    return canonical_dumps(body)
