"""Hot-path agents: admitted traffic -> one event-time fold per run (IEG + OFP + DL + DF) -> rtdl.

Two stages (issue #12, ``docs/feature_exactness.md``):

1. ``hotpath-forward`` reads each traffic partition and forwards every record, watermark
   records included, to ``fp.hotpath.seq.v1`` keyed by ``run_id``, stamped with where it sits on
   the traffic log (``fp-src: <partition>:<offset>``). A partition's records keep their order,
   and a revocation waits for the forwards in flight, so a run's fold sees each traffic
   partition in order (records forwarded again after a rebalance are skipped by offset).
2. ``hotpath`` owns partitions of the seq topic, so each run is folded by exactly one worker
   over ALL of its traffic partitions: events wait until the run's watermark passes them and are
   applied in event-time order (``app.hotpath.sequencer``). A trigger's snapshot therefore sees
   exactly the run's events before it, whatever the partition or worker count.

Exactly one decision per trigger across crashes and rebalances: on taking a seq partition the
stage reads what its rtdl twin already holds and replays the seq partition up to where faust
resumes, folding already-decided triggers in without deciding them again (see
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
from app.rails.anomaly import hot_path_anomaly
from app.rails.canonical_json import canonical_dumps
from app.rails.decision import DecisionOutcome
from app.rails.reason_codes import ReasonCode
from app.rails.receipts import EbRef
from app.rails.watermark import WATERMARK_HEADER, is_watermark_record
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

__all__ = ["BATCH_MAX", "SRC_HEADER", "register"]

logger = logging.getLogger(__name__)
BATCH_MAX = 500
BATCH_WITHIN_S = 0.005
POSTURE_TICK_S = 1.0
SRC_HEADER = "fp-src"
"""On ``fp.hotpath.seq.v1``: ``<traffic partition>:<offset>`` of the forwarded record."""
_TRIGGER_MARK = b'"event_type":"auth_request"'


@dataclass
class _Forwarder:
    """Stage 1: traffic (and its watermarks) re-keyed by run, order kept per traffic partition."""

    app: faust.App
    seq: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def forward(self, events: Sequence[Any]) -> None:
        async with self.lock:  # a revocation waits for the forwards in flight
            sends = []
            for ev in events:
                message = ev.message
                value = message.value or b""
                headers = {SRC_HEADER: f"{message.partition}:{message.offset}".encode()}
                if is_watermark_record(message.headers):
                    headers[WATERMARK_HEADER] = b"1"
                run_id = _run_id(value)
                sends.append(await publish(self.app, self.seq, run_id.encode(), value, headers))
            await asyncio.gather(*sends)  # raises: crash, the batch is forwarded again


@dataclass
class _Stage:
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
    resolution: Resolution | None = None
    announced_activation: int | None = None
    prepared: set[int] = field(default_factory=set)
    decided: dict[int, dict[tuple[int, int], DecisionOutcome]] = field(default_factory=dict)
    next_offset: dict[int, int] = field(default_factory=dict)
    admitted_at: dict[tuple[int, int], float] = field(default_factory=dict)
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
        owned = {tp.partition for tp in self.app.consumer.assignment() if tp.topic == self.seq}
        live = [ev for ev in events if ev.message.partition in owned]  # none of a revoked one
        first_of: dict[int, int] = {}
        for ev in live:
            first_of.setdefault(ev.message.partition, ev.message.offset)
        for partition in sorted(first_of.keys() - self.prepared):
            await self._prepare(partition, first_of[partition])
        ctx = self._context()
        sends: list[tuple[Any, StepResult]] = []
        anomalies = 0
        for ev in live:
            message = ev.message
            expected = self.next_offset[message.partition]
            if message.offset < expected:
                continue  # delivered again after a rebalance: already applied (and decided)
            if message.offset > expected:  # a gap (should not happen): fill it from the log
                await self._replay_range(message.partition, expected, message.offset, ctx,
                                         sends)
            self._note_admission(message.headers, message.value, message.timestamp)
            for result in self._step(message.value or b"", message.headers, message.partition,
                                     message.offset, ctx):
                if result.decision is not None or result.anomaly is not None:
                    sends.append((await self._emit(result, message.partition), result))
                    anomalies += result.anomaly is not None
        acks = await asyncio.gather(*(future for future, _ in sends))  # raises: crash, redo
        now = time.time()
        for (_, result), _meta in zip(sends, acks, strict=True):
            _observe(result, self._admitted_at(result), now)
        self.monitor.note_batch(len(live), anomalies)

    def _step(self, raw: bytes, headers: Any, partition: int, offset: int,
              ctx: DecisionContext) -> list[StepResult]:
        """Apply one seq record; offsets of a partition are applied exactly once, in order."""
        self.next_offset[partition] = offset + 1
        ref = _source_ref(headers, self.traffic)
        if ref is None:  # not written by stage 1: report it, never fold it
            seq_ref = EbRef(topic=self.seq, partition=partition, offset=offset)
            return [StepResult(anomaly=hot_path_anomaly(
                "df", ReasonCode.TRIGGER_UNREADABLE, seq_ref,
                f"record on {self.seq} without a valid {SRC_HEADER} header"))]
        return self.engine.offer(raw, ref, ctx, run_known=self._run_known,
                                 watermark=is_watermark_record(headers),
                                 decided=self.decided.setdefault(partition, {}), lane=partition)

    def _note_admission(self, headers: Any, value: bytes | None, timestamp: float | None
                        ) -> None:
        """Remember when a trigger was admitted (stage 1 keeps the traffic record's timestamp
        only in its own send time, so the metric uses the forward time; see ``_observe``)."""
        if timestamp and value and _TRIGGER_MARK in value:
            ref = _source_ref(headers, self.traffic)
            if ref is not None:
                self.admitted_at[(ref.partition, ref.offset)] = timestamp

    def _admitted_at(self, result: StepResult) -> float | None:
        if result.decision is None:
            return None
        ref = result.decision.trigger.eb_ref
        return self.admitted_at.pop((ref.partition, ref.offset), None)

    async def _emit(self, result: StepResult, partition: int) -> Any:
        if result.decision is not None:
            body = canonical_dumps(result.decision.model_dump(mode="json"))
            key = result.decision.pins.run_id.encode()
            return await publish(self.app, self.rtdl, key, body, partition=partition)
        assert result.anomaly is not None
        body = canonical_dumps(result.anomaly.model_dump(mode="json"))
        return await publish(self.app, self.audit, result.anomaly.anomaly_id.encode(), body)

    async def _replay_range(self, partition: int, start: int, stop: int,
                            ctx: DecisionContext, sends: list[tuple[Any, StepResult]], *,
                            anomalies: bool = True) -> None:
        """Apply the seq log's records in [start, stop); queue the decisions they release (and
        anomalies, unless replaying what was already reported) for emission."""
        servers = bootstrap_servers(self.ctx.profile)
        history = await read_partition(servers, self.seq, partition, start=start, stop=stop)
        await self.directory.refresh(_run_ids(history))
        for record in history:
            for result in self._step(record.value or b"", record.headers, partition,
                                     record.offset, ctx):
                if result.decision is not None or (anomalies and result.anomaly is not None):
                    sends.append((await self._emit(result, partition), result))

    async def _prepare(self, partition: int, resume_offset: int) -> None:
        """Rebuild the runs of a seq partition up to where faust resumes; learn what is
        decided, and decide (once) what was released before a crash but never emitted."""
        started = time.monotonic()
        servers = bootstrap_servers(self.ctx.profile)
        decided = await scan_decided(servers, self.rtdl, self.traffic, partition)
        already = len(decided)
        self.engine.drop_lanes([partition])
        self.decided[partition] = decided
        self.next_offset[partition] = 0
        owed: list[tuple[Any, StepResult]] = []
        await self._replay_range(partition, 0, resume_offset, self._context(), owed,
                                 anomalies=False)
        await asyncio.gather(*(future for future, _ in owed))
        self.next_offset[partition] = resume_offset
        self.prepared.add(partition)
        log_event(logger, "hotpath.prepared", partition=partition, replayed=resume_offset,
                  already_decided=already, owed=sum(r.decision is not None for _, r in owed),
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
            if tp.topic != self.seq:
                continue
            highwater = consumer.highwater(tp)
            if highwater is None:
                return None
            lag += max(0, highwater - self.next_offset.get(tp.partition, highwater))
        return lag

    def forget(self) -> None:
        """After a revocation: every partition is rebuilt when (re)assigned."""
        self.engine.drop_lanes(list(self.prepared))
        self.prepared.clear()
        self.decided.clear()
        self.next_offset.clear()
        self.admitted_at.clear()


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


def _source_ref(headers: Any, traffic: str) -> EbRef | None:
    """Where stage 1 read the record on the traffic log, from its ``fp-src`` header."""
    items = headers.items() if isinstance(headers, dict) else (headers or ())
    for name, raw in items:
        if name == SRC_HEADER:
            try:
                partition, offset = (int(part) for part in bytes(raw).split(b":"))
                return EbRef(topic=traffic, partition=partition, offset=offset)
            except (ValueError, TypeError):
                return None
    return None


def register(app: faust.App, ctx: AgentContext) -> None:
    """Declare the hot path's topics, its two agents, the DL tick and the registry refresh."""
    raw = {"key_serializer": "raw", "value_serializer": "raw", "partitions": ctx.partitions}
    for name in (Topic.RTDL, Topic.AUDIT):
        app.topic(ctx.topic(name), **raw)
    policy = ctx.profile.policy
    store = open_object_store(ctx.profile.wiring.object_store, base_dir=ctx.profile.base_dir)
    forwarder = _Forwarder(app=app, seq=ctx.topic(Topic.HOTPATH_SEQ))
    stage = _Stage(
        app=app, ctx=ctx, engine=HotPath(policy.decision, ctx.profile.policy_rev),
        directory=RunDirectory(store, now=time.monotonic), registry=RegistryStore(store),
        monitor=DegradeMonitor(policy.degrade, scope=ctx.profile.wiring.worker.app_id),
        traffic=ctx.topic(Topic.TRAFFIC), seq=ctx.topic(Topic.HOTPATH_SEQ),
        rtdl=ctx.topic(Topic.RTDL), audit=ctx.topic(Topic.AUDIT))
    mount_hotpath_api(app, stage.engine)

    @app.on_partitions_revoked.connect
    async def _forget(sender: Any, revoked: Any, **kwargs: Any) -> None:
        async with forwarder.lock:  # forwards in flight are acked before a partition moves
            pass
        async with stage.lock:  # after the batch in flight: its decisions are acked by then
            stage.forget()

    @app.timer(POSTURE_TICK_S)
    async def _posture_tick() -> None:
        await stage.tick()

    @app.timer(policy.decision.registry_refresh_s)
    async def _registry_refresh() -> None:
        await stage.refresh_registry()

    @app.agent(app.topic(ctx.topic(Topic.TRAFFIC), **raw), name="hotpath-forward")
    async def hotpath_forward(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_S):
            try:
                await forwarder.forward(events)
            except Exception as exc:
                fail_stop("hotpath-forward", exc)

    @app.agent(app.topic(ctx.topic(Topic.HOTPATH_SEQ), **raw), name="hotpath")
    async def hotpath(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_S):
            try:
                await stage.process(events)
            except Exception as exc:
                fail_stop("hotpath", exc)
