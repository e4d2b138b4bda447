"""The admitted-traffic archive line: one record exactly as IG published it, and where.

IG is the only writer of ``fp.bus.traffic.v1`` and ``fp.bus.labels.v1``, so the archive of its
admissions (``ig/archive/``, append-only segments by run, stream and partition) is a complete
copy of those logs: it restores them onto a wiped bus in their original order and offsets, and it
is what the offline feature rebuild reads. ``record`` is the canonical object whose canonical
JSON is byte-for-byte the value IG published: an envelope (``dump_envelope``), or, with
``kind: "watermark"``, a :class:`~app.rails.watermark.TrafficWatermark` (issue #12). Watermark
records are part of the traffic log: a restore that left them out would shift every later
offset. ``kind`` defaults to ``"envelope"``, so lines written before it existed still read.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from app.rails.watermark import TrafficWatermark

__all__ = ["ArchiveKind", "ArchiveStream", "ArchivedRecord"]

ArchiveStream = Literal["traffic", "labels"]
"""Which of IG's output logs a record was admitted to (``Admit.stream``)."""

ArchiveKind = Literal["envelope", "watermark"]
"""What a line's ``record`` is: an admitted envelope, or a watermark record IG wrote."""

_Offset = Annotated[int, Strict(), Field(ge=0)]


class ArchivedRecord(BaseModel):
    """One admitted record with its position: a line of an archive segment (v1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stream: ArchiveStream
    partition: _Offset = Field(description="Partition of the stream's topic it was admitted to.")
    offset: _Offset = Field(description="Its offset there (the log's position, replay basis).")
    partition_key: str = Field(min_length=1, description="The record key IG stamped.")
    ingress_partition: _Offset = Field(
        description="The ingress partition whose submission IG admitted (dedupe state owner).")
    record: dict[str, Any] = Field(
        description="The canonical object as published: an envelope, or a watermark record.")
    kind: ArchiveKind = Field(
        default="envelope",
        description="What `record` is; absent on lines written before watermarks existed.")

    @model_validator(mode="after")
    def _watermark_is_one(self) -> ArchivedRecord:
        if self.kind == "watermark":
            TrafficWatermark.model_validate(self.record)  # a watermark line holds a valid one
        return self

    @property
    def run_id(self) -> str:
        """The run the record belongs to (envelopes and watermarks both name it)."""
        return str(self.record["run_id"])

    @property
    def is_watermark(self) -> bool:
        return self.kind == "watermark"
