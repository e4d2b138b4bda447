"""DLA agent ("dla"): rtdl decisions and outcomes -> one audit record per chain, in segments.

Thin on purpose: the fold, the segments and the restore live in ``app.dla``, the partition
protocol in ``app.runtime.partition_stage`` (shared with AL). This file is DLA's logic on that
stage: records go into each partition's :class:`AuditPartition` in offset order (the stage skips
redeliveries and fills gaps from the log), and a segment is cut when
``wiring.audit.segment_max_chains`` entries are buffered or every ``wiring.audit.flush_s``.

DLA owns its offsets (the last segment's ``next_offset``), not faust: a partition is restored
from its segments and caught up to the log end when this worker takes it, and flushed before it
is given away, so faust's committed offset never decides what is audited. The last segment's
header already is a snapshot of the partition's open chains (by reference, keyed by the offsets
it covers), so DLA uses no generic stage snapshot on top of it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import faust

from app.dla.partition_log import AuditPartition, LogRecord
from app.eb.topics import Topic, log_id_of
from app.objectstore.base import ObjectStore
from app.objectstore.config import open_object_store
from app.runtime.agent_context import AgentContext
from app.runtime.audit_api import mount_audit_api
from app.runtime.bus_address import bootstrap_servers, broker_epoch
from app.runtime.dla_metrics import OPEN_CHAINS, observe_flush
from app.runtime.fail_stop import fail_stop
from app.runtime.partition_stage import (
    BrokerPartitionLog,
    Event,
    PartitionLog,
    PartitionStage,
    Record,
    Resumed,
    StageLogic,
    Taken,
)
from app.runtime.stage_snapshots import StageSnapshot
from app.runtime.structured_log import log_event
from app.runtime.wall_clock import wall_clock_ts

__all__ = ["BATCH_MAX", "register"]

logger = logging.getLogger(__name__)
BATCH_MAX = 1000
BATCH_WITHIN_S = 0.05


@dataclass
class _AuditLog(StageLogic[AuditPartition]):
    """DLA's logic on the partition stage: a partition's state is its :class:`AuditPartition`."""

    store: ObjectStore
    log: PartitionLog
    rtdl: str
    log_id: str
    segment_max_chains: int

    async def load(self, partition: int, carrier: Event | None,
                   snapshot: StageSnapshot | None) -> Resumed[AuditPartition]:
        """Restore from the segments (the stage then catches up to the log end)."""
        part = AuditPartition(self.log_id, self.rtdl, partition)
        await part.restore(self.store, lambda start, stop: self._read(partition, start, stop))
        return Resumed(part, part.next_offset)

    async def step(self, records: Sequence[Record],
                   states: Mapping[int, AuditPartition]) -> None:
        for record in records:
            part = states[record.partition]
            part.apply(LogRecord(record.offset, record.value, record.timestamp_s))
            if part.buffered >= self.segment_max_chains:
                await self.flush(record.partition, part)

    async def release(self, partition: int, state: AuditPartition) -> None:
        """Before a rebalance moves the partition: write what is buffered."""
        await self.flush(partition, state)

    def taken(self, partition: int, state: AuditPartition, info: Taken) -> None:
        log_event(logger, "dla.taken", partition=partition, resumed_at=info.resumed_at,
                  caught_up_to=info.caught_up_to, open_chains=len(state.fold.open),
                  audited=len(state.fold.audited), seconds=info.seconds)

    async def flush(self, partition: int, part: AuditPartition) -> None:
        """Write a segment of the partition's news (if any)."""
        flushed = await part.flush(self.store, wall_clock_ts())
        if flushed is not None:
            observe_flush(flushed, time.time())

    async def _read(self, partition: int, start: int, stop: int | None) -> list[LogRecord]:
        return [LogRecord(r.offset, r.value, r.timestamp_s)
                for r in await self.log.read(partition, start, stop)]


async def tick(stage: PartitionStage[AuditPartition], logic: _AuditLog) -> None:
    """Take newly assigned partitions, then write a segment for each one with news.

    Until the next assignment after a revocation nothing is taken (the timer must not restore a
    partition another worker is about to own): two writers of one partition would cut segments
    over the same offsets.
    """
    await stage.visit(logic.flush)
    OPEN_CHAINS.set(sum(len(p.fold.open) for p in stage.states.values()))


def register(app: faust.App, ctx: AgentContext) -> None:
    """Declare the rtdl topic, the DLA agent, its flush timer and the audit lookup API."""
    raw: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw",
                           "partitions": ctx.partitions}
    rtdl = ctx.topic(Topic.RTDL)
    store = open_object_store(ctx.profile.wiring.object_store, base_dir=ctx.profile.base_dir)
    log_id = log_id_of(rtdl, broker_epoch(ctx.profile))
    log = BrokerPartitionLog(bootstrap_servers(ctx.profile), rtdl)
    logic = _AuditLog(store=store, log=log, rtdl=rtdl, log_id=log_id,
                      segment_max_chains=ctx.profile.wiring.audit.segment_max_chains)
    stage = PartitionStage(name="dla", topic=rtdl, log_id=log_id, logic=logic, log=log,
                           catch_up=True)
    mount_audit_api(app, store)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # mode's stub refuses any receiver
    async def _give_back(sender: Any, revoked: Any, **kwargs: Any) -> None:
        await stage.revoke()  # after the batch in flight; buffered chains are written

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]  # as above
    async def _assigned(sender: Any, assigned: Any, **kwargs: Any) -> None:
        stage.assign(assigned)  # taken by the next tick or batch, outside the rebalance

    @app.timer(ctx.profile.wiring.audit.flush_s)  # type: ignore[untyped-decorator]  # faust's
    async def _flush_tick() -> None:
        await tick(stage, logic)

    @app.agent(app.topic(rtdl, **raw), name="dla")
    async def dla(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.take_events(  # type: ignore[attr-defined]  # not on StreamT
                BATCH_MAX, within=BATCH_WITHIN_S):
            try:
                await stage.process(events)
            except Exception as exc:
                fail_stop("dla", exc)
