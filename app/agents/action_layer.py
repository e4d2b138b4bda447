"""AL agent: decisions on ``fp.bus.rtdl.v1`` -> intents executed effectively once -> outcomes.

Per batch: decode the decisions (everything else on rtdl — AL's own outcomes — is skipped by a
byte check), drop intents that already have an outcome (DUPLICATE_INTENT, a no-op), execute the
rest in attempt rounds (``app.al.rounds``), publish each outcome to its decision's rtdl partition
under the decision's key and wait for the acks, then record the intents in the executed table
and the partition's progress (``al-executed-v1``, ``al-progress-v1``, Kafka changelogs).

AL owns its resume point through the partition stage (``app.runtime.partition_stage``, shared
with DLA and the hot path): faust's committed offset is not evidence that AL applied a record
(faust acks the records a stream skips during a rebalance, and the other rtdl consumer, DLA,
acks them too), so AL takes each assigned partition itself: soon after the assignment, from a
timer (faust has recovered its tables by then), not when a record is delivered, since a
partition's only record may never be delivered after a restart (seen with Tansu: a group offset
on a partition's last record). It starts from its progress entry and reads to the log end. The crash
window — outcome acked, table write lost (``kill -9``) — is closed on the same read: AL scans
the partition from its resume point to the end and treats every outcome there as done (an
outcome always follows its decision on the same partition). The executor's idempotency keys
cover the remaining window (side effect done, outcome never sent): the redelivered intent gets
the earlier side effect back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import faust
from pydantic import ValidationError

from app.al.executor import Executor
from app.al.payment_switch import PaymentSwitch
from app.al.rounds import execute_intents
from app.al.routes import Routes
from app.cases.opener import CaseOpener
from app.eb.publish import publish
from app.eb.topics import Topic, log_id_of
from app.objectstore.config import open_object_store
from app.rails.action import ActionOutcome
from app.rails.canonical_json import canonical_dumps
from app.rails.decision import ActionIntent, ActionType, DecisionRecord
from app.rails.decision_view import Decided, parse_decision_view
from app.rails.reason_codes import ReasonCode
from app.runtime.agent_context import AgentContext
from app.runtime.al_metrics import (
    ATTEMPTS,
    DUPLICATE_INTENTS,
    EXECUTE_SECONDS,
    OUTCOMES,
    UNREADABLE_RECORDS,
)
from app.runtime.bus_address import bootstrap_servers, broker_epoch
from app.runtime.fail_stop import fail_stop
from app.runtime.partition_stage import (
    BrokerPartitionLog,
    Event,
    PartitionLog,
    PartitionStage,
    Record,
    Resumed,
    StageLogic,
)
from app.runtime.policy_watch import PolicyWatch
from app.runtime.stage_snapshots import StageSnapshot
from app.runtime.structured_log import log_event
from app.runtime.wall_clock import wall_clock_ts
from app.tables.al import (
    AL_EXECUTED_TABLE,
    AL_PROGRESS_TABLE,
    executed_key,
    executed_value,
    progress_key,
    progress_of,
    progress_value,
)
from app.tables.event_context import as_current_partition

__all__ = ["BATCH_MAX", "register"]

logger = logging.getLogger(__name__)
BATCH_MAX = 500
BATCH_WITHIN_S = 0.01
TAKE_TICK_S = 0.5
"""How soon after an assignment AL takes (restores and catches up) a partition with no record
delivered yet."""
_DECISION = b'"record_type":"decision"'  # canonical JSON: sorted, compact, so verbatim
_OUTCOME = b'"record_type":"action_outcome"'


@dataclass
class _Job:
    """One intent to execute, with the record whose partition its table entry is filed under."""

    record: Record
    decision: Decided
    intent: ActionIntent


@dataclass
class _Layer(StageLogic[set[str]]):
    """AL's logic on the partition stage; a partition's state is the action ids whose outcome
    was on the log when it was taken (the crash window: outcome acked, table write lost)."""

    app: faust.App
    executor: Executor | Routes
    executed: Any  # the al-executed-v1 table
    progress: Any  # the al-progress-v1 table
    watch: PolicyWatch
    log: PartitionLog
    rtdl: str
    audit: str
    log_id: str  # the rtdl log progress offsets belong to

    async def step(self, records: Sequence[Record], states: Mapping[int, set[str]]) -> None:
        jobs: list[_Job] = []
        keys: set[str] = set()
        duplicates: list[str] = []
        for record in records:
            self._take(record, states[record.partition], jobs, keys, duplicates)
        if duplicates:
            DUPLICATE_INTENTS.inc(len(duplicates))
            log_event(logger, "al.duplicate_intents", reason_code=ReasonCode.DUPLICATE_INTENT,
                      count=len(duplicates), action_ids=[a[:16] for a in duplicates[:5]])
        if jobs:
            await self._execute(jobs)

    async def commit(self, partition: int, state: set[str], next_offset: int,
                     carrier: Event | None) -> None:
        """Everything below ``next_offset`` is applied (its outcomes acked): AL's resume point."""
        as_current_partition(self.rtdl, partition, carrier)  # this rtdl partition's changelog
        self.progress[progress_key(self.log_id, partition)] = progress_value(next_offset)

    def _take(self, record: Record, done: set[str], jobs: list[_Job], keys: set[str],
              duplicates: list[str]) -> None:
        """Queue the intents of a decision record that have no outcome yet (``keys``: the
        batch's queued action ids)."""
        raw = record.value
        if _DECISION not in raw:
            if _OUTCOME not in raw:
                self._unreadable(record, "neither a decision nor an action outcome")
            return
        try:
            decision: Decided = parse_decision_view(raw)  # the snapshot's values are not AL's
            if any(i.action_type is ActionType.OPEN_CASE for i in decision.intents):
                decision = DecisionRecord.model_validate_json(raw)  # the case's evidence
        except ValidationError as exc:
            self._unreadable(record, f"{exc.error_count()} validation errors")
            return
        for intent in decision.intents:
            if intent.action_id in keys or self._has_outcome(record, done, intent.action_id):
                duplicates.append(intent.action_id)
                continue
            keys.add(intent.action_id)
            jobs.append(_Job(record, decision, intent))

    def _has_outcome(self, record: Record, done: set[str], action_id: str) -> bool:
        if action_id in done:
            return True
        as_current_partition(self.rtdl, record.partition, record.carrier)  # its changelog
        return self.executed.get(executed_key(action_id)) is not None

    async def _execute(self, jobs: list[_Job]) -> None:
        live = self.watch.live
        started = time.monotonic()
        outcomes = await execute_intents([(job.decision, job.intent) for job in jobs],
                                         self.executor, live.action, live.policy_rev)
        EXECUTE_SECONDS.observe(time.monotonic() - started)
        sends = [await publish(self.app, self.rtdl, job.record.key,
                               canonical_dumps(outcome.model_dump(mode="json")),
                               partition=job.record.partition)
                 for job, outcome in zip(jobs, outcomes, strict=True)]
        await asyncio.gather(*sends)  # raises: crash, redelivery under the same keys
        for job, outcome in zip(jobs, outcomes, strict=True):
            as_current_partition(self.rtdl, job.record.partition, job.record.carrier)
            self.executed[executed_key(outcome.action_id)] = executed_value(
                outcome.outcome_id, outcome.status.value)
            _observe(outcome)

    async def load(self, partition: int, carrier: Event | None,
                   snapshot: StageSnapshot | None) -> Resumed[set[str]]:
        """Resume the partition from AL's progress entry (not from the first delivered offset:
        the stage reads the records between as a gap) and learn which intents already have an
        outcome (from the resume point to the log end) before executing anything."""
        started = time.monotonic()
        as_current_partition(self.rtdl, partition, carrier)
        resume = progress_of(self.progress.get(progress_key(self.log_id, partition)))
        done: set[str] = set()
        for record in await self.log.read(partition, resume, None):
            if _OUTCOME not in record.value:
                continue
            try:
                outcome = ActionOutcome.model_validate_json(record.value)
            except ValidationError:
                continue  # reported when the main path reaches it
            done.add(outcome.action_id)
            key = executed_key(outcome.action_id)
            if self.executed.get(key) is None:  # the crash window: persist it now
                self.executed[key] = executed_value(outcome.outcome_id, outcome.status.value)
        log_event(logger, "al.prepared", partition=partition, resume_offset=resume,
                  first_delivered=None if carrier is None else carrier.message.offset,
                  outcomes_found=len(done), seconds=round(time.monotonic() - started, 3))
        return Resumed(done, resume)

    def _unreadable(self, record: Record, why: str) -> None:
        UNREADABLE_RECORDS.inc()
        log_event(logger, "al.record_unreadable", reason_code=ReasonCode.RECORD_UNREADABLE,
                  topic=self.rtdl, partition=record.partition, offset=record.offset, why=why)

    async def reload_policy(self) -> None:
        """Apply a kill-switch change from the profile file; publish its governance fact."""
        for fact in self.watch.check():  # owed until acked: a failed send is retried next tick
            await (await publish(self.app, self.audit, fact.fact_id.encode(),
                                 canonical_dumps(fact.model_dump(mode="json"))))
            self.watch.announced(fact)


