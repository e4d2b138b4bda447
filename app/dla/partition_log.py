"""One rtdl partition's audit log: the chain fold, its buffer, its segments and its resume point.

The agent hands records in offset order (it skips redeliveries and fills gaps, like the hot
path); this class folds them, buffers what closed, and on :meth:`flush` writes one segment and
then its index, both create-only. On :meth:`restore` it rebuilds itself from the object store
alone plus the log's referenced records: every segment's records (chains already audited, so a
repeated or conflicting outcome is recognised), the last segment's resume point and open chains.
faust's committed offset plays no part, so a crash anywhere continues with the very next
segment: nothing is lost, nothing is written twice, no key is ever rewritten.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.dla.anomaly import AuditAnomaly
from app.dla.chains import ChainFold, Closed
from app.dla.errors import AuditRestoreError
from app.dla.index import encode_index, index_bytes, index_of
from app.dla.segments import (
    INDEX_PREFIX,
    OpenChainRef,
    Segment,
    SegmentHeader,
    decode_segment,
    entry_line,
    index_key_of,
    list_segments,
    segment_bytes,
    segment_key,
)
from app.objectstore.base import ObjectStore
from app.rails.audit import AuditRecord

__all__ = ["AuditPartition", "Flushed", "LogRecord", "ReadRange"]


@dataclass(frozen=True)
class LogRecord:
    """One rtdl record as the fold needs it; ``published_s`` is its bus timestamp (seconds)."""

    offset: int
    value: bytes
    published_s: float | None = None


ReadRange = Callable[[int, int], Awaitable[list[LogRecord]]]
"""Records of this partition with ``start <= offset < stop``, in offset order."""


@dataclass(frozen=True)
class Flushed:
    """What a flush wrote: the segment's key and header, and the closed chains in it."""

    key: str
    header: SegmentHeader
    closed: tuple[Closed, ...]
    anomalies: tuple[AuditAnomaly, ...]


class AuditPartition:
    """The audit state of one rtdl partition of one log (see the module docstring)."""

    def __init__(self, log_id: str, topic: str, partition: int) -> None:
        self.log_id = log_id
        self.partition = partition
        self.fold = ChainFold(topic, partition)
        self.first_offset = 0
        self.next_offset = 0
        self.pending: list[Closed | AuditAnomaly] = []

    @property
    def buffered(self) -> int:
        """Entries (closed chains, anomalies) waiting for the next segment."""
        return len(self.pending)

    def apply(self, record: LogRecord) -> None:
        """Fold the record at exactly ``next_offset`` (the caller skips and fills around it)."""
        if record.offset != self.next_offset:
            raise ValueError(f"partition {self.partition}: offset {record.offset} applied at "
                             f"{self.next_offset}; offsets apply once, in order")
        self.pending.extend(self.fold.apply(record.offset, record.value,
                                            record.published_s).entries)
        self.next_offset = record.offset + 1

    def has_news(self) -> bool:
        """Something to write: closed chains, anomalies, or offsets that moved (a resume point)."""
        return bool(self.pending) or self.next_offset > self.first_offset

    async def flush(self, store: ObjectStore, applied_at_utc: str) -> Flushed | None:
        """Write the segment ``[first_offset, next_offset)`` and its index; None if no news."""
        if not self.has_news():
            return None
        header = SegmentHeader(
            log_id=self.log_id, topic=self.fold.topic, partition=self.partition,
            first_offset=self.first_offset, next_offset=self.next_offset,
            open_chains=tuple(
                OpenChainRef(decision_offset=c.decision_ref.offset,
                             outcome_offsets=tuple(c.applied))
                for c in sorted(self.fold.open.values(), key=lambda c: c.decision_ref.offset)),
            audit_records=sum(isinstance(e, Closed) for e in self.pending),
            anomalies=sum(isinstance(e, AuditAnomaly) for e in self.pending),
            applied_at_utc=applied_at_utc)
        key = segment_key(self.log_id, self.partition, self.first_offset, self.next_offset)
        # The fold made each audit record's line already (with its audit_id, from one
        # serialisation); the index comes from the entries in hand, not from reading back.
        data = segment_bytes(header, [e.line if isinstance(e, Closed) else entry_line(e)
                                      for e in self.pending])
        await store.put(key, data)
        await store.put(index_key_of(key), index_bytes(
            key, [e.keys if isinstance(e, Closed) else None for e in self.pending]))
        flushed = Flushed(key, header,
                          tuple(e for e in self.pending if isinstance(e, Closed)),
                          tuple(e for e in self.pending if isinstance(e, AuditAnomaly)))
        self.pending = []
        self.first_offset = self.next_offset
        return flushed

    async def restore(self, store: ObjectStore, read_range: ReadRange) -> None:
        """Rebuild from the partition's segments and the records their last one references."""
        keys = await list_segments(store, self.log_id, self.partition)
        indexed = set(await store.list(f"{INDEX_PREFIX}/{self.log_id}/p{self.partition:03d}"))
        last: Segment | None = None
        for key in keys:
            segment = decode_segment(key, await store.get(key))
            if index_key_of(key) not in indexed:  # a crash between segment and index
                await store.put(index_key_of(key), encode_index(index_of(segment)))
            for entry in segment.entries:
                if isinstance(entry, AuditRecord):
                    self.fold.remember(entry)
            last = segment
        if last is None:
            return
        resume = last.header.next_offset
        await self._reopen(last, read_range)
        self.first_offset = self.next_offset = resume

    async def _reopen(self, last: Segment, read_range: ReadRange) -> None:
        """Fold the open chains' referenced records again, in offset order."""
        wanted = sorted({o for c in last.header.open_chains
                         for o in (c.decision_offset, *c.outcome_offsets)})
        if not wanted:
            return
        records = {r.offset: r for r in await read_range(wanted[0], wanted[-1] + 1)}
        for offset in wanted:
            record = records.get(offset)
            if record is None:
                raise AuditRestoreError(last.key, f"rtdl offset {offset} is not on the log")
            produced = self.fold.apply(offset, record.value, record.published_s).entries
            if produced:
                raise AuditRestoreError(last.key, f"rtdl offset {offset} does not fold into "
                                                  "an open chain as it did before")
        reopened = {c.decision_ref.offset: tuple(c.applied) for c in self.fold.open.values()}
        expected = {c.decision_offset: c.outcome_offsets for c in last.header.open_chains}
        if reopened != expected:
            raise AuditRestoreError(last.key, "the open chains read back differ from the "
                                              "segment's references")
