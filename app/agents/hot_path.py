"""Hot-path agent: admitted traffic -> IEG + OFP + DL + DF in one stage -> decisions on rtdl.

One stage on purpose (DESIGN section 9: few hops): the graph, the feature windows and the
decision of a (run, partition) live in the same task, so a trigger's snapshot sees exactly the
events before it on its partition, with no cross-topic join to wait for. Each component keeps
its own module, contracts and metrics; this file only moves bytes and keeps time.

Exactly one decision per trigger across crashes and rebalances: on taking a partition the stage
reads what the partition's rtdl twin already holds and replays the traffic partition up to where
faust resumes, folding already-decided triggers in with their recorded outcomes (see
``app.hotpath.decided_log``). A batch's decisions are acked by the broker before faust commits
the batch's offsets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import faust

from app.dl.ladder import transition_fact
from app.eb.partition_reader import read_partition
from app.eb.publish import publish
from app.eb.topics import Topic
from app.hotpath.bundle_resolution import resolve_active_with_activation
from app.hotpath.decided_log import scan_decided
from app.hotpath.engine import DecisionContext, HotPath, StepResult
from app.ig.run_directory import RunDirectory
from app.objectstore.config import open_object_store
from app.rails.canonical_json import canonical_dumps
from app.rails.decision import DecisionOutcome
from app.rails.receipts import EbRef
from app.registry.resolver import Resolution
from app.registry.store import RegistryStore, activation_fact
from app.runtime.agent_context import AgentContext
from app.runtime.bus_address import bootstrap_servers
from app.runtime.degrade_monitor import DegradeMonitor
from app.runtime.fail_stop import fail_stop
from app.runtime.hotpath_api import mount_hotpath_api
from app.runtime.hotpath_metrics import (
    ANOMALIES,
    DECISION_SECONDS,
    DECISIONS,
    EVENTS,
    SHARD_STATE,
    set_posture,
)
from app.runtime.structured_log import log_event
from app.runtime.wall_clock import wall_clock_ts

__all__ = ["BATCH_MAX", "register"]

logger = logging.getLogger(__name__)
BATCH_MAX = 500
BATCH_WITHIN_S = 0.005
POSTURE_TICK_S = 1.0


@dataclass
class _Stage:
    app: faust.App
    ctx: AgentContext
    engine: HotPath
    directory: RunDirectory
    registry: RegistryStore
    monitor: DegradeMonitor
    traffic: str
    rtdl: str
    audit: str
    resolution: Resolution | None = None
    announced_activation: int | None = None
    prepared: set[int] = field(default_factory=set)
    decided: dict[int, dict[int, DecisionOutcome]] = field(default_factory=dict)
    next_offset: dict[int, int] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def process(self, events: Sequence[Any]) -> None:
        """One batch, under the lock a revocation also takes (state never changes mid-batch)."""
        async with self.lock:
            await self._process(events)

    async def _process(self, events: Sequence[Any]) -> None:
        await self.directory.refresh(_run_ids(events))
        if self.resolution is None:
            await self.refresh_registry()
        if self.monitor.stamp is None:
            await self.tick()  # the first batch must not wait a tick (or decide FAIL_CLOSED)
        owned = {tp.partition for tp in self.app.consumer.assignment() if tp.topic == self.traffic}
        live = [ev for ev in events if ev.message.partition in owned]  # none of a revoked one
        first_of: dict[int, int] = {}
        for ev in live:
            first_of.setdefault(ev.message.partition, ev.message.offset)
        for partition in sorted(first_of.keys() - self.prepared):
            await self._prepare(partition, first_of[partition])
        ctx = self._context()
        sends: list[tuple[Any, float | None, StepResult]] = []
        anomalies = 0
        for ev in live:
            message = ev.message
            expected = self.next_offset[message.partition]
            if message.offset < expected:
                continue  # delivered again after a rebalance: already applied (and decided)
            if message.offset > expected:  # a gap (should not happen): fill it from the log
                for result in await self._replay_range(message.partition, expected,
                                                       message.offset, ctx):
                    sends.append((await self._emit(result, b"", message.partition), None,
                                  result))
            result = self._step(message.value or b"", message.partition, message.offset, ctx)
            if result.decision is not None or result.anomaly is not None:
                sends.append((await self._emit(result, message.key or b"", message.partition),
                              message.timestamp, result))
            anomalies += result.anomaly is not None
        acks = await asyncio.gather(*(future for future, _, _ in sends))  # raises: crash, redo
        now = time.time()
        for (_, admitted_at_s, result), _meta in zip(sends, acks, strict=True):
            _observe(result, admitted_at_s, now)
        self.monitor.note_batch(len(live), anomalies)

    def _step(self, raw: bytes, partition: int, offset: int, ctx: DecisionContext) -> StepResult:
        """Apply one record; offsets of a partition are applied exactly once, in order."""
        prior = self.decided.get(partition, {}).pop(offset, None)
        result = self.engine.step(raw, EbRef(topic=self.traffic, partition=partition,
                                             offset=offset), ctx,
                                  run_known=self._run_known, prior=prior)
        self.next_offset[partition] = offset + 1
        return result

    async def _emit(self, result: StepResult, key: bytes, partition: int) -> Any:
        if result.decision is not None:
            body = canonical_dumps(result.decision.model_dump(mode="json"))
            return await publish(self.app, self.rtdl, key, body, partition=partition)
        assert result.anomaly is not None
        body = canonical_dumps(result.anomaly.model_dump(mode="json"))
        return await publish(self.app, self.audit, result.anomaly.anomaly_id.encode(), body)

    async def _replay_range(self, partition: int, start: int, stop: int,
                            ctx: DecisionContext) -> list[StepResult]:
        """Apply the log's records in [start, stop); returns decisions still owed (to emit)."""
        servers = bootstrap_servers(self.ctx.profile)
        history = await read_partition(servers, self.traffic, partition, start=start, stop=stop)
        await self.directory.refresh(_run_ids(history))
        return [result for record in history
                if (result := self._step(record.value or b"", partition, record.offset, ctx)
                    ).decision is not None]

    async def _prepare(self, partition: int, resume_offset: int) -> None:
        """Rebuild the partition's state up to where faust resumes; learn what is decided."""
        started = time.monotonic()
        servers = bootstrap_servers(self.ctx.profile)
        decided = await scan_decided(servers, self.rtdl, self.traffic, partition)
        self.engine.drop_partitions([partition])
        self.decided[partition] = decided
        self.next_offset[partition] = 0
        owed = await self._replay_range(partition, 0, resume_offset, self._context())
        for result in owed:  # decided before the crash but never acked: decide now, once
            await (await self._emit(result, b"", partition))
        self.next_offset[partition] = resume_offset
        self.prepared.add(partition)
        log_event(logger, "hotpath.prepared", partition=partition, replayed=resume_offset,
                  already_decided=len(decided), owed=len(owed),
                  seconds=round(time.monotonic() - started, 3))

    def _context(self) -> DecisionContext:
        posture, reasons = self.monitor.current()
        resolution = self.resolution or Resolution(bundle=None, ref=None, reason_codes=())
        return DecisionContext(posture=posture, posture_reasons=reasons, resolution=resolution)

    def _run_known(self, run_id: str) -> bool:
        state = self.directory.get(run_id)
        return state is not None and state.status == "READY"

    async def refresh_registry(self) -> None:
        """Re-resolve the ACTIVE bundle; announce an activation this worker has not announced.

        Every worker announces what it sees; the fact id is a function of the activation, so
        the copies are one fact to any consumer that dedupes on ``fact_id``.
        """
        self.resolution, activation = await resolve_active_with_activation(
            self.registry, self.ctx.profile.policy.decision)
        if activation is not None and activation.seq != self.announced_activation:
            fact = activation_fact(activation, self.ctx.profile.policy_rev)
            await (await publish(self.app, self.audit, fact.fact_id.encode(),
                                 canonical_dumps(fact.model_dump(mode="json"))))
            self.announced_activation = activation.seq

    async def tick(self) -> None:
        """DL: signals -> ladder -> posture stamp; a transition becomes a governance fact."""
        transition = self.monitor.tick(
            lag_events=self._lag(),
            registry_resolved=None if self.resolution is None
            else self.resolution.bundle is not None)
        set_posture(self.monitor.ladder.posture)
        if transition is not None:
            scope = f"worker:{self.ctx.profile.wiring.worker.app_id}"
            fact = transition_fact(transition, scope=scope,
                                   policy_rev=self.ctx.profile.policy_rev,
                                   at_utc=wall_clock_ts())
            await (await publish(self.app, self.audit, fact.fact_id.encode(),
                                 canonical_dumps(fact.model_dump(mode="json"))))
            log_event(logger, "dl.transition", from_posture=str(transition.from_posture),
                      to_posture=str(transition.to_posture),
                      reasons=[str(r) for r in transition.reason_codes])
        retained = sum(s.features.retained_txns() for s in self.engine.shards())
        SHARD_STATE.labels("feature_txns").set(retained)

    def _lag(self) -> int | None:
        consumer = self.app.consumer
        lag = 0
        for tp in consumer.assignment():
            if tp.topic != self.traffic:
                continue
            highwater = consumer.highwater(tp)
            if highwater is None:
                return None
            lag += max(0, highwater - self.next_offset.get(tp.partition, highwater))
        return lag

    def forget(self) -> None:
        """After a revocation: every partition is rebuilt when (re)assigned."""
        self.engine.drop_partitions(list(self.prepared))
        self.prepared.clear()
        self.decided.clear()
        self.next_offset.clear()


