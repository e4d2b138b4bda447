"""One primitive for a stage that owns partitions of one input topic (AL, DLA, the hot path).

The stage supplies a :class:`StageLogic` (how to load its state and resume point, how to apply
a batch of records, optionally how to persist progress, let a partition go and snapshot its
state); :class:`PartitionStage` owns the log protocol around it, which is the same for every
stage and easy to get subtly wrong:

- **Resume point.** A partition is taken (loaded) when its first record of an assignment
  arrives, or eagerly by :meth:`PartitionStage.visit`. The resume point comes from the stage's
  own durable progress (:meth:`StageLogic.load`), never from faust's committed offset: faust
  acks the records a stream skips during a rebalance, so the group's offset can run past
  records the stage never applied.
- **Gap fill.** Records between the resume point (or the last applied offset) and a delivered
  one are read from the log (:class:`PartitionLog`, the true log end on Tansu) and applied
  first, in offset order. With ``catch_up`` the stage reads to the log end when it takes a
  partition, in chunks (a partition with nothing left to deliver is still brought up to date:
  faust may never deliver the record at a restarted group's committed offset).
- **Redelivery.** A delivered offset below the applied point is skipped.
- **Revocation.** :meth:`PartitionStage.revoke` takes the same lock as a batch, so the batch
  in flight finishes (its emits acked: :meth:`StageLogic.step` returns only then) before any
  partition is let go; then each partition is released and its state dropped. Nothing is
  taken again until the next :meth:`PartitionStage.assign`: a partition another worker is about
  to own is never loaded here.
- **Ownership.** Delivered records of partitions not owned are dropped (buffered before a
  revocation). By default "owned" is the last ``on_partitions_assigned`` signal. faust sends
  that signal after table recovery, and records of the new assignment can arrive before it: a
  stage with ``catch_up`` reads them at the take, but a stage without one would never see them
  again, so it passes ``owned`` (the consumer's live assignment) instead.
- **Liveness.** Delivery is faust's, progress is the stage's: :meth:`PartitionStage.visit`
  reads from the log what faust has not delivered of a partition with no progress for
  ``STALL_S`` (redeliveries are not progress).
- **Snapshots.** With a :class:`SnapshotPolicy` and a :meth:`StageLogic.snapshot`, the state of
  a partition is written (``app.runtime.stage_snapshots``) every ``every_records`` applied
  records and at a clean revocation, and the newest one at or below the true log end is handed
  to :meth:`StageLogic.load` on the next take, so only the tail is replayed.

In the manner of bytewax's ``StatefulLogic``: the logic holds the semantics (and its own
effects, which it awaits), the stage holds partition state, offsets and the log I/O. Events are
faust's (``ev.message``: partition, offset, key, value, timestamp in seconds); unit tests pass
tiny fakes with the same attributes and an in-memory :class:`PartitionLog`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from typing import Generic, Protocol, TypeVar

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import Counter

from app.eb.partition_reader import log_ends, read_partition
from app.objectstore.base import ObjectStore
from app.rails.errors import ObjectTooLargeError
from app.runtime.stage_snapshots import StageSnapshot, newest_snapshot, write_snapshot
from app.runtime.structured_log import log_event

__all__ = [
    "BrokerPartitionLog",
    "Event",
    "PartitionLog",
    "PartitionStage",
    "Record",
    "Resumed",
    "SnapshotPolicy",
    "StageLogic",
    "Taken",
    "headers_of",
]

S = TypeVar("S")

logger = logging.getLogger(__name__)

STALL_CATCH_UPS = Counter(
    "fp_stage_delivery_stall_catch_ups_total",
    "Times a stage read a quiet partition's undelivered records from the log itself.", ["stage"])

SNAPSHOT_QUIET_FACTOR = 10
"""After a snapshot that took t seconds, the next periodic one waits at least this many t: a
stage spends at most about a tenth of its time writing snapshots, whatever its state's size."""
BROKER_ERRORS = (KafkaError, TimeoutError, OSError)
"""What a timer's broker reads may raise while the broker is busy or gone: deferred, not fatal
(a delivered batch's failure still stops the worker)."""
CATCH_UP_CHUNK = 5_000
"""Records a take applies at a time when it catches up to the log end."""
STALL_S = 30.0
"""A taken partition with no progress for this long is checked against the log end by
:meth:`PartitionStage.visit`; records faust has not delivered by then are read from the log.
Long enough that a busy worker (faust delivering late, not never) rarely pays the log reads."""


class Message(Protocol):
    """The parts of a faust message the stage reads (``timestamp`` in seconds)."""

    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def timestamp(self) -> float | None: ...


