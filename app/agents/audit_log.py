"""DLA agent ("dla"): rtdl decisions and outcomes -> one audit record per chain, in segments.

Thin on purpose: the fold, the segments and the restore live in ``app.dla``. This file moves
records into each partition's :class:`AuditPartition` in offset order (redeliveries skipped,
gaps filled from the log, like the hot path), and cuts a segment when
``wiring.audit.segment_max_chains`` entries are buffered or every ``wiring.audit.flush_s``.

DLA owns its offsets (the last segment's ``next_offset``), not faust: a partition is restored
from its segments and caught up to the log end when this worker takes it, and flushed before it
is given away, so faust's committed offset never decides what is audited.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import faust

from app.dla.partition_log import AuditPartition, LogRecord
from app.eb.partition_reader import read_partition
from app.eb.topics import Topic, log_id_of
from app.objectstore.base import ObjectStore
from app.objectstore.config import open_object_store
from app.runtime.agent_context import AgentContext
from app.runtime.audit_api import mount_audit_api
from app.runtime.bus_address import bootstrap_servers, broker_epoch
from app.runtime.dla_metrics import OPEN_CHAINS, observe_flush
from app.runtime.fail_stop import fail_stop
from app.runtime.structured_log import log_event
from app.runtime.wall_clock import wall_clock_ts

__all__ = ["BATCH_MAX", "register"]

logger = logging.getLogger(__name__)
BATCH_MAX = 1000
BATCH_WITHIN_S = 0.05


@dataclass
class _AuditLog:
    app: faust.App
    ctx: AgentContext
    store: ObjectStore
    rtdl: str
    log_id: str
    parts: dict[int, AuditPartition] = field(default_factory=dict)
    assigned: frozenset[int] = frozenset()
    """rtdl partitions of the current assignment; empty from a revocation to the next one."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def process(self, events: Sequence[Any]) -> None:
        """One batch, under the lock a revocation and the flush timer also take."""
        async with self.lock:
            owned = self.assigned
            for ev in events:
                message = ev.message
                if message.partition not in owned:
                    continue  # of a partition revoked while the batch was buffered
                part = self.parts.get(message.partition) or await self._take(message.partition)
                if message.offset < part.next_offset:
                    continue  # already folded (redelivery, or caught up from the log)
                if message.offset > part.next_offset:  # a gap: fill it from the log
                    for record in await self._read(part.partition, part.next_offset,
                                                   message.offset):
                        await self._apply(part, record)
                await self._apply(part, LogRecord(message.offset, message.value or b"",
                                                  message.timestamp or None))

    async def _apply(self, part: AuditPartition, record: LogRecord) -> None:
        part.apply(record)
        if part.buffered >= self.ctx.profile.wiring.audit.segment_max_chains:
            await self._flush(part)

    async def tick(self) -> None:
        """Take newly assigned partitions, then write a segment for each one with news."""
        async with self.lock:
            for partition in sorted(self.assigned - self.parts.keys()):
                await self._take(partition)
            for part in self.parts.values():
                await self._flush(part)
            OPEN_CHAINS.set(sum(len(p.fold.open) for p in self.parts.values()))

    async def give_back(self) -> None:
        """Before a rebalance moves partitions: write what is buffered, then forget it all.

        Until the next assignment nothing is taken (the timer must not restore a partition
        another worker is about to own): two writers of one partition would cut segments over
        the same offsets.
        """
        async with self.lock:
            self.assigned = frozenset()
            for part in self.parts.values():
                await self._flush(part)
            self.parts.clear()

    async def _take(self, partition: int) -> AuditPartition:
        """Restore from the segments, then catch up to the log end (no event may be waiting)."""
        started = time.monotonic()
        part = AuditPartition(self.log_id, self.rtdl, partition)
        await part.restore(self.store, lambda start, stop: self._read(partition, start, stop))
        resumed = part.next_offset
        for record in await self._read(partition, resumed, None):
            await self._apply(part, record)
        self.parts[partition] = part
        log_event(logger, "dla.taken", partition=partition, resumed_at=resumed,
                  caught_up_to=part.next_offset, open_chains=len(part.fold.open),
                  audited=len(part.fold.audited), seconds=round(time.monotonic() - started, 3))
        return part

    async def _read(self, partition: int, start: int, stop: int | None) -> list[LogRecord]:
        records = await read_partition(bootstrap_servers(self.ctx.profile), self.rtdl,
                                       partition, start=start, stop=stop)
        return [LogRecord(r.offset, r.value or b"", r.timestamp / 1000 if r.timestamp else None)
                for r in records]

    async def _flush(self, part: AuditPartition) -> None:
        flushed = await part.flush(self.store, wall_clock_ts())
        if flushed is not None:
            observe_flush(flushed, time.time())

    def assign(self, assigned: Any) -> None:
        self.assigned = frozenset(tp.partition for tp in assigned if tp.topic == self.rtdl)


def register(app: faust.App, ctx: AgentContext) -> None:
    """Declare the rtdl topic, the DLA agent, its flush timer and the audit lookup API."""
    raw = {"key_serializer": "raw", "value_serializer": "raw", "partitions": ctx.partitions}
    rtdl = ctx.topic(Topic.RTDL)
    store = open_object_store(ctx.profile.wiring.object_store, base_dir=ctx.profile.base_dir)
    log = _AuditLog(app=app, ctx=ctx, store=store, rtdl=rtdl,
                    log_id=log_id_of(rtdl, broker_epoch(ctx.profile)))
    mount_audit_api(app, store)

    @app.on_partitions_revoked.connect
    async def _give_back(sender: Any, revoked: Any, **kwargs: Any) -> None:
        await log.give_back()

    @app.on_partitions_assigned.connect
    async def _assigned(sender: Any, assigned: Any, **kwargs: Any) -> None:
        log.assign(assigned)  # taken by the next tick or batch, outside the rebalance

    @app.timer(ctx.profile.wiring.audit.flush_s)
    async def _flush_tick() -> None:
        await log.tick()

    @app.agent(app.topic(rtdl, **raw), name="dla")
    async def dla(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_S):
            try:
                await log.process(events)
            except Exception as exc:
                fail_stop("dla", exc)