def _observe(result: StepResult, admitted_at_s: float | None, now_s: float) -> None:
    """Count one emitted record; ``admitted_at_s`` is the traffic record's timestamp (faust
    gives it in seconds)."""
    if result.decision is not None:
        decision = result.decision
        DECISIONS.labels(decision.outcome.value, decision.posture.value).inc()
        EVENTS.labels("auth_request").inc()
        if admitted_at_s:
            DECISION_SECONDS.observe(max(0.0, now_s - admitted_at_s))
    elif result.anomaly is not None:
        ANOMALIES.labels(result.anomaly.reason_code.value).inc()


_RUN_ID_FIELD = b'"run_id":"'


def _run_ids(records: Sequence[Any]) -> set[str]:
    """Run ids the records name, found without a full parse (the step parses each record anyway).

    Traffic records are canonical JSON, so ``"run_id":"<32 hex>"`` appears verbatim; a record
    where it does not is left to the step, which reports it as an anomaly.
    """
    ids: set[str] = set()
    for record in records:
        value = (record.message.value if hasattr(record, "message") else record.value) or b""
        at = value.find(_RUN_ID_FIELD)
        if at >= 0:
            ids.add(value[at + len(_RUN_ID_FIELD):at + len(_RUN_ID_FIELD) + 32].decode(
                "ascii", "replace"))
    return ids


