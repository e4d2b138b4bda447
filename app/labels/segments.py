"""The Label Store's durable log: create-only segment objects per labels-topic partition.

``labels/segments/<log_id>/p<NNN>/<first>-<next>.jsonl``: a header line (the offsets it covers:
the stage's resume point is the last segment's ``next_offset``, the S3-sink pattern DLA uses),
then one line per entry: a :class:`LabelAssertion`, a ``label_anomaly`` (a record that is no
label event, kept with its position) or a ``label_collision`` (an assertion refused because its
id is held with another payload). A segment is written once and never edited; a restart resumes
after the last one, so each admitted label event is in exactly one segment line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from app.labels.from_event import LabelAnomaly
from app.objectstore.base import ObjectStore
from app.rails.canonical_json import canonical_dumps, canonical_loads
from app.rails.label import LabelAssertion
from app.rails.receipts import EbRef

__all__ = [
    "SEGMENTS_PREFIX", "AnomalyLine", "CollisionLine", "LabelSegment", "SegmentHeader",
    "decode_segment", "encode_segment", "list_segments", "segment_key",
]

SEGMENTS_PREFIX = "labels/segments"
_NAME = re.compile(r"(?P<first>\d{12})-(?P<next>\d{12})\.jsonl")


class SegmentHeader(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    record_type: Literal["label_segment"] = "label_segment"
    log_id: str
    partition: int
    first_offset: int
    next_offset: int


class AnomalyLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    record_type: Literal["label_anomaly"] = "label_anomaly"
    ref: EbRef
    reason: str

    @classmethod
    def of(cls, anomaly: LabelAnomaly) -> AnomalyLine:
        return cls(ref=anomaly.ref, reason=anomaly.reason)


class CollisionLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    record_type: Literal["label_collision"] = "label_collision"
    refused: LabelAssertion
    held_payload_hash: str


Entry = LabelAssertion | AnomalyLine | CollisionLine


@dataclass(frozen=True)
class LabelSegment:
    key: str
    header: SegmentHeader
    entries: tuple[Entry, ...]


class LabelSegmentUnreadableError(Exception):
    """A segment the Label Store wrote does not parse: its own truth is damaged (fail loudly)."""


def segment_key(log_id: str, partition: int, first_offset: int, next_offset: int) -> str:
    return (f"{SEGMENTS_PREFIX}/{log_id}/p{partition:03d}/"
            f"{first_offset:012d}-{next_offset:012d}.jsonl")


def encode_segment(header: SegmentHeader, entries: list[Entry]) -> bytes:
    lines = [header, *entries]
    return b"\n".join(canonical_dumps(e.model_dump(mode="json", exclude_none=True))
                      for e in lines) + b"\n"


def decode_segment(key: str, data: bytes) -> LabelSegment:
    lines = [line for line in data.split(b"\n") if line]
    try:
        header = SegmentHeader.model_validate(canonical_loads(lines[0]))
        entries: list[Entry] = []
        for line in lines[1:]:
            body = canonical_loads(line)
            kind = body.get("record_type")
            entries.append(AnomalyLine.model_validate(body) if kind == "label_anomaly"
                           else CollisionLine.model_validate(body) if kind == "label_collision"
                           else LabelAssertion.model_validate(body))
    except (IndexError, ValueError, AttributeError) as exc:
        raise LabelSegmentUnreadableError(f"{key}: {str(exc)[:300]}") from exc
    return LabelSegment(key, header, tuple(entries))


async def list_segments(store: ObjectStore, log_id: str | None = None,
                        partition: int | None = None) -> list[str]:
    """Segment keys (of one log and partition, or all), in (log, partition, offset) order."""
    prefix = SEGMENTS_PREFIX
    if log_id is not None:
        prefix += f"/{log_id}"
        if partition is not None:
            prefix += f"/p{partition:03d}"
    named = [(k.rsplit("/", 1)[0], int(m["first"]), int(m["next"]), k)
             for k in await store.list(prefix)
             if (m := _NAME.fullmatch(k.rsplit("/", 1)[-1]))]
    return [k for *_, k in sorted(named)]
