"""The partition-stage primitive without a broker: fake faust events, an in-memory log and a
logic that records what it was asked to do (resume, gap fill, redelivery, revocation, snapshots).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiokafka.errors import KafkaConnectionError

from app.objectstore import LocalObjectStore, ObjectStore
from app.rails.canonical_json import canonical_dumps, canonical_loads
from app.runtime import partition_stage
from app.runtime.partition_stage import (
    Event,
    PartitionStage,
    Record,
    Resumed,
    SnapshotPolicy,
    StageLogic,
    Taken,
)
from app.runtime.stage_snapshots import StageSnapshot, snapshot_prefix, write_snapshot

TOPIC = "fp.test.v1"
LOG_ID = "fp.test.v1.e0"
BOUNDED_S = 10.0


@dataclass(frozen=True)
class Msg:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: float | None = 1_700_000_000.0


@dataclass(frozen=True)
class Ev:
    message: Msg


@dataclass(frozen=True)
class Tp:
    topic: str
    partition: int


def ev(partition: int, offset: int) -> Ev:
    return Ev(Msg(partition, offset, b"k", f"p{partition}-{offset}".encode()))


@dataclass
class MemoryLog:
    """Partitions of ``length`` records each; counts every read by (partition, start, stop)."""

    lengths: dict[int, int]
    reads: list[tuple[int, int, int | None]] = field(default_factory=list)

    async def read(self, partition: int, start: int, stop: int | None) -> list[Record]:
        self.reads.append((partition, start, stop))
        end = self.lengths[partition] if stop is None else min(stop, self.lengths[partition])
        return [Record(partition, o, b"k", f"p{partition}-{o}".encode(), 1.0)
                for o in range(start, end)]

    async def end(self, partition: int) -> int:
        return self.lengths[partition]


@dataclass
class Recorder(StageLogic[list[int]]):
    """State: the offsets applied to the partition. ``progress`` plays the durable resume point
    (AL's progress table)."""

    progress: dict[int, int] = field(default_factory=dict)
    calls: list[tuple[object, ...]] = field(default_factory=list)
    carriers: dict[tuple[int, int], Event | None] = field(default_factory=dict)
    gate: asyncio.Event | None = None  # when set, step waits for it (a batch in flight)
    stepping: asyncio.Event = field(default_factory=asyncio.Event)
    snapshots_on: bool = False

    async def load(self, partition: int, carrier: Event | None,
                   snapshot: StageSnapshot | None) -> Resumed[list[int]]:
        self.calls.append(("load", partition, None if snapshot is None else snapshot.next_offset))
        if snapshot is not None:
            return Resumed(list(canonical_loads(snapshot.state)), snapshot.next_offset)
        return Resumed([], self.progress.get(partition, 0))

    async def step(self, records: Sequence[Record], states: Mapping[int, list[int]]) -> None:
        self.calls.append(("step", tuple((r.partition, r.offset) for r in records)))
        self.stepping.set()
        if self.gate is not None:
            await self.gate.wait()
        for record in records:
            states[record.partition].append(record.offset)
            self.carriers[record.partition, record.offset] = record.carrier
        self.calls.append(("stepped",))

    async def commit(self, partition: int, state: list[int], next_offset: int,
                     carrier: Event | None) -> None:
        self.progress[partition] = next_offset

    async def release(self, partition: int, state: list[int]) -> None:
        self.calls.append(("release", partition, tuple(state)))

    def taken(self, partition: int, state: list[int], info: Taken) -> None:
        self.calls.append(("taken", partition, info.resumed_at, info.caught_up_to,
                           info.first_delivered))

    def snapshot(self, partition: int, state: list[int]) -> bytes | None:
        return canonical_dumps(state) if self.snapshots_on else None


def make_stage(logic: Recorder, log: MemoryLog, *, catch_up: bool = False,
               snapshots: SnapshotPolicy | None = None,
               partitions: Sequence[int] = (0, 1)) -> PartitionStage[list[int]]:
    stage = PartitionStage(name="test", topic=TOPIC, log_id=LOG_ID, logic=logic, log=log,
                           catch_up=catch_up, snapshots=snapshots)
    stage.assign([Tp(TOPIC, p) for p in partitions] + [Tp("other.topic", 9)])
    return stage


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ObjectStore]:
    async with LocalObjectStore(tmp_path / "objects") as s:
        yield s


def _of(logic: Recorder, kind: str) -> list[tuple[object, ...]]:
    return [c for c in logic.calls if c[0] == kind]