def register(app: faust.App, ctx: AgentContext) -> None:
    """Declare the hot path's topics, its agent, the DL tick and the registry refresh."""
    raw = {"key_serializer": "raw", "value_serializer": "raw", "partitions": ctx.partitions}
    for name in (Topic.RTDL, Topic.AUDIT):
        app.topic(ctx.topic(name), **raw)
    policy = ctx.profile.policy
    store = open_object_store(ctx.profile.wiring.object_store, base_dir=ctx.profile.base_dir)
    stage = _Stage(
        app=app, ctx=ctx, engine=HotPath(policy.decision, ctx.profile.policy_rev),
        directory=RunDirectory(store, now=time.monotonic), registry=RegistryStore(store),
        monitor=DegradeMonitor(policy.degrade, scope=ctx.profile.wiring.worker.app_id),
        traffic=ctx.topic(Topic.TRAFFIC), rtdl=ctx.topic(Topic.RTDL), audit=ctx.topic(Topic.AUDIT))
    mount_hotpath_api(app, stage.engine, ctx.partitions)

    @app.on_partitions_revoked.connect
    async def _forget(sender: Any, revoked: Any, **kwargs: Any) -> None:
        async with stage.lock:  # after the batch in flight: its decisions are acked by then
            stage.forget()

    @app.timer(POSTURE_TICK_S)
    async def _posture_tick() -> None:
        await stage.tick()

    @app.timer(policy.decision.registry_refresh_s)
    async def _registry_refresh() -> None:
        await stage.refresh_registry()

    @app.agent(app.topic(ctx.topic(Topic.TRAFFIC), **raw), name="hotpath")
    async def hotpath(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_S):
            try:
                await stage.process(events)
            except Exception as exc:
                fail_stop("hotpath", exc)