class Event(Protocol):
    """A delivered record: a faust event, or a test's fake with a ``message``."""

    @property
    def message(self) -> Message: ...


class TopicPartitionLike(Protocol):
    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...


@dataclass(frozen=True)
class Record:
    """One record of the input topic, delivered or read from the log.

    ``carrier`` is the delivered event that brought the record in (itself, or the event whose
    gap it filled; None for a catch-up without one): faust files table writes under the current
    event's partition, so a stage with tables makes the carrier current before writing.
    """

    partition: int
    offset: int
    key: bytes
    value: bytes
    timestamp_s: float | None
    carrier: Event | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


class PartitionLog(Protocol):
    """The input topic's log, read directly (not through the consumer group)."""

    async def read(self, partition: int, start: int, stop: int | None) -> list[Record]:
        """Records with ``start <= offset < stop`` (None: the true log end), in offset order."""
        ...

    async def end(self, partition: int) -> int:
        """The partition's true log end offset."""
        ...


def headers_of(raw: object) -> tuple[tuple[str, bytes], ...]:
    """A record's headers as (name, value) pairs: faust gives a list or a mapping, aiokafka a
    sequence of pairs; anything else is no headers."""
    if isinstance(raw, Mapping):
        return tuple((str(k), bytes(v)) for k, v in raw.items())
    if isinstance(raw, list | tuple):
        return tuple((str(k), bytes(v)) for k, v in raw)
    return ()


@dataclass(frozen=True)
class BrokerPartitionLog:
    """:class:`PartitionLog` on the broker (Fetch high watermarks: exact on Tansu too)."""

    bootstrap: list[str]
    topic: str

    async def read(self, partition: int, start: int, stop: int | None) -> list[Record]:
        records = await read_partition(self.bootstrap, self.topic, partition,
                                       start=start, stop=stop)
        return [Record(partition, r.offset, r.key or b"", r.value or b"",
                       r.timestamp / 1000 if r.timestamp else None,
                       headers=headers_of(r.headers)) for r in records]

    async def end(self, partition: int) -> int:
        tp = TopicPartition(self.topic, partition)
        return (await log_ends(self.bootstrap, [tp]))[tp]


@dataclass(frozen=True)
class Resumed(Generic[S]):
    """A taken partition: its state, and the first offset that state does not cover."""

    state: S
    next_offset: int


@dataclass(frozen=True)
class Taken:
    """What taking a partition did (for the stage's log line)."""

    resumed_at: int
    caught_up_to: int
    first_delivered: int | None
    seconds: float


@dataclass(frozen=True)
class SnapshotPolicy:
    """Where and how often a stage's partition state is snapshotted."""

    store: ObjectStore
    owner: str
    """Top-level key folder of the stage's component (``hotpath``, ``dla``, ...)."""
    every_records: int

    def __post_init__(self) -> None:
        if self.every_records <= 0:
            raise ValueError(f"every_records must be positive, got {self.every_records}")


class StageLogic(ABC, Generic[S]):
    """What a stage supplies; only :meth:`load` and :meth:`step` are required."""

    @abstractmethod
    async def load(self, partition: int, carrier: Event | None,
                   snapshot: StageSnapshot | None) -> Resumed[S]:
        """The partition's state and resume point, from the stage's own durable progress (or
        from ``snapshot``, the newest verified one when snapshots are on; None otherwise).

        ``carrier`` is the partition's first delivered event (None for an eager take).
        """

    @abstractmethod
    async def step(self, records: Sequence[Record], states: Mapping[int, S]) -> None:
        """Apply records (in offset order per partition, exactly once each) to their
        partition's state; return only when every emit is acked."""

    async def commit(self, partition: int, state: S, next_offset: int,
                     carrier: Event | None) -> None:
        """Persist the resume point after a batch (every offset below ``next_offset`` is
        applied); a stage whose progress is written elsewhere leaves this a no-op."""

    async def release(self, partition: int, state: S) -> None:
        """Let a partition go at a revocation (e.g. write what is buffered)."""

    def taken(self, partition: int, state: S, info: Taken) -> None:
        """Called once a partition is taken (and caught up): for the stage's log line."""

    def snapshot(self, partition: int, state: S) -> bytes | None:
        """The state's bytes for a snapshot, or None when the stage does not snapshot."""
        return None


