"""The DatasetManifest: what a training dataset is, pinned well enough to rebuild its bytes.

OFS (``app.ofs.dataset``) writes one Parquet file per dataset and this manifest beside it,
create-only, under ``ofs/datasets/<dataset_id>/`` (``data.parquet``, then ``manifest.json``).
The manifest pins every input of the rebuild:

- **replay basis** (``runs``): per run, per traffic partition, the offsets ``[first, next)`` of
  the run's records in the traffic log, and the bus generation those offsets belong to (IG's
  admitted-traffic archive, ``app.ig.archive``);
- **labels**: ``label_as_of_utc`` (only assertions observed at or before it count) and
  ``maturity_days`` (a flow whose authorisation time + maturity is after ``label_as_of_utc`` is
  left out: its label could not have arrived yet);
- **label definition**: a flow is positive iff its verdict as known at ``label_as_of_utc`` among
  ``label_types`` (the latest assertion of those types, in timeline order) has a value in
  ``positive_values``; otherwise negative (no label of those types counts as negative);
- **features**: the feature sets (name, digest of their definitions) of the rebuilt snapshots
  and the ordered feature columns; ``policy_rev`` of the decision policy the fold ran under;
  ``code_version``, the package version that built it;
- **result**: row counts and ``content_digest``, the sha256 of the Parquet bytes.

Identity: ``dataset_id`` = ``make_id("ofs.dataset", <canonical JSON of every field except
dataset_id and content_digest>)`` (:func:`dataset_id_of`). It names the dataset's *definition*
(inputs, code version, the derived counts), not its encoding: rebuilding a manifest gives the
same id, and ``content_digest`` then checks that the bytes came out the same too (a writer that
is not deterministic is caught as a digest mismatch under the same id, never as a new dataset).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from app.rails.decision import FeatureName, FeatureSetRef
from app.rails.digests import Digest
from app.rails.ids import Hex32, Hex64, make_id
from app.rails.label import LabelType, LabelValue
from app.rails.policy_rev import PolicyRev
from app.rails.timefmt import TsUtc

__all__ = ["METADATA_COLUMNS", "DatasetCounts", "DatasetManifest", "DatasetRun",
           "LabelDefinition", "TrafficSpan", "dataset_id_of"]

METADATA_COLUMNS: tuple[str, ...] = (
    "run_id", "flow_id", "trigger_event_id", "ts_utc", "ts_us", "label", "incumbent_score",
    "incumbent_outcome", "incumbent_bundle")
"""The Parquet file's first columns, in order; one float64 column per feature follows, named
by the feature, in the manifest's ``features`` order."""

_Closed = ConfigDict(extra="forbid", frozen=True)
_Count = Annotated[int, Field(ge=0)]


class TrafficSpan(BaseModel):
    """One traffic partition's share of a run: offsets ``[first_offset, next_offset)``."""

    model_config = _Closed

    partition: _Count
    generation: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{1,64}$")] = Field(
        description="The bus generation the offsets belong to (IG's archive).")
    first_offset: _Count
    next_offset: _Count


class DatasetRun(BaseModel):
    """A run the dataset replays, and where its traffic sits."""

    model_config = _Closed

    run_id: Hex32
    traffic: tuple[TrafficSpan, ...] = Field(description="Per partition, ascending.")


class LabelDefinition(BaseModel):
    """Which label types are read, and which values of them make a flow positive.

    Both lists are kept sorted and unique (the order given does not change the manifest).
    """

    model_config = _Closed

    label_types: tuple[LabelType, ...] = Field(min_length=1)
    positive_values: tuple[LabelValue, ...] = Field(min_length=1)

    @field_validator("label_types", "positive_values", mode="after")
    @classmethod
    def _sorted_unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(set(value)))


class DatasetCounts(BaseModel):
    """Rows written (``positives + negatives``), and the triggers left out as immature."""

    model_config = _Closed

    rows: _Count
    positives: _Count
    negatives: _Count
    excluded_immature: _Count
    without_incumbent: _Count = Field(
        description="Rows whose trigger has no audited decision (incumbent columns empty).")


class DatasetManifest(BaseModel):
    """A training dataset's definition and digest (see the module doc)."""

    model_config = _Closed

    record_type: Literal["dataset_manifest"] = "dataset_manifest"
    schema_version: Literal["v1"] = "v1"
    dataset_id: Hex64
    runs: tuple[DatasetRun, ...] = Field(min_length=1, description="By run id, ascending.")
    label_as_of_utc: TsUtc
    maturity_days: Annotated[int, Field(ge=0)]
    label_definition: LabelDefinition
    feature_sets: tuple[FeatureSetRef, ...] = Field(
        description="Every feature set of the rows' snapshots, by (name, digest).")
    features: tuple[FeatureName, ...] = Field(
        description="The feature columns, in order (after the metadata columns).")
    policy_rev: PolicyRev = Field(description="The decision policy the offline fold ran under.")
    code_version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    counts: DatasetCounts
    content_digest: Digest = Field(description="sha256 of the Parquet file's bytes.")


def dataset_id_of(manifest: DatasetManifest) -> str:
    """The id a manifest's content gives it (every field but ``dataset_id`` and
    ``content_digest``)."""
    body = manifest.model_dump(mode="json", exclude={"dataset_id", "content_digest"})
    return make_id("ofs.dataset", body)