async def _nothing(partition: int, state: set[str]) -> None:
    """A take tick has nothing to flush: taking the partitions is the point."""


def _observe(outcome: ActionOutcome) -> None:
    OUTCOMES.labels(outcome.status.value, outcome.action_type.value).inc()
    for attempt in outcome.attempts:
        ATTEMPTS.labels(attempt.result.value).inc()


def register(app: faust.App, ctx: AgentContext) -> None:
    """Declare AL's topics, tables, partition stage, agent and the profile re-read timer."""
    raw: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw",
                           "partitions": ctx.partitions}
    app.topic(ctx.topic(Topic.AUDIT), **raw)
    profile = ctx.profile
    switch = profile.wiring.executor
    rtdl = ctx.topic(Topic.RTDL)
    log_id = log_id_of(rtdl, broker_epoch(profile))
    log = BrokerPartitionLog(bootstrap_servers(profile), rtdl)
    layer = _Layer(
        app=app, executor=Routes(  # OPEN_CASE to case management, the rest to the switch
            PaymentSwitch(switch, profile.resolve(switch.log_dir)),
            {ActionType.OPEN_CASE: CaseOpener(open_object_store(
                profile.wiring.object_store, base_dir=profile.base_dir))}),
        executed=app.Table(AL_EXECUTED_TABLE, partitions=ctx.partitions, key_type=bytes),
        progress=app.Table(AL_PROGRESS_TABLE, partitions=ctx.partitions, key_type=bytes),
        watch=PolicyWatch(profile, now_utc=wall_clock_ts), log=log,
        rtdl=rtdl, audit=ctx.topic(Topic.AUDIT), log_id=log_id)
    stage = PartitionStage(name="al", topic=rtdl, log_id=log_id, logic=layer, log=log,
                           catch_up=True)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]  # mode's stub refuses any receiver
    async def _forget(sender: Any, revoked: Any, **kwargs: Any) -> None:
        await stage.revoke()  # after the batch in flight: its outcomes are acked by then

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]  # as above
    async def _assigned(sender: Any, assigned: Any, **kwargs: Any) -> None:
        stage.assign(assigned)  # taken by the next tick or batch, outside the rebalance

    @app.timer(TAKE_TICK_S)  # type: ignore[untyped-decorator]  # faust's
    async def _take_assigned() -> None:
        try:
            await stage.visit(_nothing)
        except Exception as exc:
            fail_stop("al", exc)

    @app.timer(profile.policy.action.reload_s)  # type: ignore[untyped-decorator]  # faust's
    async def _reload_policy() -> None:
        await layer.reload_policy()

    @app.agent(app.topic(rtdl, **raw), name="al")
    async def al(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.take_events(  # type: ignore[attr-defined]  # not on StreamT
                BATCH_MAX, within=BATCH_WITHIN_S):
            try:
                await stage.process(events)
            except Exception as exc:
                fail_stop("al", exc)