class PartitionStage(Generic[S]):
    """The partition-owning I/O protocol around a :class:`StageLogic` (see the module doc)."""

    def __init__(self, *, name: str, topic: str, log_id: str, logic: StageLogic[S],
                 log: PartitionLog, catch_up: bool = False,
                 snapshots: SnapshotPolicy | None = None,
                 owned: Callable[[], AbstractSet[int]] | None = None) -> None:
        self.name = name
        self.topic = topic
        self.log_id = log_id
        self.logic = logic
        self.log = log
        self.catch_up = catch_up
        self.snapshots = snapshots
        self._owned = owned
        self.lock = asyncio.Lock()
        self._assigned: frozenset[int] = frozenset()
        self._states: dict[int, S] = {}
        self._next: dict[int, int] = {}
        self._unsnapshotted: dict[int, int] = {}
        self._quiet_until: dict[int, float] = {}
        self._progressed_at: dict[int, float] = {}

    @property
    def assigned(self) -> frozenset[int]:
        """Partitions of the current assignment; empty from a revocation to the next one."""
        return self._assigned

    @property
    def states(self) -> Mapping[int, S]:
        """State of each taken partition."""
        return self._states

    @property
    def next_offsets(self) -> Mapping[int, int]:
        """First offset not applied yet, per taken partition."""
        return self._next

    def assign(self, assigned: Iterable[TopicPartitionLike]) -> None:
        """The new assignment (faust's ``on_partitions_assigned``: every topic's partitions)."""
        self._assigned = frozenset(tp.partition for tp in assigned if tp.topic == self.topic)

    async def revoke(self) -> None:
        """After the batch in flight: snapshot, release and drop every taken partition."""
        async with self.lock:
            self._assigned = frozenset()
            try:
                for partition in sorted(self._states):
                    if self._unsnapshotted.get(partition, 0):  # before release frees anything
                        await self._snapshot(partition)
                    await self.logic.release(partition, self._states[partition])
            finally:
                self._states.clear()
                self._next.clear()
                self._unsnapshotted.clear()
                self._progressed_at.clear()

    async def process(self, events: Sequence[Event]) -> None:
        """One batch of delivered events, under the lock a revocation also takes."""
        async with self.lock:
            owned = self._assigned if self._owned is None else self._owned()
            live = [ev for ev in events if ev.message.partition in owned]
            first_of: dict[int, Event] = {}
            for ev in live:
                first_of.setdefault(ev.message.partition, ev)
            for partition in sorted(first_of.keys() - self._states.keys()):
                await self._take(partition, first_of[partition])
            batch: list[Record] = []
            last_of: dict[int, Event] = {}
            progressed: set[int] = set()
            for ev in live:
                message = ev.message
                partition, offset = message.partition, message.offset
                last_of[partition] = ev
                expected = self._next[partition]
                if offset < expected:
                    continue  # a redelivery: applied already (and no progress)
                if offset > expected:  # a gap: read it from the log
                    gap = await self.log.read(partition, expected, offset)
                    batch.extend(replace(r, carrier=ev) for r in gap)
                batch.append(Record(partition, offset, message.key or b"",
                                    message.value or b"", message.timestamp or None, ev,
                                    headers_of(getattr(message, "headers", None))))
                self._unsnapshotted[partition] += offset + 1 - expected
                self._next[partition] = offset + 1
                progressed.add(partition)
            if batch:
                await self.logic.step(batch, self._states)
            now = time.monotonic()
            for partition in progressed:
                self._progressed_at[partition] = now
            for partition, ev in last_of.items():
                await self.logic.commit(partition, self._states[partition],
                                        self._next[partition], ev)
            await self._snapshot_due(last_of)

    async def visit(self, fn: Callable[[int, S], Awaitable[None]]) -> None:
        """Under the lock: take every assigned partition not taken yet (eagerly, no carrier),
        read what faust has not delivered of a partition stalled for ``STALL_S``, then call
        ``fn`` on each taken partition in order (a timer's flush)."""
        async with self.lock:
            for partition in sorted(self._assigned - self._states.keys()):
                try:
                    await self._take(partition, None)
                except BROKER_ERRORS as exc:
                    # Taken again, whole, by the next visit or the first delivered record (a
                    # take cut short mid catch-up resumes from its durable progress). A lost
                    # broker is the broker watch's to report: it stops the worker.
                    for held in (self._states, self._next, self._unsnapshotted,
                                 self._progressed_at):
                        held.pop(partition, None)
                    log_event(logger, "stage.take_deferred", stage=self.name,
                              partition=partition, reason=repr(exc)[:200])
            for partition in sorted(self._states):
                await self._unstall(partition)
            for partition in sorted(self._states):
                await fn(partition, self._states[partition])

    async def _unstall(self, partition: int) -> None:
        """Delivery is faust's, but progress must not depend on it: a faust-streaming 0.15
        consumer was seen to stop fetching one partition for good (hot path, two workers, no
        rebalance) while the others flowed, and to go on delivering only records applied
        already. A partition with no progress for ``STALL_S`` (redeliveries do not count)
        whose log has records past the applied point is caught up from the log, and the
        stall is logged; records faust delivers later are redeliveries and skipped."""
        now = time.monotonic()
        if now - self._progressed_at.get(partition, now) < STALL_S:
            return
        self._progressed_at[partition] = now  # one log-end query per STALL_S while quiet
        applied = self._next[partition]
        try:
            end = await self.log.end(partition)
            if end > applied:
                log_event(logger, "stage.delivery_stalled", stage=self.name,
                          partition=partition, applied=applied, log_end=end)
                STALL_CATCH_UPS.labels(self.name).inc()
                await self._catch_up(partition, self._states[partition], None, end)
                self._progressed_at[partition] = time.monotonic()  # the catch-up's own time
        except BROKER_ERRORS as exc:
            # A busy broker answered no probe in time: the next stalled spell asks again (each
            # chunk applied so far is committed). A lost broker is the broker watch's to
            # report: it stops the worker.
            log_event(logger, "stage.stall_check_failed", stage=self.name,
                      partition=partition, applied=self._next[partition],
                      reason=repr(exc)[:200])

    async def _take(self, partition: int, carrier: Event | None) -> None:
        started = time.monotonic()
        snapshot = None
        if self.snapshots is not None:
            snapshot = await newest_snapshot(
                self.snapshots.store, owner=self.snapshots.owner, log_id=self.log_id,
                stage=self.name, partition=partition,
                at_or_below=await self.log.end(partition))
        resumed = await self.logic.load(partition, carrier, snapshot)
        self._states[partition] = resumed.state
        self._next[partition] = resumed.next_offset
        self._unsnapshotted[partition] = 0
        self._progressed_at[partition] = time.monotonic()
        if self.catch_up:
            await self._catch_up(partition, resumed.state, carrier)
        self.logic.taken(partition, resumed.state, Taken(
            resumed_at=resumed.next_offset, caught_up_to=self._next[partition],
            first_delivered=None if carrier is None else carrier.message.offset,
            seconds=round(time.monotonic() - started, 3)))

    async def _catch_up(self, partition: int, state: S, carrier: Event | None,
                        end: int | None = None) -> None:
        """Apply the partition's records up to ``end`` (the log end as of now when None),
        ``CATCH_UP_CHUNK`` at a time (a takeover's tail is never held whole), snapshotting
        when one is due."""
        if end is None:
            end = await self.log.end(partition)
        while (start := self._next[partition]) < end:
            stop = min(end, start + CATCH_UP_CHUNK)
            tail = await self.log.read(partition, start, stop)
            if carrier is not None:
                tail = [replace(r, carrier=carrier) for r in tail]
            if tail:
                await self.logic.step(tail, self._states)
            self._next[partition] = tail[-1].offset + 1 if tail else stop
            self._unsnapshotted[partition] += self._next[partition] - start
            await self.logic.commit(partition, state, self._next[partition], carrier)
            await self._snapshot_due([partition])

    async def _snapshot_due(self, partitions: Iterable[int]) -> None:
        if self.snapshots is None:
            return
        for partition in sorted(partitions):
            if self._unsnapshotted[partition] >= self.snapshots.every_records and \
                    time.monotonic() >= self._quiet_until.get(partition, 0.0):
                await self._snapshot(partition)

    async def _snapshot(self, partition: int) -> None:
        """Write one snapshot. It is a cache of the log: one the store refuses (over its size
        limit) is logged and skipped, never a stop. Writing blocks the stage, so the next one
        waits at least ``SNAPSHOT_QUIET_FACTOR`` times as long as this one took."""
        if self.snapshots is None:
            return
        started = time.monotonic()
        state = self.logic.snapshot(partition, self._states[partition])
        if state is not None:
            try:
                await write_snapshot(self.snapshots.store, owner=self.snapshots.owner,
                                     log_id=self.log_id, stage=self.name, partition=partition,
                                     next_offset=self._next[partition], state=state)
            except ObjectTooLargeError as exc:
                log_event(logger, "stage.snapshot_skipped", stage=self.name,
                          partition=partition, bytes=len(state), reason=str(exc)[:200])
        took = time.monotonic() - started
        self._quiet_until[partition] = time.monotonic() + SNAPSHOT_QUIET_FACTOR * took
        self._unsnapshotted[partition] = 0