async def test_a_partition_resumes_from_the_stages_progress_and_the_gap_is_read_from_the_log(
) -> None:
    logic, log = Recorder(progress={0: 3}), MemoryLog({0: 10, 1: 10})
    stage = make_stage(logic, log)
    first = ev(0, 7)
    await stage.process([first, ev(0, 8)])
    assert stage.states[0] == [3, 4, 5, 6, 7, 8]
    assert log.reads == [(0, 3, 7)]
    assert all(logic.carriers[0, o] is first for o in (3, 4, 5, 6, 7))  # the gap rides on 7
    assert logic.progress[0] == stage.next_offsets[0] == 9
    assert _of(logic, "taken") == [("taken", 0, 3, 3, 7)]


async def test_redelivered_offsets_are_skipped_and_the_resume_point_still_committed() -> None:
    logic, log = Recorder(), MemoryLog({0: 10})
    stage = make_stage(logic, log)
    await stage.process([ev(0, 0), ev(0, 1), ev(0, 2)])
    await stage.process([ev(0, 1), ev(0, 2)])  # faust delivered them again
    await stage.process([ev(0, 2), ev(0, 3)])
    assert stage.states[0] == [0, 1, 2, 3]
    assert len(_of(logic, "step")) == 2  # the all-redelivered batch applied nothing
    assert logic.progress[0] == 4
    assert log.reads == []


async def test_a_gap_between_delivered_records_is_filled_in_offset_order() -> None:
    logic, log = Recorder(), MemoryLog({0: 10, 1: 10})
    stage = make_stage(logic, log)
    await stage.process([ev(0, 0), ev(1, 0), ev(0, 4), ev(1, 1)])
    assert stage.states == {0: [0, 1, 2, 3, 4], 1: [0, 1]}
    assert log.reads == [(0, 1, 4)]


async def test_records_of_partitions_not_assigned_are_dropped_and_never_taken() -> None:
    logic, log = Recorder(), MemoryLog({0: 5, 1: 5, 2: 5})
    stage = make_stage(logic, log, partitions=(0,))
    await stage.process([ev(1, 0), ev(2, 0), ev(0, 0)])
    assert dict(stage.states) == {0: [0]}
    assert _of(logic, "load") == [("load", 0, None)]


async def test_a_live_ownership_provider_replaces_the_assignment_signal() -> None:
    logic, log = Recorder(), MemoryLog({0: 5, 1: 5})
    owned = {0}
    stage = PartitionStage(name="test", topic=TOPIC, log_id=LOG_ID, logic=logic, log=log,
                           owned=lambda: owned)  # no assign(): faust's signal has not come yet
    await stage.process([ev(0, 0), ev(1, 0)])
    owned.add(1)
    await stage.process([ev(1, 1)])
    assert stage.states == {0: [0], 1: [0, 1]}


async def test_revocation_waits_for_the_batch_in_flight_then_drops_every_partition() -> None:
    logic, log = Recorder(gate=asyncio.Event()), MemoryLog({0: 5, 1: 5})
    stage = make_stage(logic, log)
    batch = asyncio.create_task(stage.process([ev(0, 0), ev(1, 0)]))
    await asyncio.wait_for(logic.stepping.wait(), BOUNDED_S)
    revoke = asyncio.create_task(stage.revoke())
    await asyncio.sleep(0)  # let the revocation reach the lock the batch holds
    assert not revoke.done() and stage.states.keys() == {0, 1}
    assert logic.gate is not None
    logic.gate.set()
    await asyncio.wait_for(asyncio.gather(batch, revoke), BOUNDED_S)
    order = [c[0] for c in logic.calls if c[0] in ("stepped", "release")]
    assert order == ["stepped", "release", "release"]  # the batch finished first
    assert _of(logic, "release") == [("release", 0, (0,)), ("release", 1, (0,))]
    assert stage.states == {} and stage.assigned == frozenset()


async def test_nothing_is_taken_between_a_revocation_and_the_next_assignment() -> None:
    logic, log = Recorder(), MemoryLog({0: 5, 1: 5})
    stage = make_stage(logic, log)
    await stage.process([ev(0, 0), ev(0, 1)])
    await stage.revoke()
    await stage.process([ev(0, 2)])  # buffered before the revocation, delivered after
    await stage.visit(_noop)
    assert stage.states == {}
    stage.assign([Tp(TOPIC, 0)])
    await stage.process([ev(0, 3)])
    assert _of(logic, "load") == [("load", 0, None), ("load", 0, None)]
    assert stage.states[0] == [2, 3]  # resumed from progress (2), the gap read from the log


