"""One labels-topic partition in the Label Store: apply records in offset order, cut segments.

The stage (``app.agents.labels``) hands records here exactly once each, in offset order; this
turns each into an assertion (or an anomaly), checks it against what the partition already
holds (a repeat is a no-op, a colliding id a ``label_collision`` line) and buffers the lines;
:meth:`flush` writes the segment ``[first_offset, next_offset)``. :meth:`restore` rebuilds the
partition from its segments, so a restarted worker resumes after the last one (nothing written
twice, nothing lost: the records after it are read from the log again). New assertions are
also offered to the partition's :class:`~app.cases.label_cases.LabelTriage`: a dispute or a
chargeback on an approved flow opens a case.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.cases.label_cases import LabelTriage
from app.labels.from_event import LabelAnomaly, assertion_of
from app.labels.segments import (
    AnomalyLine,
    CollisionLine,
    Entry,
    SegmentHeader,
    decode_segment,
    encode_segment,
    list_segments,
    segment_key,
)
from app.labels.timeline import LabelTimelines
from app.objectstore.base import ObjectStore
from app.rails.label import LabelAssertion
from app.rails.receipts import EbRef

__all__ = ["Flushed", "LabelPartition"]


@dataclass(frozen=True)
class Flushed:
    key: str
    assertions: int
    anomalies: int
    collisions: int


class LabelPartition:
    """The Label Store state of one partition of one labels log."""

    def __init__(self, log_id: str, topic: str, partition: int) -> None:
        self.log_id = log_id
        self.topic = topic
        self.partition = partition
        self.timelines = LabelTimelines()
        self.first_offset = 0
        self.next_offset = 0
        self.pending: list[Entry] = []
        self.triage = LabelTriage()
        """Labels that may open a case, waiting for their flow's decision (``app.cases``)."""

    @property
    def buffered(self) -> int:
        return len(self.pending)

    def apply(self, offset: int, value: bytes) -> None:
        """The record at exactly ``next_offset`` (the stage skips and fills around it)."""
        if offset != self.next_offset:
            raise ValueError(f"labels partition {self.partition}: offset {offset} applied at "
                             f"{self.next_offset}; offsets apply once, in order")
        made = assertion_of(value, EbRef(topic=self.topic, partition=self.partition,
                                         offset=offset))
        if isinstance(made, LabelAnomaly):
            self.pending.append(AnomalyLine.of(made))
        else:
            appended = self.timelines.append(made)
            if appended.status == "new":
                self.pending.append(made)
                self.triage.offer((made,))
            elif appended.status == "collision":
                assert appended.held is not None
                self.pending.append(CollisionLine(refused=made,
                                                  held_payload_hash=appended.held.payload_hash))
        self.next_offset = offset + 1

    def has_news(self) -> bool:
        return bool(self.pending) or self.next_offset > self.first_offset

    async def flush(self, store: ObjectStore) -> Flushed | None:
        """Write the segment of what was applied since the last one (None: nothing new)."""
        if not self.has_news():
            return None
        header = SegmentHeader(log_id=self.log_id, partition=self.partition,
                               first_offset=self.first_offset, next_offset=self.next_offset)
        key = segment_key(self.log_id, self.partition, self.first_offset, self.next_offset)
        await store.put(key, encode_segment(header, self.pending))
        flushed = Flushed(
            key, sum(isinstance(e, LabelAssertion) for e in self.pending),
            sum(isinstance(e, AnomalyLine) for e in self.pending),
            sum(isinstance(e, CollisionLine) for e in self.pending))
        self.pending = []
        self.first_offset = self.next_offset
        return flushed

    async def restore(self, store: ObjectStore) -> None:
        """Rebuild from the partition's segments; resume after the last one."""
        resume = 0
        for key in await list_segments(store, self.log_id, self.partition):
            segment = decode_segment(key, await store.get(key))
            if segment.header.first_offset != resume:
                raise ValueError(f"{key}: starts at {segment.header.first_offset}, the previous "
                                 f"segment ended at {resume}")
            restored = [e for e in segment.entries if isinstance(e, LabelAssertion)]
            self.timelines.extend(restored)
            self.triage.offer(restored)  # a case it opened before is found and skipped
            resume = segment.header.next_offset
        self.first_offset = self.next_offset = resume
