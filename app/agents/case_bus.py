"""Case bus agent ("case_bus"): the case log in the object store -> ``fp.bus.case.v1``.

An outbox relay. The object store holds the truth (``cases/<case_id>/events/<seq>.json``,
written by AL's CaseOpener and by investigators); this agent publishes each stored event once
per ``(case_id, seq)``, to the partition :func:`app.cases.bus.partition_of` its case, keyed by
the case id, with the stored bytes as the value. What is pure (which events a partition owes)
lives in ``app.cases.bus``, the partition protocol in ``app.runtime.partition_stage``.

The agent consumes the topic it writes: a partition's state is the set of ``(case_id, seq)``
already on it, rebuilt from offset 0 when this worker takes the partition (``catch_up``: read to
the log end) and grown by every record consumed. Every :data:`PUBLISH_S` (or longer, when the
store is large: :data:`LIST_QUIET_FACTOR`) a timer lists the stored events once and, for each
owned partition under the stage's lock, publishes what it owes in ``seq`` order, awaits the
acks and adds them to the state (so nothing is sent again before this worker's own consumer
sees it). A ``kill -9`` loses nothing (the store still holds the
events; the next owner re-reads the partition and publishes what is not there) and repeats
nothing, with one window: a produce in flight at the crash that the broker applies after the
new owner read the log end is published again (and a send that fails after a later one of the
same case was acked puts that case's events out of order once). Consumers dedupe by
``(case_id, seq)``, which is the case log's identity anyway; a repeat is counted
(``kind="duplicate"``) when this worker reads it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import faust
from prometheus_client import Counter

from app.cases.bus import EventId, decode_published, event_bytes, missing, stored_events
from app.eb.publish import publish
from app.eb.topics import Topic, log_id_of
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

__all__ = ["BATCH_MAX", "LIST_QUIET_FACTOR", "PUBLISH_MAX", "PUBLISH_S", "register"]

logger = logging.getLogger(__name__)
BATCH_MAX = 1000
BATCH_WITHIN_S = 0.05
PUBLISH_S = 1.0
"""How often the store is listed and what the owned partitions owe is published."""
LIST_QUIET_FACTOR = 10
"""After a listing of the store that took t seconds, the next waits at least this many t: the
relay spends at most about a tenth of its time listing, however many events the store holds
(measured on the local store: 30,000 events list in about 0.5 s, so ticks every ~5 s)."""
PUBLISH_MAX = 2000
"""Events one partition publishes per tick at most (the rest by the next ones): a backlog (a
first start, a wiped bus) never holds the stage's lock for long."""

CASE_BUS_EVENTS = Counter("fp_case_bus_events_total",
                          "Case events the case bus published, and records of the case topic "
                          "it read that are repeats or anomalies, by kind.", ["kind"])

Send = Callable[[bytes, bytes, int], Awaitable[Awaitable[Any]]]
"""Queue one record (key, value, partition); the returned awaitable resolves on its ack."""


@dataclass
class CasePartition:
    """What one partition of the case topic holds."""

    published: set[EventId] = field(default_factory=set)
    sent: set[EventId] = field(default_factory=set)
    """Published by this worker and not read back yet (so reading them is no repeat)."""


@dataclass
class _CaseBus(StageLogic[CasePartition]):
    """The relay's logic on the partition stage."""

    send: Send
    store: ObjectStore
    partitions: int

    async def load(self, partition: int, carrier: Event | None,
                   snapshot: StageSnapshot | None) -> Resumed[CasePartition]:
        """Always from offset 0: the state is the partition's content (the stage catches up)."""
        return Resumed(CasePartition(), 0)

    async def step(self, records: Sequence[Record],
                   states: Mapping[int, CasePartition]) -> None:
        for record in records:
            self.read(record, states[record.partition])

    def read(self, record: Record, part: CasePartition) -> None:
        got = decode_published(record.key, record.value, record.partition, self.partitions)
        if got.anomaly is not None or got.event is None:
            CASE_BUS_EVENTS.labels("anomaly").inc()
            log_event(logger, "case_bus.anomaly", partition=record.partition,
                      offset=record.offset, anomaly=got.anomaly, event=got.event)
            return
        if got.event in part.sent:
            part.sent.discard(got.event)
        elif got.event in part.published:
            CASE_BUS_EVENTS.labels("duplicate").inc()
            log_event(logger, "case_bus.duplicate", partition=record.partition,
                      offset=record.offset, case_id=got.event[0], seq=got.event[1])
        part.published.add(got.event)

    def taken(self, partition: int, state: CasePartition, info: Taken) -> None:
        log_event(logger, "case_bus.taken", partition=partition, caught_up_to=info.caught_up_to,
                  events=len(state.published), seconds=info.seconds)

    async def publish_owed(self, partition: int, part: CasePartition,
                           stored: Sequence[EventId]) -> int:
        """Publish what ``partition`` owes of ``stored`` (at most :data:`PUBLISH_MAX`), in
        order, and return once every send is acked; the count published."""
        owed = missing(stored, part.published, partition, self.partitions)[:PUBLISH_MAX]
        if not owed:
            return 0
        sends = [await self.send(case_id.encode(), await event_bytes(self.store, (case_id, seq)),
                                 partition)
                 for case_id, seq in owed]
        await asyncio.gather(*sends)  # raises: fail-stop; the next owner re-reads the log
        part.published.update(owed)
        part.sent.update(owed)
        CASE_BUS_EVENTS.labels("published").inc(len(owed))
        return len(owed)


def register(app: faust.App, ctx: AgentContext) -> None:
    """Declare the case topic, the relay's consumer of it and its publish timer."""
    raw: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw",
                           "partitions": ctx.partitions}
    topic = ctx.topic(Topic.CASE)
    store = open_object_store(ctx.profile.wiring.object_store, base_dir=ctx.profile.base_dir)
    log_id = log_id_of(topic, broker_epoch(ctx.profile))

    async def send(key: bytes, value: bytes, partition: int) -> Awaitable[Any]:
        return await publish(app, topic, key, value, partition=partition)

    logic = _CaseBus(send=send, store=store, partitions=ctx.partitions)
    stage = PartitionStage(name="case_bus", topic=topic, log_id=log_id, logic=logic,
                           log=BrokerPartitionLog(bootstrap_servers(ctx.profile), topic),
                           catch_up=True)

    serve_stage(app, stage, app.topic(topic, **raw), batch_max=BATCH_MAX,
                within_s=BATCH_WITHIN_S)

    quiet_until = 0.0

    @app.timer(PUBLISH_S)  # type: ignore[untyped-decorator]  # faust's
    async def _publish_tick() -> None:
        nonlocal quiet_until
        if not stage.assigned or time.monotonic() < quiet_until:
            return  # owns nothing (no listing), or the last listing was long
        try:
            started = time.monotonic()
            stored = await stored_events(store)
            quiet_until = started + LIST_QUIET_FACTOR * (time.monotonic() - started)

            async def owed(partition: int, part: CasePartition) -> None:
                await logic.publish_owed(partition, part, stored)

            await stage.visit(owed)
        except Exception as exc:
            fail_stop("case_bus", exc)
