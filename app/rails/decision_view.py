"""A light, still validated view of a decision record on ``fp.bus.rtdl.v1`` (issue #13).

Consumers downstream of DF (AL, DLA) read a decision's ids, pins, trigger, outcome, provenance
and intents, never the feature values of its snapshot (~150 of the ~6 kB of a record).
:class:`DecisionView` declares every top-level field of :class:`DecisionRecord` with the same
types, so it refuses what the full model refuses there (wrong types, missing ids, an unknown
top-level field), but its snapshot keeps only ``snapshot_hash`` and ``graph_version`` and
ignores the rest. Parse with :meth:`DecisionView.model_validate_json` (:func:`parse_decision_view`):
pydantic-core then validates in Rust and builds no Python object for what it skips.

What the view does not check: the snapshot's values, feature sets, ``as_of``, input basis and
``complete`` flag. DF wrote them through the full model, and :class:`DecisionRecord` remains
the contract for anyone who reads them (or for a boundary that takes decisions from outside).
The view and the full model are one contract: ``tests/unit/rails/test_decision_view.py`` pins
that their top-level fields are the same.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.rails.decision import (
    ActionIntent,
    BundleRef,
    DecisionOutcome,
    DecisionReason,
    DecisionRecord,
    ShadowScore,
    TriggerRef,
)
from app.rails.ids import Hex64
from app.rails.pins import ContextPins
from app.rails.policy_rev import PolicyRev
from app.rails.posture import Posture

__all__ = ["Decided", "DecisionView", "SnapshotRef", "parse_decision_view"]


class SnapshotRef(BaseModel):
    """The snapshot by reference: its hash and graph version; every other field is skipped."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    snapshot_hash: Hex64
    graph_version: Hex64 | None


class DecisionView(BaseModel):
    """A :class:`DecisionRecord` without its snapshot's contents (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record_type: Literal["decision"] = "decision"
    schema_version: Literal["v1"] = "v1"
    decision_id: Hex64
    pins: ContextPins
    trigger: TriggerRef
    outcome: DecisionOutcome
    reason_codes: tuple[DecisionReason, ...]
    score: float | None = Field(allow_inf_nan=False)
    posture: Posture
    bundle: BundleRef | None
    snapshot: SnapshotRef
    policy_rev: PolicyRev
    intents: tuple[ActionIntent, ...]
    shadow: ShadowScore | None = None


Decided = DecisionRecord | DecisionView
"""What a consumer that reads no feature values accepts: the full record or its view."""


def parse_decision_view(raw: bytes) -> DecisionView:
    """Validate ``raw`` (JSON bytes of a decision record) as a view.

    Raises:
        pydantic.ValidationError: the bytes are not JSON, or a kept field is wrong or missing.
    """
    return DecisionView.model_validate_json(raw)
