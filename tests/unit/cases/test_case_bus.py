"""The case bus relay: which stored case events a partition owes (pure), and the relay on the
partition stage without a broker (an in-memory case topic, a real local object store): a crash
at any point and a handover publish every stored event exactly once, in seq order per case."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner
from prometheus_client import REGISTRY

from app.agents.case_bus import CasePartition, _CaseBus
from app.cases.bus import (
    EventId,
    decode_published,
    event_bytes,
    missing,
    partition_of,
    stored_events,
)
from app.cases.log import case_id_for_action
from app.objectstore.base import ObjectStore
from app.objectstore.local import LocalObjectStore
from app.rails.canonical_json import canonical_loads
from app.runtime.partition_stage import PartitionStage, Record
from tests.factories import StageEvent, StageMessage, StageTp, write_case_events

TOPIC = "fp.bus.case.v1"
PARTITIONS = 4
A, B, C = (next(f"{n:032x}" for n in range(1000) if partition_of(f"{n:032x}", 4) == p)
           for p in (0, 1, 2))  # case ids on partitions 0, 1, 2 of 4


def test_partition_of_is_stable_and_in_range() -> None:
    ids = [case_id_for_action(f"{i:064x}") for i in range(500)]
    for partitions in (1, 3, 4, 16):
        parts = [partition_of(case_id, partitions) for case_id in ids]
        assert all(0 <= p < partitions for p in parts)
        assert parts == [partition_of(case_id, partitions) for case_id in ids]
    assert len({partition_of(case_id, 4) for case_id in ids}) == 4
    assert (partition_of(A, 4), partition_of(B, 4), partition_of(C, 4)) == (0, 1, 2)
    kafka = DefaultPartitioner()  # what a producer picks for the key: the same partition
    assert all(kafka(case_id.encode(), list(range(4)), list(range(4))) == partition_of(case_id, 4)
               for case_id in ids)
    with pytest.raises(ValueError):
        partition_of(A, 0)


def test_missing_is_the_partitions_unpublished_events_in_case_then_seq_order() -> None:
    a2 = next(f"{n:032x}" for n in range(1000)  # partition 0 too, after A
              if f"{n:032x}" > A and partition_of(f"{n:032x}", 4) == 0)
    stored = [(a2, 2), (A, 3), (B, 1), (A, 1), (a2, 1), (A, 2), (C, 1)]
    assert missing(stored, set(), 0, 4) == [(A, 1), (A, 2), (A, 3), (a2, 1), (a2, 2)]
    assert missing(stored, {(A, 1), (a2, 2)}, 0, 4) == [(A, 2), (A, 3), (a2, 1)]
    assert missing(stored, set(), 1, 4) == [(B, 1)]
    assert missing(stored, {(B, 1)}, 1, 4) == []
    assert missing(stored, set(), 3, 4) == []


def test_missing_waits_for_a_cases_earlier_events() -> None:
    # a listing that shows seq 3 but not 2 (or 2 but not 1) publishes only the unbroken prefix
    assert missing([(A, 1), (A, 3)], set(), 0, 4) == [(A, 1)]
    assert missing([(A, 2), (A, 3)], set(), 0, 4) == []
    assert missing([(A, 2), (A, 3)], {(A, 1)}, 0, 4) == [(A, 2), (A, 3)]


def test_a_record_that_is_not_the_relays_is_an_anomaly_never_an_error() -> None:
    assert decode_published(b"x", b"not json", 0, 4).anomaly == "not_a_case_event"
    assert decode_published(b"x", b'{"record_type": "case_event"}', 0, 4).anomaly == \
        "not_a_case_event"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ObjectStore]:
    async with LocalObjectStore(tmp_path / "objects") as s:
        yield s


@dataclass
class CaseTopic:
    """The case topic in memory: the stage's :class:`PartitionLog` and the relay's producer."""

    logs: dict[int, list[tuple[bytes, bytes]]] = field(
        default_factory=lambda: {p: [] for p in range(PARTITIONS)})

    async def read(self, partition: int, start: int, stop: int | None) -> list[Record]:
        log = self.logs[partition]
        end = len(log) if stop is None else stop
        return [Record(partition, o, k, v, None) for o, (k, v) in enumerate(log)
                if start <= o < end]

    async def end(self, partition: int) -> int:
        return len(self.logs[partition])

    async def send(self, key: bytes, value: bytes, partition: int) -> Awaitable[Any]:
        self.logs[partition].append((key, value))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def events(self, partition: int, start: int = 0) -> list[StageEvent]:
        return [StageEvent(StageMessage(partition, o, k, v, None))
                for o, (k, v) in enumerate(self.logs[partition]) if o >= start]


class Worker:
    """One relay worker: its stage over every partition, as ``register`` builds it."""

    def __init__(self, store: ObjectStore, bus: CaseTopic) -> None:
        self.store = store
        self.logic = _CaseBus(send=bus.send, store=store, partitions=PARTITIONS)
        self.stage = PartitionStage(name="case_bus", topic=TOPIC, log_id=f"{TOPIC}.e0",
                                    logic=self.logic, log=bus, catch_up=True)
        self.stage.assign([StageTp(TOPIC, p) for p in range(PARTITIONS)])

    async def tick(self) -> None:
        stored = await stored_events(self.store)

        async def owed(partition: int, part: CasePartition) -> None:
            await self.logic.publish_owed(partition, part, stored)

        await self.stage.visit(owed)


async def judge(store: ObjectStore, bus: CaseTopic) -> None:
    """Every stored event on its partition exactly once, its value the stored bytes, each
    case's events in seq order."""
    stored = await stored_events(store)
    on_topic: Counter[EventId] = Counter()
    for partition, log in bus.logs.items():
        last: dict[str, int] = {}
        for key, value in log:
            body = canonical_loads(value)
            event = (body["case_id"], body["seq"])
            assert key == event[0].encode() and partition_of(event[0], PARTITIONS) == partition
            assert value == await event_bytes(store, event)
            assert body["seq"] == last.get(event[0], 0) + 1  # in seq order, no gap
            last[event[0]] = body["seq"]
            on_topic[event] += 1
    assert set(on_topic) == set(stored) and set(on_topic.values()) == {1}


