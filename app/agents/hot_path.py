"""Hot-path agents: admitted traffic -> one event-time fold per run (IEG + OFP + DL + DF) -> rtdl.

Two stages (issue #12, ``docs/feature_exactness.md``):

1. ``hotpath-forward`` reads each traffic partition and forwards every record, watermark
   records included, to ``fp.hotpath.seq.v2`` keyed by ``run_id``: the consecutive records of
   one (traffic partition, run) in a delivered batch travel as one bundle that says where each
   sits on the traffic log (``app.hotpath.seq_bundle``). A partition's records keep their order,
   and a revocation waits for the forwards in flight, so a run's fold sees each traffic
   partition in order (records forwarded again after a rebalance are skipped by offset).
2. ``hotpath`` owns partitions of the seq topic, so each run is folded by exactly one worker
   over ALL of its traffic partitions: events wait until the run's watermark passes them and are
   applied in event-time order (``app.hotpath.sequencer``). A trigger's snapshot therefore sees
   exactly the run's events before it, whatever the partition or worker count.

Stage 2 is a partition stage (``app.runtime.partition_stage``). Exactly one decision per trigger
across crashes and rebalances: on taking a seq partition it loads the newest snapshot of the
partition's run folds (``app.hotpath.fold_snapshot``, every ``wiring.hotpath.
snapshot_every_records`` and at a revocation) or starts at offset 0, reads which triggers rtdl
already holds a decision for, and replays the seq log up to the first delivered record, folding
already-decided triggers in without deciding them again (``app.hotpath.decided_log``). A batch's
decisions are acked by the broker before faust commits the batch's offsets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import faust

from app.dl.ladder import transition_fact
from app.eb.publish import publish
from app.eb.topics import Topic, log_id_of
from app.hotpath.bundle_resolution import resolve_scope
from app.hotpath.decided_log import scan_decided
from app.hotpath.engine import DecisionContext, HotPath, StepResult
from app.hotpath.fold_snapshot import dump_lane, load_lane
from app.hotpath.seq_bundle import Forwarded, SeqBundleError, pack_all, unpack
from app.ig.run_directory import RunDirectory
from app.objectstore.config import open_object_store
from app.rails.anomaly import hot_path_anomaly
from app.rails.canonical_json import canonical_dumps
from app.rails.decision import DecisionOutcome, encode_decision
from app.rails.payloads.declared import DeclaredContract
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import EbRef
from app.rails.watermark import is_watermark_record
from app.registry.resolver import Resolution
from app.registry.store import RegistryStore, activation_fact, shadow_fact
from app.runtime.agent_context import AgentContext
from app.runtime.bus_address import bootstrap_servers, broker_epoch
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
from app.runtime.partition_stage import (
    BrokerPartitionLog,
    PartitionStage,
    Record,
    Resumed,
    SnapshotPolicy,
    StageLogic,
    Taken,
)
from app.runtime.stage_snapshots import StageSnapshot
from app.runtime.structured_log import log_event
from app.runtime.wall_clock import wall_clock_ts

__all__ = ["BATCH_MAX", "register"]

logger = logging.getLogger(__name__)
BATCH_MAX = 500
BATCH_WITHIN_S = 0.005
POSTURE_TICK_S = 1.0
TAKE_TICK_S = 0.5


@dataclass
class _Forwarder:
    """Stage 1: traffic (and its watermarks) re-keyed by run, order kept per traffic partition."""

    app: faust.App
    traffic: str
    seq: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def forward(self, events: Sequence[Any]) -> None:
        async with self.lock:  # a revocation waits for the forwards in flight
            owned = {tp.partition for tp in self.app.consumer.assignment()
                     if tp.topic == self.traffic}
            groups: dict[tuple[int, str], list[tuple[int, bool, bytes]]] = {}
            for ev in events:
                message = ev.message
                if message.partition not in owned:
                    # Of a partition revoked meanwhile: its new owner forwards it from the
                    # committed offset; a late copy from here could jump ahead of the new
                    # owner's and make the fold skip the records in between.
                    continue
                value = message.value or b""
                groups.setdefault((message.partition, _run_id(value)), []).append(
                    (message.offset, is_watermark_record(message.headers), value))
            sends = [await publish(self.app, self.seq, run_id.encode(), bundle)
                     for (partition, run_id), items in groups.items()
                     for bundle in pack_all(partition, items)]
            await asyncio.gather(*sends)  # raises: crash, the batch is forwarded again


@dataclass
class _Lane:
    """What a seq partition keeps beside its run folds (which live in the engine, by lane):
    the triggers already decided on rtdl, folded in without a second decision."""

    decided: dict[tuple[int, int], DecisionOutcome]


@dataclass
class _Stage(StageLogic[_Lane]):
    """Stage 2: the run folds of the seq partitions this worker owns (a partition stage:
    ``app.runtime.partition_stage`` resumes it from a snapshot or offset 0, fills gaps, skips
    redeliveries and waits for the batch in flight before a revocation)."""

    app: faust.App
    ctx: AgentContext
    engine: HotPath
    directory: RunDirectory
    registry: RegistryStore
    monitor: DegradeMonitor
    traffic: str
    seq: str
    rtdl: str
    audit: str
    stage: PartitionStage[_Lane] | None = None
    resolution: Resolution | None = None
    announced_activation: int | None = None
    announced_shadow: int | None = None
    admitted_at: dict[tuple[int, int], float] = field(default_factory=dict)

    async def load(self, partition: int, carrier: Any,
                   snapshot: StageSnapshot | None) -> Resumed[_Lane]:
        """The partition's folds from the newest snapshot (or nothing: offset 0), and which
        triggers rtdl already holds a decision for."""
        servers = bootstrap_servers(self.ctx.profile)
        decided = await scan_decided(servers, self.rtdl, self.traffic,
                                     range(self.ctx.partitions), seq_partition=partition,
                                     seq_partitions=self.ctx.partitions)
        self.engine.drop_lanes([partition])
        folds = None if snapshot is None else load_lane(snapshot.state)
        if snapshot is not None and folds is not None:
            self.engine.load_lane(partition, folds)
            return Resumed(_Lane(decided), snapshot.next_offset)
        return Resumed(_Lane(decided), 0)

    async def step(self, records: Sequence[Record], states: Mapping[int, _Lane]) -> None:
        await self.directory.refresh(_run_ids(records))
        if self.resolution is None:
            await self.refresh_registry()
        if self.monitor.stamp is None:
            await self.tick()  # the first batch must not wait a tick (or decide FAIL_CLOSED)
        ctx = self._context()
        sends: list[tuple[Any, StepResult]] = []
        anomalies = 0
        for record in records:
            for result in self._offer(record, states[record.partition], ctx):
                if result.decision is not None or result.anomaly is not None:
                    sends.append((await self._emit(result), result))
                    anomalies += result.anomaly is not None
        acks = await asyncio.gather(*(future for future, _ in sends))  # raises: crash, redo
        now = time.time()
        for (_, result), _meta in zip(sends, acks, strict=True):
            _observe(result, self._admitted_at(result), now)
        self.monitor.note_batch(len(records), anomalies)

    async def release(self, partition: int, state: _Lane) -> None:
        self.engine.drop_lanes([partition])

    def snapshot(self, partition: int, state: _Lane) -> bytes | None:
        return dump_lane(self.engine.lane(partition))

    def taken(self, partition: int, state: _Lane, info: Taken) -> None:
        log_event(logger, "hotpath.prepared", partition=partition, resumed_at=info.resumed_at,
                  first_delivered=info.first_delivered, already_decided=len(state.decided),
                  runs=len(self.engine.lane(partition)), seconds=info.seconds)

    def _offer(self, record: Record, lane: _Lane, ctx: DecisionContext) -> list[StepResult]:
        """Every traffic record of a seq bundle through the fold, in order."""
        try:
            items = unpack(record.value)
        except SeqBundleError as exc:  # not written by stage 1: report it, never fold it
            seq_ref = EbRef(topic=self.seq, partition=record.partition, offset=record.offset)
            return [StepResult(anomaly=hot_path_anomaly(
                "df", ReasonCode.TRIGGER_UNREADABLE, seq_ref,
                f"record on {self.seq} is not a stage-1 bundle: {exc}"))]
        results: list[StepResult] = []
        for item in items:
            self._note_admission(item, record.timestamp_s)
            results.extend(self.engine.offer(
                item.value, EbRef(topic=self.traffic, partition=item.partition,
                                  offset=item.offset),
                ctx, run_known=self._run_known, watermark=item.watermark,
                decided=lane.decided, lane=record.partition, declared_of=self._declared))
        return results

    def _note_admission(self, item: Forwarded, forwarded_s: float | None) -> None:
        """Remember when stage 1 forwarded a trigger (the decision metric's start)."""
        if forwarded_s and any(mark in item.value for mark in self._trigger_marks):
            self.admitted_at[(item.partition, item.offset)] = forwarded_s

    def _admitted_at(self, result: StepResult) -> float | None:
        if result.decision is None:
            return None
        ref = result.decision.trigger.eb_ref
        return self.admitted_at.pop((ref.partition, ref.offset), None)

    async def _emit(self, result: StepResult) -> Any:
        if result.decision is not None:
            body = encode_decision(result.decision)
            key = result.decision.pins.run_id.encode()
            # On its trigger's traffic partition, not the run's seq partition: AL and DLA then
            # spread one run's chains over the workers (app.hotpath.decided_log).
            return await publish(self.app, self.rtdl, key, body,
                                 partition=result.decision.trigger.eb_ref.partition)
        assert result.anomaly is not None
        body = canonical_dumps(result.anomaly.model_dump(mode="json"))
        return await publish(self.app, self.audit, result.anomaly.anomaly_id.encode(), body)

    def _context(self) -> DecisionContext:
        posture, reasons = self.monitor.current()
        resolution = self.resolution or Resolution(bundle=None, ref=None, reason_codes=())
        return DecisionContext(posture=posture, posture_reasons=reasons, resolution=resolution)

    def _run_known(self, run_id: str) -> bool:
        state = self.directory.get(run_id)
        return state is not None and state.status == "READY"

    def _declared(self, run_id: str) -> Mapping[tuple[str, str], DeclaredContract]:
        """The run's generated payload contracts (an imported world's event types)."""
        state = self.directory.get(run_id)
        return {} if state is None else state.declared

    @cached_property
    def _trigger_marks(self) -> tuple[bytes, ...]:
        """Byte marks of the policy's trigger event types in a canonical envelope."""
        return tuple(b'"event_type":"' + t.encode() + b'"' for t in self.engine.policy.triggers)

    async def refresh_registry(self) -> None:
        """Re-resolve the ACTIVE bundle; announce an activation this worker has not announced.

        Every worker announces what it sees; the fact id is a function of the activation, so
        the copies are one fact to any consumer that dedupes on ``fact_id``.
        """
        scope = await resolve_scope(self.registry, self.ctx.profile.policy.decision)
        self.resolution = scope.resolution
        activation, change = scope.activation, scope.shadow_change
        if activation is not None and activation.seq != self.announced_activation:
            fact = activation_fact(activation, self.ctx.profile.policy_rev)
            await (await publish(self.app, self.audit, fact.fact_id.encode(),
                                 canonical_dumps(fact.model_dump(mode="json"))))
            self.announced_activation = activation.seq
        if change is not None and change.seq != self.announced_shadow:
            fact = shadow_fact(change, self.ctx.profile.policy_rev)
            await (await publish(self.app, self.audit, fact.fact_id.encode(),
                                 canonical_dumps(fact.model_dump(mode="json"))))
            self.announced_shadow = change.seq

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
        applied = {} if self.stage is None else self.stage.next_offsets
        lag = 0
        for tp in consumer.assignment():
            if tp.topic != self.seq:
                continue
            highwater = consumer.highwater(tp)
            if highwater is None:
                return None
            lag += max(0, highwater - applied.get(tp.partition, highwater))
        return lag


async def _nothing(partition: int, state: _Lane) -> None:
    """A take tick has nothing to flush: taking the partitions is the point."""


def _observe(result: StepResult, admitted_at_s: float | None, now_s: float) -> None:
    """Count one emitted record; ``admitted_at_s`` is when stage 1 forwarded the trigger (faust
    gives it in seconds): the metric is the fold's delay, watermark wait included."""
    if result.decision is not None:
        decision = result.decision
        DECISIONS.labels(decision.outcome.value, decision.posture.value).inc()
        EVENTS.labels("auth_request").inc()
        if admitted_at_s:
            DECISION_SECONDS.observe(max(0.0, now_s - admitted_at_s))
    elif result.anomaly is not None:
        ANOMALIES.labels(result.anomaly.reason_code.value).inc()


_RUN_ID_FIELD = b'"run_id":"'


def _run_id(value: bytes) -> str:
    """The run id a canonical-JSON traffic or watermark record names, found without a parse
    (``"run_id":"<32 hex>"`` appears verbatim); ``""`` when absent (the fold reports it)."""
    at = value.find(_RUN_ID_FIELD)
    if at < 0:
        return ""
    start = at + len(_RUN_ID_FIELD)
    return value[start:start + 32].decode("ascii", "replace")


def _run_ids(records: Sequence[Any]) -> set[str]:
    """Run ids the records name (the step parses each record anyway)."""
    ids = {_run_id((record.message.value if hasattr(record, "message") else record.value)
                   or b"") for record in records}
    ids.discard("")
    return ids


def register(app: faust.App, ctx: AgentContext) -> None:
    """Declare the hot path's topics, its two agents, the DL tick and the registry refresh."""
    raw = {"key_serializer": "raw", "value_serializer": "raw", "partitions": ctx.partitions}
    for name in (Topic.RTDL, Topic.AUDIT):
        app.topic(ctx.topic(name), **raw)
    profile = ctx.profile
    policy = profile.policy
    store = open_object_store(profile.wiring.object_store, base_dir=profile.base_dir)
    forwarder = _Forwarder(app=app, traffic=ctx.topic(Topic.TRAFFIC),
                           seq=ctx.topic(Topic.HOTPATH_SEQ))
    seq = ctx.topic(Topic.HOTPATH_SEQ)
    logic = _Stage(
        app=app, ctx=ctx, engine=HotPath(policy.decision, profile.policy_rev),
        directory=RunDirectory(store, now=time.monotonic), registry=RegistryStore(store),
        monitor=DegradeMonitor(policy.degrade, scope=profile.wiring.worker.app_id),
        traffic=ctx.topic(Topic.TRAFFIC), seq=seq,
        rtdl=ctx.topic(Topic.RTDL), audit=ctx.topic(Topic.AUDIT))
    stage = logic.stage = PartitionStage(
        name="hotpath", topic=seq, log_id=log_id_of(seq, broker_epoch(profile)), logic=logic,
        log=BrokerPartitionLog(bootstrap_servers(profile), seq),
        snapshots=SnapshotPolicy(store=store, owner="hotpath",
                                 every_records=profile.wiring.hotpath.snapshot_every_records),
        catch_up=True,  # faust may never deliver the record at a restarted group's offset
        owned=lambda: {tp.partition for tp in app.consumer.assignment() if tp.topic == seq})
    mount_hotpath_api(app, logic.engine)

    @app.on_partitions_revoked.connect
    async def _forget(sender: Any, revoked: Any, **kwargs: Any) -> None:
        async with forwarder.lock:  # forwards in flight are acked before a partition moves
            pass
        await stage.revoke()  # after the batch in flight: its decisions are acked by then
        logic.admitted_at.clear()

    @app.on_partitions_assigned.connect
    async def _assigned(sender: Any, assigned: Any, **kwargs: Any) -> None:
        stage.assign(assigned)

    @app.timer(POSTURE_TICK_S)
    async def _posture_tick() -> None:
        await logic.tick()

    @app.timer(TAKE_TICK_S)
    async def _take_assigned() -> None:
        try:
            await stage.visit(_nothing)  # take (and catch up) partitions nothing is delivered on
        except Exception as exc:
            fail_stop("hotpath", exc)

    @app.timer(policy.decision.registry_refresh_s)
    async def _registry_refresh() -> None:
        await logic.refresh_registry()

    @app.agent(app.topic(ctx.topic(Topic.TRAFFIC), **raw), name="hotpath-forward")
    async def hotpath_forward(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_S):
            try:
                await forwarder.forward(events)
            except Exception as exc:
                fail_stop("hotpath-forward", exc)

    @app.agent(app.topic(seq, **raw), name="hotpath")
    async def hotpath(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_S):
            try:
                await stage.process(events)
            except Exception as exc:
                fail_stop("hotpath", exc)
