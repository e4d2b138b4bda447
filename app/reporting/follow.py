"""Follow a run's durable record while it drains: receipts, rtdl records, audit records.

Everything is read incrementally, so a poll costs what was written since the last one, not the
store's whole history: IG's receipt segments and DLA's audit segments are create-only objects
(a key once read never changes), and ``fp.bus.rtdl.v1`` is read from a position per partition.
Segments written before a *new* run started (:func:`written_before`) are skipped: they belong
to earlier runs. Records of other runs are skipped (nothing crosses run_id).

Audit segments are read through DLA's own decoder (``app.dla.segments.decode_segment``), when
the deployment runs DLA.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from typing import Any

from app.dla.segments import SEGMENTS_PREFIX, decode_segment
from app.eb.partition_reader import read_partition
from app.ig.receipt_log import RECEIPTS_PREFIX
from app.objectstore.base import ObjectStore
from app.rails.audit import AuditRecord
from app.rails.canonical_json import canonical_loads
from app.rails.receipts import IngestionReceipt, ReceiptDecision
from app.reporting.drain import DrainProgress, DrainTracker
from app.reporting.latency import TrafficPosition
from app.reporting.records import BusRecord, decode_record, run_of

__all__ = ["RunFollower", "read_admission_times", "written_before"]


class _NewObjects:
    """Keys under a prefix not read yet, with their bytes (create-only: read each once)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._seen: set[str] = set()

    def skip(self, keys: Iterable[str]) -> None:
        self._seen.update(k for k in keys if k.startswith(self.prefix + "/"))

    async def fresh(self, store: ObjectStore) -> list[tuple[str, bytes]]:
        keys = [k for k in await store.list(self.prefix) if k not in self._seen]
        out = [(k, await store.get(k)) for k in keys]
        self._seen.update(keys)
        return out


class RunFollower:
    """Incremental reader of one run's receipts, rtdl records and audit records."""

    def __init__(self, *, run_id: str, planned_rows: int, servers: list[str], traffic_topic: str,
                 rtdl_topic: str, partitions: int, outcomes_expected: bool,
                 audit_expected: bool, triggers: Iterable[str] = ("auth_request",)) -> None:
        self.run_id = run_id
        self.servers, self.traffic_topic, self.rtdl_topic = servers, traffic_topic, rtdl_topic
        self.tracker = DrainTracker(run_id, planned_rows, outcomes_expected=outcomes_expected,
                                    audit_expected=audit_expected, triggers=triggers)
        self.receipts: Counter[str] = Counter()
        self.admitted_by_type: Counter[str] = Counter()
        self.admitted_positions: set[TrafficPosition] = set()
        self.decisions: list[BusRecord] = []
        self.outcomes: list[BusRecord] = []
        self.unreadable_rtdl = 0
        self.audit_records: list[dict[str, Any]] | None = [] if audit_expected else None
        self._receipt_ids: set[str] = set()
        self._audit_ids: set[str] = set()
        self._receipt_objects = _NewObjects(RECEIPTS_PREFIX)
        self._audit_objects = _NewObjects(SEGMENTS_PREFIX) if audit_expected else None
        self._next: dict[int, int] = dict.fromkeys(range(partitions), 0)

    def skip(self, keys: Iterable[str]) -> None:
        """Never read these receipt or audit segments (see :func:`written_before`)."""
        keys = list(keys)
        self._receipt_objects.skip(keys)
        if self._audit_objects is not None:
            self._audit_objects.skip(keys)

    def _add_receipts(self, segments: Iterable[tuple[str, bytes]]) -> None:
        mine: list[IngestionReceipt] = []
        for _key, data in segments:
            for line in data.splitlines():
                body = canonical_loads(line) if line else None
                if not isinstance(body, dict) or body.get("run_id") != self.run_id \
                        or body.get("receipt_id") in self._receipt_ids:
                    continue  # other runs are not even validated: the cheap path
                receipt = IngestionReceipt.model_validate(body)
                self._receipt_ids.add(receipt.receipt_id)
                mine.append(receipt)
        for r in mine:
            self.receipts[r.decision.value] += 1
            if r.decision is ReceiptDecision.ADMIT and r.eb_ref is not None:
                self.admitted_by_type[str(r.event_type)] += 1
                if r.eb_ref.topic == self.traffic_topic:
                    self.admitted_positions.add((r.eb_ref.partition, r.eb_ref.offset))
        self.tracker.add_receipts(mine)

    def _add_audit(self, segments: Iterable[tuple[str, bytes]]) -> None:
        if self.audit_records is None:
            return
        fresh: list[dict[str, Any]] = []
        for key, data in segments:
            for entry in decode_segment(key, data).entries:
                if isinstance(entry, AuditRecord) and entry.pins.run_id == self.run_id \
                        and entry.audit_id not in self._audit_ids:
                    self._audit_ids.add(entry.audit_id)
                    fresh.append(entry.model_dump(mode="json"))
        self.audit_records += fresh
        self.tracker.add_audit(fresh)

    async def _read_rtdl(self, partition: int) -> list[BusRecord]:
        start = self._next[partition]
        records = await read_partition(self.servers, self.rtdl_topic, partition, start=start)
        if records:
            self._next[partition] = records[-1].offset + 1
        out: list[BusRecord] = []
        for r in records:
            decoded = decode_record(partition, r.offset, r.timestamp, r.value)
            if decoded is None:
                self.unreadable_rtdl += 1
            elif run_of(decoded.body) == self.run_id:
                out.append(decoded)
        return out

    async def poll(self, store: ObjectStore) -> DrainProgress:
        """Read what was written since the last poll; the run's progress so far."""
        self._add_receipts(await self._receipt_objects.fresh(store))
        for batch in await asyncio.gather(*(self._read_rtdl(p) for p in self._next)):
            self.decisions += [r for r in batch if r.record_type == "decision"]
            self.outcomes += [r for r in batch if r.record_type == "action_outcome"]
            self.tracker.add_rtdl(batch)
        if self._audit_objects is not None:
            self._add_audit(await self._audit_objects.fresh(store))
        return self.tracker.progress()


async def written_before(store: ObjectStore) -> set[str]:
    """Receipt and audit segment keys in the store now: taken before SR starts a new run."""
    return set(await store.list(RECEIPTS_PREFIX)) | set(await store.list(SEGMENTS_PREFIX))


async def read_admission_times(servers: list[str], traffic_topic: str,
                               positions: Iterable[TrafficPosition]) -> dict[TrafficPosition, int]:
    """Bus timestamp (ms) of each traffic record at ``positions`` (read once, after the run)."""
    wanted: dict[int, set[int]] = {}
    for partition, offset in positions:
        wanted.setdefault(partition, set()).add(offset)

    async def one(partition: int, offsets: set[int]) -> dict[TrafficPosition, int]:
        records = await read_partition(servers, traffic_topic, partition, start=min(offsets),
                                       stop=max(offsets) + 1)
        return {(partition, r.offset): r.timestamp for r in records if r.offset in offsets}

    out: dict[TrafficPosition, int] = {}
    for part in await asyncio.gather(*(one(p, o) for p, o in sorted(wanted.items()))):
        out.update(part)
    return out
