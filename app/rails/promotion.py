"""The promotion evidence: a candidate bundle's evaluation against an incumbent, kept in the
registry so that ``fp registry promote`` decides on a record, not on a claim.

The learning loop (``fp learn``) writes one per candidate and dataset, create-only, at
``registry/evaluations/<candidate digest hex>/<dataset_id>.json``: the same test window (the
dataset's later rows from ``split_ts_utc`` to ``test_to_ts_utc``) scored by the candidate and by
the bundle that was ACTIVE when the dataset's decisions were made (the incumbent), the metrics of
both, and the offline/online feature parity of the runs the dataset was built from. The gate
(``app.learning.promotion``) reads it; nothing in it depends on when or where it was computed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from app.rails.decision import BundleRef
from app.rails.ids import Hex32, Hex64
from app.rails.timefmt import TsUtc

__all__ = ["ParityEvidence", "PromotionEvidence"]

_Closed = ConfigDict(extra="forbid", frozen=True)


class ParityEvidence(BaseModel):
    """Offline rebuild vs the snapshots the online path logged, over the dataset's runs."""

    model_config = _Closed

    run_ids: tuple[Hex32, ...]
    decisions: StrictInt = Field(ge=0)
    equal: StrictInt = Field(ge=0)
    source: Literal["archive", "bus"]

    @property
    def share(self) -> float:
        return self.equal / self.decisions if self.decisions else 0.0


class PromotionEvidence(BaseModel):
    """A candidate's evaluation against the incumbent on one dataset's test window."""

    model_config = _Closed

    record_type: Literal["promotion_evidence"] = "promotion_evidence"
    schema_version: Literal["v1"] = "v1"
    candidate: BundleRef
    incumbent: BundleRef | None = Field(
        description="The ACTIVE bundle of the scope when the loop ran (None: no model).")
    dataset_id: Hex64
    split_ts_utc: TsUtc = Field(description="The first test row's event time.")
    test_to_ts_utc: TsUtc = Field(description="The last test row's event time.")
    train_rows: StrictInt = Field(ge=0)
    test_rows: StrictInt = Field(ge=0)
    test_positives: StrictInt = Field(ge=0)
    candidate_metrics: dict[str, StrictFloat] = Field(
        description="roc_auc, average_precision, recall_at_1pct_fpr, "
                    "recall_at_incumbent_friction, friction_at_incumbent_friction.")
    incumbent_metrics: dict[str, StrictFloat] = Field(
        description="The same measures for the incumbent's recorded scores and outcomes.")
    parity: ParityEvidence
