"""The admitted-traffic archive line: one record exactly as IG published it, and where.

IG is the only writer of ``fp.bus.traffic.v1`` and ``fp.bus.labels.v1``, so the archive of its
admissions (``ig/archive/``, append-only segments by run, stream and partition) is a complete
copy of those logs: it restores them onto a wiped bus in their original order and offsets, and it
is what the offline feature rebuild reads. ``record`` is the canonical envelope object whose
canonical JSON is byte-for-byte the value IG published (``dump_envelope``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict

__all__ = ["ArchiveStream", "ArchivedRecord"]

ArchiveStream = Literal["traffic", "labels"]
"""Which of IG's output logs a record was admitted to (``Admit.stream``)."""

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
    record: dict[str, Any] = Field(description="The canonical envelope as published.")

    @property
    def run_id(self) -> str:
        return str(self.record["run_id"])
