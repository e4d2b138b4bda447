"""AL agent: decisions on ``fp.bus.rtdl.v1`` -> intents executed effectively once -> outcomes.

Per batch: decode the decisions (everything else on rtdl — AL's own outcomes — is skipped by a
byte check), drop intents that already have an outcome (DUPLICATE_INTENT, a no-op), execute the
rest in attempt rounds (``app.al.rounds``), publish each outcome to its decision's rtdl partition
under the decision's key and wait for the acks, then record the intents in the executed table
and the partition's progress (``al-executed-v1``, ``al-progress-v1``, Kafka changelogs).

AL owns its resume point, like the hot path and DLA: faust's committed offset is not evidence
that AL applied a record (faust acks the records a stream skips during a rebalance, and the
other rtdl consumer, DLA, acks them too), so on taking a partition AL starts from its progress
entry and reads the gap up to the first delivered record from the log. The crash window —
outcome acked, table write lost (``kill -9``) — is closed on the same read: AL scans the
partition from its resume point to the end and treats every outcome there as done (an outcome
always follows its decision on the same partition). The executor's idempotency keys cover the
remaining window (side effect done, outcome never sent): the redelivered intent gets the earlier
side effect back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import faust
from pydantic import ValidationError

from app.al.executor import Executor
from app.al.payment_switch import PaymentSwitch
from app.al.rounds import execute_intents
from app.eb.partition_reader import read_partition
from app.eb.publish import publish
from app.eb.topics import Topic, log_id_of
from app.rails.action import ActionOutcome
from app.rails.canonical_json import canonical_dumps
from app.rails.decision import ActionIntent, DecisionRecord
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
from app.runtime.policy_watch import PolicyWatch
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
from app.tables.event_context import as_current

__all__ = ["BATCH_MAX", "register"]

logger = logging.getLogger(__name__)
BATCH_MAX = 500
BATCH_WITHIN_S = 0.01
_DECISION = b'"record_type":"decision"'  # canonical JSON: sorted, compact, so verbatim
_OUTCOME = b'"record_type":"action_outcome"'


@dataclass
class _Job:
    """One intent to execute, with the event whose partition its table entry is filed under."""

    carrier: Any
    key: bytes
    record: DecisionRecord
    intent: ActionIntent


@dataclass
class _Layer:
    app: faust.App
    ctx: AgentContext
    executor: Executor
    executed: Any  # the al-executed-v1 table
    progress: Any  # the al-progress-v1 table
    watch: PolicyWatch
    rtdl: str
    audit: str
    log_id: str  # the rtdl log progress offsets belong to
    prepared: set[int] = field(default_factory=set)
    done: dict[int, set[str]] = field(default_factory=dict)  # outcomes found on assignment
    next_offset: dict[int, int] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def process(self, events: Sequence[Any]) -> None:
        """One batch, under the lock a revocation also takes."""
        async with self.lock:
            await self._process(events)

    async def _process(self, events: Sequence[Any]) -> None:
        owned = {tp.partition for tp in self.app.consumer.assignment() if tp.topic == self.rtdl}
        live = [ev for ev in events if ev.message.partition in owned]
        first_of: dict[int, Any] = {}
        for ev in live:
            first_of.setdefault(ev.message.partition, ev)
        for partition in sorted(first_of.keys() - self.prepared):
            await self._prepare(first_of[partition])
        jobs: list[_Job] = []
        keys: set[str] = set()
        duplicates: list[str] = []
        for ev in live:
            for record in await self._unseen(ev):
                self._take(ev, record, jobs, keys, duplicates)
        if duplicates:
            DUPLICATE_INTENTS.inc(len(duplicates))
            log_event(logger, "al.duplicate_intents", reason_code=ReasonCode.DUPLICATE_INTENT,
                      count=len(duplicates), action_ids=[a[:16] for a in duplicates[:5]])
        if jobs:
            await self._execute(jobs)
        last_of = {ev.message.partition: ev for ev in live}
        for partition, ev in last_of.items():  # everything below next_offset is applied now
            as_current(ev)
            self.progress[progress_key(self.log_id, partition)] = progress_value(
                self.next_offset[partition])

    async def _unseen(self, ev: Any) -> list[Any]:
        """The records up to ``ev`` this assignment has not applied (a gap is read from the log;
        a redelivery is skipped)."""
        message = ev.message
        expected = self.next_offset[message.partition]
        if message.offset < expected:
            return []
        records: list[Any] = [message]
        if message.offset > expected:
            gap = await read_partition(bootstrap_servers(self.ctx.profile), self.rtdl,
                                       message.partition, start=expected, stop=message.offset)
            records = [*gap, message]
        self.next_offset[message.partition] = message.offset + 1
        return records

    def _take(self, carrier: Any, record: Any, jobs: list[_Job], keys: set[str],
              duplicates: list[str]) -> None:
        """Queue the intents of a decision record that have no outcome yet (``keys``: the
        batch's queued action ids)."""
        raw: bytes = record.value or b""
        if _DECISION not in raw:
            if _OUTCOME not in raw:
                self._unreadable(record, "neither a decision nor an action outcome")
            return
        try:
            decision = DecisionRecord.model_validate_json(raw)
        except ValidationError as exc:
            self._unreadable(record, f"{exc.error_count()} validation errors")
            return
        for intent in decision.intents:
            if intent.action_id in keys or self._has_outcome(carrier, intent.action_id):
                duplicates.append(intent.action_id)
                continue
            keys.add(intent.action_id)
            jobs.append(_Job(carrier, record.key or b"", decision, intent))

    def _has_outcome(self, carrier: Any, action_id: str) -> bool:
        if action_id in self.done.get(carrier.message.partition, ()):
            return True
        as_current(carrier)  # the table entry lives in this rtdl partition's changelog
        return self.executed.get(executed_key(action_id)) is not None

    async def _execute(self, jobs: list[_Job]) -> None:
        live = self.watch.live
        started = time.monotonic()
        outcomes = await execute_intents([(job.record, job.intent) for job in jobs],
                                         self.executor, live.action, live.policy_rev)
        EXECUTE_SECONDS.observe(time.monotonic() - started)
        sends = [await publish(self.app, self.rtdl, job.key,
                               canonical_dumps(outcome.model_dump(mode="json")),
                               partition=job.carrier.message.partition)
                 for job, outcome in zip(jobs, outcomes, strict=True)]
        await asyncio.gather(*sends)  # raises: crash, redelivery under the same keys
        for job, outcome in zip(jobs, outcomes, strict=True):
            as_current(job.carrier)
            self.executed[executed_key(outcome.action_id)] = executed_value(
                outcome.outcome_id, outcome.status.value)
            _observe(outcome)

    async def _prepare(self, ev: Any) -> None:
        """Resume the partition from AL's progress entry (not from the first delivered offset:
        the records between are read from the log as a gap) and learn which intents already
        have an outcome (from the resume point to the log end) before executing anything."""
        started = time.monotonic()
        partition, first = ev.message.partition, ev.message.offset
        as_current(ev)
        resume = progress_of(self.progress.get(progress_key(self.log_id, partition)))
        history = await read_partition(bootstrap_servers(self.ctx.profile), self.rtdl,
                                       partition, start=resume)
        done: set[str] = set()
        for record in history:
            raw = record.value or b""
            if _OUTCOME not in raw:
                continue
            try:
                outcome = ActionOutcome.model_validate_json(raw)
            except ValidationError:
                continue  # reported when the main path reaches it
            done.add(outcome.action_id)
            key = executed_key(outcome.action_id)
            if self.executed.get(key) is None:  # the crash window: persist it now
                self.executed[key] = executed_value(outcome.outcome_id, outcome.status.value)
        self.done[partition] = done
        self.next_offset[partition] = resume
        self.prepared.add(partition)
        log_event(logger, "al.prepared", partition=partition, resume_offset=resume,
                  first_delivered=first, outcomes_found=len(done),
                  seconds=round(time.monotonic() - started, 3))

    def _unreadable(self, record: Any, why: str) -> None:
        UNREADABLE_RECORDS.inc()
        log_event(logger, "al.record_unreadable", reason_code=ReasonCode.RECORD_UNREADABLE,
                  topic=self.rtdl, partition=record.partition, offset=record.offset, why=why)

    def forget(self) -> None:
        """After a revocation: every partition is prepared again when (re)assigned."""
        self.prepared.clear()
        self.done.clear()
        self.next_offset.clear()

    async def reload_policy(self) -> None:
        """Apply a kill-switch change from the profile file; publish its governance fact."""
        for fact in self.watch.check():  # owed until acked: a failed send is retried next tick
            await (await publish(self.app, self.audit, fact.fact_id.encode(),
                                 canonical_dumps(fact.model_dump(mode="json"))))
            self.watch.announced(fact)


def _observe(outcome: ActionOutcome) -> None:
    OUTCOMES.labels(outcome.status.value, outcome.action_type.value).inc()
    for attempt in outcome.attempts:
        ATTEMPTS.labels(attempt.result.value).inc()


def register(app: faust.App, ctx: AgentContext) -> None:
    """Declare AL's topics, executed table, agent and the profile re-read timer."""
    raw = {"key_serializer": "raw", "value_serializer": "raw", "partitions": ctx.partitions}
    app.topic(ctx.topic(Topic.AUDIT), **raw)
    profile = ctx.profile
    switch = profile.wiring.executor
    layer = _Layer(
        app=app, ctx=ctx,
        executor=PaymentSwitch(switch, profile.resolve(switch.log_dir)),
        executed=app.Table(AL_EXECUTED_TABLE, partitions=ctx.partitions, key_type=bytes),
        progress=app.Table(AL_PROGRESS_TABLE, partitions=ctx.partitions, key_type=bytes),
        watch=PolicyWatch(profile, now_utc=wall_clock_ts),
        rtdl=ctx.topic(Topic.RTDL), audit=ctx.topic(Topic.AUDIT),
        log_id=log_id_of(ctx.topic(Topic.RTDL), broker_epoch(profile)))

    @app.on_partitions_revoked.connect
    async def _forget(sender: Any, revoked: Any, **kwargs: Any) -> None:
        async with layer.lock:  # after the batch in flight: its outcomes are acked by then
            layer.forget()

    @app.timer(profile.policy.action.reload_s)
    async def _reload_policy() -> None:
        await layer.reload_policy()

    @app.agent(app.topic(ctx.topic(Topic.RTDL), **raw), name="al")
    async def al(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN_S):
            try:
                await layer.process(events)
            except Exception as exc:
                fail_stop("al", exc)