async def _noop(partition: int, state: list[int]) -> None:
    return None


async def test_catch_up_reads_to_the_log_end_when_a_partition_is_taken() -> None:
    logic, log = Recorder(progress={0: 2}), MemoryLog({0: 6, 1: 0})
    stage = make_stage(logic, log, catch_up=True)
    await stage.process([ev(0, 4), ev(0, 5)])  # both applied by the catch-up already
    assert stage.states[0] == [2, 3, 4, 5]
    assert log.reads == [(0, 2, 6)]  # to the log end as of the take
    assert _of(logic, "taken") == [("taken", 0, 2, 6, 4)]


async def test_catch_up_applies_a_long_tail_in_chunks_committing_and_snapshotting_each(
        store: ObjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(partition_stage, "CATCH_UP_CHUNK", 4)
    monkeypatch.setattr(partition_stage, "SNAPSHOT_QUIET_FACTOR", 0)
    logic, log = Recorder(snapshots_on=True), MemoryLog({0: 10})
    stage = PartitionStage(name="test", topic=TOPIC, log_id=LOG_ID, logic=logic, log=log,
                           catch_up=True,
                           snapshots=SnapshotPolicy(store, owner="test", every_records=4))
    stage.assign([Tp(TOPIC, 0)])
    await stage.visit(_noop)
    assert log.reads == [(0, 0, 4), (0, 4, 8), (0, 8, 10)]
    assert [len(c[1]) for c in logic.calls if c[0] == "step"] == [4, 4, 2]
    assert stage.states[0] == list(range(10)) and logic.progress[0] == 10
    assert await _snapshot_offsets(store) == [4, 8]  # the last chunk's 2 records: not yet due


async def test_visit_takes_assigned_partitions_eagerly_then_visits_each() -> None:
    logic, log = Recorder(), MemoryLog({0: 3, 1: 0})
    stage = make_stage(logic, log, catch_up=True)
    seen: list[tuple[int, list[int]]] = []

    async def visit(partition: int, state: list[int]) -> None:
        seen.append((partition, list(state)))

    await stage.visit(visit)
    assert seen == [(0, [0, 1, 2]), (1, [])]
    assert _of(logic, "taken") == [("taken", 0, 0, 3, None), ("taken", 1, 0, 0, None)]
    assert logic.carriers[0, 0] is None  # no delivered event brought these in


async def test_a_partition_faust_stops_delivering_is_read_from_the_log_after_a_quiet_spell(
        monkeypatch: pytest.MonkeyPatch) -> None:
    logic, log = Recorder(), MemoryLog({0: 3, 1: 0})
    stage = make_stage(logic, log, partitions=(0,))
    await stage.process([ev(0, 0), ev(0, 1), ev(0, 2)])
    log.lengths[0] = 7  # four more records on the log that faust never delivers
    await stage.visit(_noop)
    assert stage.states[0] == [0, 1, 2]  # not quiet for STALL_S yet: nothing read
    monkeypatch.setattr(partition_stage, "STALL_S", 0.0)
    await stage.visit(_noop)
    assert stage.states[0] == [0, 1, 2, 3, 4, 5, 6] and logic.progress[0] == 7
    assert log.reads[-1] == (0, 3, 7)
    await stage.process([ev(0, 3), ev(0, 4)])  # delivered after all: redeliveries, skipped
    assert stage.states[0] == [0, 1, 2, 3, 4, 5, 6]
    reads = len(log.reads)
    await stage.visit(_noop)  # quiet, but nothing past the applied point: no read
    assert len(log.reads) == reads


async def test_an_eager_take_the_broker_cannot_serve_is_deferred_to_the_next_visit(
        monkeypatch: pytest.MonkeyPatch) -> None:
    logic, log = Recorder(), MemoryLog({0: 2, 1: 0})
    stage = make_stage(logic, log, catch_up=True, partitions=(0,))
    answer = log.end

    async def gone(partition: int) -> int:
        raise KafkaConnectionError("Unable to bootstrap")

    monkeypatch.setattr(log, "end", gone)
    await stage.visit(_noop)  # logged, not a stop: the broker watch owns a lost broker
    assert 0 not in stage.states
    monkeypatch.setattr(log, "end", answer)
    await stage.visit(_noop)
    assert stage.states[0] == [0, 1]


async def test_redeliveries_are_not_progress_for_the_stall_check(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [0.0]
    monkeypatch.setattr(partition_stage.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(partition_stage, "STALL_S", 10.0)
    logic, log = Recorder(), MemoryLog({0: 3, 1: 0})
    stage = make_stage(logic, log, partitions=(0,))
    await stage.process([ev(0, 0), ev(0, 1), ev(0, 2)])  # progress at t=0
    log.lengths[0] = 5
    clock[0] = 6.0
    await stage.process([ev(0, 1)])  # faust delivering only what is applied already
    clock[0] = 11.0
    await stage.visit(_noop)
    assert stage.states[0] == [0, 1, 2, 3, 4]


async def test_a_stall_check_the_broker_does_not_answer_in_time_is_asked_again_later(
        monkeypatch: pytest.MonkeyPatch) -> None:
    logic, log = Recorder(), MemoryLog({0: 2, 1: 0})
    stage = make_stage(logic, log, partitions=(0,))
    await stage.process([ev(0, 0)])
    monkeypatch.setattr(partition_stage, "STALL_S", 0.0)
    answer = log.end

    async def busy(partition: int) -> int:
        raise TimeoutError

    monkeypatch.setattr(log, "end", busy)
    await stage.visit(_noop)  # logged, not a stop
    assert stage.states[0] == [0]
    monkeypatch.setattr(log, "end", answer)
    await stage.visit(_noop)
    assert stage.states[0] == [0, 1]


async def test_snapshots_are_written_every_n_records_and_at_a_clean_revocation(
        store: ObjectStore) -> None:
    logic, log = Recorder(snapshots_on=True), MemoryLog({0: 20})
    stage = make_stage(logic, log, partitions=(0,),
                       snapshots=SnapshotPolicy(store, owner="test", every_records=4))
    await stage.process([ev(0, o) for o in range(3)])
    assert await _snapshot_offsets(store) == []
    await stage.process([ev(0, o) for o in range(3, 5)])
    assert await _snapshot_offsets(store) == [5]
    await stage.process([ev(0, 5)])
    await stage.revoke()
    assert await _snapshot_offsets(store) == [5, 6]


async def test_a_takeover_loads_the_newest_snapshot_and_replays_only_the_tail(
        store: ObjectStore) -> None:
    policy = SnapshotPolicy(store, owner="test", every_records=4)
    before, log = Recorder(snapshots_on=True), MemoryLog({0: 20})
    old = make_stage(before, log, partitions=(0,), snapshots=policy)
    await old.process([ev(0, o) for o in range(9)])  # due after the batch: one, at 9
    assert await _snapshot_offsets(store) == [9]
    after, log = Recorder(snapshots_on=True), MemoryLog({0: 20})
    new = make_stage(after, log, partitions=(0,), snapshots=policy)
    await new.process([ev(0, 12)])
    assert _of(after, "load") == [("load", 0, 9)]
    assert log.reads == [(0, 9, 12)]
    assert new.states[0] == list(range(13))


async def test_a_snapshot_past_the_log_end_is_not_used(store: ObjectStore) -> None:
    await write_snapshot(store, owner="test", log_id=LOG_ID, stage="test", partition=0,
                         next_offset=50, state=canonical_dumps(list(range(50))))
    logic, log = Recorder(snapshots_on=True), MemoryLog({0: 8})  # a shorter log than it covers
    stage = make_stage(logic, log, partitions=(0,),
                       snapshots=SnapshotPolicy(store, owner="test", every_records=100))
    await stage.process([ev(0, 2)])
    assert _of(logic, "load") == [("load", 0, None)]
    assert stage.states[0] == [0, 1, 2]


async def test_a_stage_without_snapshot_bytes_writes_none(store: ObjectStore) -> None:
    logic, log = Recorder(snapshots_on=False), MemoryLog({0: 20})
    stage = make_stage(logic, log, partitions=(0,),
                       snapshots=SnapshotPolicy(store, owner="test", every_records=1))
    await stage.process([ev(0, 0), ev(0, 1)])
    await stage.revoke()
    assert await _snapshot_offsets(store) == []


def test_a_snapshot_policy_needs_a_positive_interval(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="every_records"):
        SnapshotPolicy(LocalObjectStore(tmp_path), owner="test", every_records=0)


async def _snapshot_offsets(store: ObjectStore) -> list[int]:
    keys = await store.list(snapshot_prefix("test", LOG_ID, "test", 0))
    return sorted(int(k.rsplit("/", 1)[-1][:12]) for k in keys)