def _count(kind: str) -> float:
    return REGISTRY.get_sample_value("fp_case_bus_events_total", {"kind": kind}) or 0.0


async def test_a_crash_before_the_consumer_saw_its_publishes_repeats_nothing(
        store: ObjectStore) -> None:
    bus = CaseTopic()
    for i in range(20):
        await write_case_events(store, i, 1 + i % 4)
    first = Worker(store, bus)
    await first.tick()
    await first.tick()  # its state holds what it sent: nothing again
    await judge(store, bus)
    published = sum(len(log) for log in bus.logs.values())
    assert published == len(await stored_events(store))

    for i in range(10, 30):  # more events, then kill -9: the first worker's state is gone
        await write_case_events(store, i, 3 + i % 3)
    duplicates = _count("duplicate")
    second = Worker(store, bus)  # takes every partition: reads each to its end
    await second.tick()
    await judge(store, bus)
    for partition in range(PARTITIONS):  # its consumer reads what it sent: no repeat
        await second.stage.process(bus.events(partition))
    assert _count("duplicate") == duplicates
    await second.tick()
    await judge(store, bus)


async def test_a_handover_mid_stream_publishes_each_event_once(store: ObjectStore) -> None:
    bus = CaseTopic()
    for i in range(12):
        await write_case_events(store, i, 2)
    old = Worker(store, bus)
    await old.tick()
    await old.stage.revoke()  # the rebalance: after the publish in flight
    for i in range(12):
        await write_case_events(store, i, 4)
    new = Worker(store, bus)
    await new.stage.process(bus.events(0, start=1))  # a first delivered record: taken, caught up
    await new.tick()
    await judge(store, bus)


async def test_a_foreign_record_on_the_topic_is_counted_and_skipped(store: ObjectStore) -> None:
    bus = CaseTopic()
    case_id = await write_case_events(store, 7, 2)
    partition = partition_of(case_id, PARTITIONS)
    bus.logs[partition].append((b"junk", b"{not a case event"))
    before = _count("anomaly")
    worker = Worker(store, bus)
    await worker.tick()
    assert _count("anomaly") == before + 1
    assert [canonical_loads(v)["seq"] for _k, v in bus.logs[partition][1:]] == [1, 2]
