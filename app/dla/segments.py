"""DLA's append-only segment objects: the audit records and DLA's own resume point, together.

One object per (rtdl partition, flush), the Kafka Connect S3-sink pattern: DLA owns its offsets,
so a restart neither loses open chains nor writes a chain twice. Key::

    dla/segments/<log_id>/p<partition:03d>/<first_offset:012d>-<next_offset:012d>.jsonl

Line 0 is a :class:`SegmentHeader`: the partition, the offsets ``[first, next)`` the segment
covers, ``next_offset`` (where the partition resumes), the chains still open at that point *by
reference* (rtdl offsets of their decision and outcomes, read back on restore) and
``applied_at_utc`` (the apply clock, allowed in checkpoints by DESIGN section 2). Lines 1..n are
the closed :class:`AuditRecord` s and :class:`AuditAnomaly` entries, canonical JSON each.

``log_id`` names the rtdl log the offsets belong to: the topic, plus the broker instance for the
embedded broker, whose log is in memory and starts again at offset 0 after a broker restart
(segments of the old log must not make DLA skip the new one). Writes are create-only ``put``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.dla.anomaly import AuditAnomaly
from app.dla.errors import SegmentUnreadableError
from app.objectstore.base import ObjectStore
from app.rails.audit import AuditRecord
from app.rails.canonical_json import canonical_dumps, canonical_loads
from app.rails.receipts import TopicName
from app.rails.timefmt import TsUtc

__all__ = [
    "INDEX_PREFIX",
    "SEGMENTS_PREFIX",
    "OpenChainRef",
    "Segment",
    "SegmentHeader",
    "decode_segment",
    "encode_segment",
    "entry_line",
    "index_key_of",
    "list_segments",
    "segment_bytes",
    "segment_key",
]

SEGMENTS_PREFIX = "dla/segments"
INDEX_PREFIX = "dla/index"
_NAME = re.compile(r"(?P<first>[0-9]{12})-(?P<next>[0-9]{12})\.jsonl")

Entry = AuditRecord | AuditAnomaly
LogId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._=-]{1,200}$")]


class OpenChainRef(BaseModel):
    """A chain open at the segment's end: the rtdl offsets folded into it so far, in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    decision_offset: int = Field(ge=0)
    outcome_offsets: tuple[int, ...]


class SegmentHeader(BaseModel):
    """Line 0 of a segment: what it covers and where the partition resumes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record_type: Literal["dla_segment"] = "dla_segment"
    schema_version: Literal["v1"] = "v1"
    log_id: LogId
    topic: TopicName
    partition: int = Field(ge=0)
    first_offset: int = Field(ge=0)
    next_offset: int = Field(ge=0, description="First rtdl offset not covered: the resume point.")
    open_chains: tuple[OpenChainRef, ...]
    audit_records: int = Field(ge=0)
    anomalies: int = Field(ge=0)
    applied_at_utc: TsUtc = Field(description="Wall clock when the segment was cut (apply time).")


@dataclass(frozen=True)
class Segment:
    key: str
    header: SegmentHeader
    entries: tuple[Entry, ...]


def segment_key(log_id: str, partition: int, first_offset: int, next_offset: int) -> str:
    return (f"{SEGMENTS_PREFIX}/{log_id}/p{partition:03d}/"
            f"{first_offset:012d}-{next_offset:012d}.jsonl")


def index_key_of(segment: str) -> str:
    """The index object of a segment: same place under ``dla/index``, ``.json``."""
    if not segment.startswith(SEGMENTS_PREFIX + "/") or not segment.endswith(".jsonl"):
        raise ValueError(f"not a DLA segment key: {segment!r}")
    return INDEX_PREFIX + segment[len(SEGMENTS_PREFIX):-len(".jsonl")] + ".json"


def encode_segment(header: SegmentHeader, entries: list[Entry]) -> bytes:
    return segment_bytes(header, [entry_line(e) for e in entries])


def entry_line(entry: Entry) -> bytes:
    """An entry's segment line: its canonical JSON (no newline)."""
    return canonical_dumps(entry.model_dump(mode="json"))


def segment_bytes(header: SegmentHeader, lines: list[bytes]) -> bytes:
    """The segment: the header's line, then the entries' lines (:func:`entry_line`, or the
    same bytes made earlier, e.g. by the fold), each ended by a newline."""
    return b"\n".join([canonical_dumps(header.model_dump(mode="json")), *lines]) + b"\n"


def decode_segment(key: str, data: bytes) -> Segment:
    """Parse a segment DLA wrote; a segment is DLA's own truth, so damage is an error."""
    lines = [line for line in data.split(b"\n") if line]
    try:
        header = SegmentHeader.model_validate(canonical_loads(lines[0]))
        entries: list[Entry] = []
        for line in lines[1:]:
            body = canonical_loads(line)
            entries.append(AuditAnomaly.model_validate(body)
                           if body.get("record_type") == "audit_anomaly"
                           else AuditRecord.model_validate(body))
    except (IndexError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        raise SegmentUnreadableError(key, str(exc)[:300]) from exc
    return Segment(key, header, tuple(entries))


async def list_segments(store: ObjectStore, log_id: str, partition: int) -> list[str]:
    """The partition's segment keys in offset order (by first, then next offset)."""
    keys = await store.list(f"{SEGMENTS_PREFIX}/{log_id}/p{partition:03d}")
    named = [(m, k) for k in keys if (m := _NAME.fullmatch(k.rsplit("/", 1)[-1]))]
    return [k for m, k in sorted(named, key=lambda mk: (int(mk[0]["first"]),
                                                          int(mk[0]["next"])))]
