"""Label Store agent ("labels"): admitted label events -> append-only label timelines.

Thin on purpose: the assertion, the timelines and the segments live in ``app.labels``, the
partition protocol in ``app.runtime.partition_stage`` (shared with the hot path, AL and DLA).
Each ``fp.bus.labels.v1`` partition's records are applied in offset order, exactly once (the
stage skips redeliveries and fills gaps from the log), and a segment is cut when
:data:`SEGMENT_MAX_ENTRIES` lines are buffered or every :data:`FLUSH_S`. The Label Store owns its
offsets (the last segment's ``next_offset``), not faust: a partition is restored from its
segments and caught up to the log end when this worker takes it, and flushed before it is given
away, so every admitted label event is in exactly one segment line across ``kill -9``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import faust
from prometheus_client import Counter, Gauge

from app.cases.label_cases import FlowDecisions
from app.eb.topics import Topic, log_id_of
from app.labels.partition import LabelPartition
from app.objectstore.base import ObjectStore
from app.objectstore.config import open_object_store
from app.runtime.agent_context import AgentContext
from app.runtime.bus_address import bootstrap_servers, broker_epoch
from app.runtime.fail_stop import fail_stop
from app.runtime.partition_stage import (
    BrokerPartitionLog,
    Event,
    PartitionStage,
    Record,
    Resumed,
    StageLogic,
    Taken,
)
from app.runtime.stage_agent import serve_stage
from app.runtime.stage_snapshots import StageSnapshot
from app.runtime.structured_log import log_event

__all__ = ["BATCH_MAX", "FLUSH_S", "SEGMENT_MAX_ENTRIES", "register"]

logger = logging.getLogger(__name__)
BATCH_MAX = 1000
BATCH_WITHIN_S = 0.05
FLUSH_S = 1.0
"""A partition with news writes a segment at least this often: labels are late by nature
(minutes to months), so a second of buffering costs nothing and keeps segments few."""
SEGMENT_MAX_ENTRIES = 5_000
TRIAGE_S = 5.0
"""Disputes and chargebacks waiting for their flow's decision are looked at this often: each
round reads what is new in the archive and the audit log (a listing each), and on a large run
doing that every second starved the hot path (the full ULB run: 11 decisions/s)."""

LABEL_CASES = Counter("fp_labels_triaged_total",
                      "Disputes and chargebacks triaged: a case opened (the flow was approved) "
                      "or dismissed (it was not).", ["result"])
TRIAGE_WAITING = Gauge("fp_labels_triage_waiting",
                       "Disputes and chargebacks waiting for their flow's decision (an unknown "
                       "flow waits for ever).", ["partition"])
LABEL_LINES = Counter("fp_labels_segment_lines_total",
                      "Lines the Label Store wrote, by kind.", ["kind"])


@dataclass
class _LabelStore(StageLogic[LabelPartition]):
    """The Label Store's logic on the partition stage: a partition's state is its
    :class:`LabelPartition`."""

    store: ObjectStore
    topic: str
    log_id: str
    decisions: FlowDecisions = field(default_factory=FlowDecisions)
    triage_due: dict[int, float] = field(default_factory=dict)

    async def load(self, partition: int, carrier: Event | None,
                   snapshot: StageSnapshot | None) -> Resumed[LabelPartition]:
        """Restore from the segments (the stage then catches up to the log end)."""
        part = LabelPartition(self.log_id, self.topic, partition)
        await part.restore(self.store)
        return Resumed(part, part.next_offset)

    async def step(self, records: Sequence[Record],
                   states: Mapping[int, LabelPartition]) -> None:
        for record in records:
            part = states[record.partition]
            part.apply(record.offset, record.value)
            if part.buffered >= SEGMENT_MAX_ENTRIES:
                await self.flush(record.partition, part)

    async def release(self, partition: int, state: LabelPartition) -> None:
        """Before a rebalance moves the partition: write what is buffered."""
        await self.flush(partition, state)

    def taken(self, partition: int, state: LabelPartition, info: Taken) -> None:
        log_event(logger, "labels.taken", partition=partition, resumed_at=info.resumed_at,
                  caught_up_to=info.caught_up_to, assertions=len(state.timelines),
                  seconds=info.seconds)

    async def tick(self, partition: int, part: LabelPartition) -> None:
        """Every :data:`FLUSH_S`: write the segment, then triage its labels (a case opens only
        for a label already durable in the Label Store)."""
        await self.flush(partition, part)
        now = time.monotonic()
        if part.triage.waiting and now >= self.triage_due.get(partition, 0.0):
            self.triage_due[partition] = now + TRIAGE_S
            triaged = await part.triage.run(self.store, self.decisions)
            LABEL_CASES.labels("opened").inc(triaged.opened)
            LABEL_CASES.labels("dismissed").inc(triaged.dismissed)
            TRIAGE_WAITING.labels(str(partition)).set(triaged.waiting)

    async def flush(self, partition: int, part: LabelPartition) -> None:
        flushed = await part.flush(self.store)
        if flushed is not None:
            LABEL_LINES.labels("assertion").inc(flushed.assertions)
            LABEL_LINES.labels("anomaly").inc(flushed.anomalies)
            LABEL_LINES.labels("collision").inc(flushed.collisions)


def register(app: faust.App, ctx: AgentContext) -> None:
    """Declare the labels topic, the Label Store agent and its flush timer."""
    raw: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw",
                           "partitions": ctx.partitions}
    topic = ctx.topic(Topic.LABELS)
    store = open_object_store(ctx.profile.wiring.object_store, base_dir=ctx.profile.base_dir)
    log_id = log_id_of(topic, broker_epoch(ctx.profile))
    logic = _LabelStore(store=store, topic=topic, log_id=log_id)
    stage = PartitionStage(name="labels", topic=topic, log_id=log_id, logic=logic,
                           log=BrokerPartitionLog(bootstrap_servers(ctx.profile), topic),
                           catch_up=True)

    serve_stage(app, stage, app.topic(topic, **raw), batch_max=BATCH_MAX,
                within_s=BATCH_WITHIN_S)

    @app.timer(FLUSH_S)  # type: ignore[untyped-decorator]  # faust's
    async def _flush_tick() -> None:
        try:
            await stage.visit(logic.tick)
        except Exception as exc:
            fail_stop("labels", exc)
