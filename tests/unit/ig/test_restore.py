"""Taking a partition on a bus generation: what is restored, and what is left behind (#11 item 3).

The bus here is a small in-memory log per topic partition with Kafka's offset semantics (append,
offset = position); the archive is a real local object store.
"""

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path

import orjson
import pytest
from aiokafka import TopicPartition
from aiokafka.structs import RecordMetadata

from app.ig.archive import read_from, read_heads, write_archive
from app.ig.reconcile import INGRESS_HEADER
from app.ig.restore import RestoreResult, take_partition
from app.ig.watermarks import watermark_headers
from app.objectstore import LocalObjectStore
from app.rails.archive import ArchivedRecord
from app.rails.envelope import dump_envelope
from app.rails.watermark import WATERMARK_HEADER, TrafficWatermark
from tests.factories import make_envelope, make_pins

TOPICS = {"traffic": "t.traffic", "labels": "t.labels"}
OLD, NEW = "aaaa0000aaaa0000", "bbbb1111bbbb1111"


class MemoryBus:
    """Append-only logs per (topic, partition)."""

    def __init__(self) -> None:
        self.logs: dict[tuple[str, int], list[bytes]] = {}
        self.headers: dict[tuple[str, int], list[dict[str, bytes]]] = {}

    async def log_ends(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: len(self.logs.get((tp.topic, tp.partition), [])) for tp in tps}

    async def publish(self, topic: str, key: bytes, value: bytes, headers: dict[str, bytes],
                      partition: int) -> Awaitable[RecordMetadata]:
        log = self.logs.setdefault((topic, partition), [])
        log.append(value)
        self.headers.setdefault((topic, partition), []).append(headers)
        meta = RecordMetadata(topic, partition, TopicPartition(topic, partition), len(log) - 1,
                              0, None, 0)

        async def acked() -> RecordMetadata:
            return meta

        return acked()


def _record(index: int, offset: int, run: str = "run-1") -> ArchivedRecord:
    env = make_envelope(index, pins=make_pins(request=run))
    return ArchivedRecord(stream="traffic", partition=0, offset=offset,
                          partition_key=f"card|card_{index}", ingress_partition=0,
                          record=orjson.loads(dump_envelope(env)))


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


async def _take(store: LocalObjectStore, bus: MemoryBus, generation: str,
                open_runs: set[str], known_traffic_end: int = 0) -> RestoreResult:
    async def is_open(run_id: str) -> bool:
        return run_id in open_runs

    return await take_partition(
        store, TOPICS, 0, generation, log_ends=bus.log_ends, publish=bus.publish,
        run_is_open=is_open,
        known_ends={TopicPartition(TOPICS["traffic"], 0): known_traffic_end})


async def test_first_take_writes_the_generation_head_and_restores_nothing(
        store: LocalObjectStore) -> None:
    result = await _take(store, MemoryBus(), OLD, set())
    assert result.restored == [] and result.head is not None
    assert [(h.seq, h.generation, h.previous) for h in await read_heads(store, 0)] == [
        (0, OLD, None)]


async def test_a_new_bus_under_an_open_run_gets_every_record_back_at_its_offset(
        store: LocalObjectStore) -> None:
    await _take(store, MemoryBus(), OLD, set())
    records = [_record(i, i, run="run-1" if i % 2 else "run-2") for i in range(6)]
    await write_archive(store, OLD, records)
    bus = MemoryBus()
    result = await _take(store, bus, NEW, {records[0].run_id})  # one run still open
    assert [r.eb_ref.offset for r in result.restored] == list(range(6))
    assert not any(r.shifted for r in result.restored)
    assert bus.logs[("t.traffic", 0)] == [orjson.dumps(r.record, option=orjson.OPT_SORT_KEYS)
                                          for r in records]
    # the new generation's archive is self-contained
    assert await read_from(store, "traffic", 0, NEW) == records
    assert result.source == OLD and result.head is not None and result.head.restored == 6
    again = await _take(store, bus, NEW, {records[0].run_id})  # a restart on the same bus
    assert again.restored == [] and again.head is None


async def test_a_new_bus_after_every_run_drained_starts_empty(store: LocalObjectStore) -> None:
    await _take(store, MemoryBus(), OLD, set())
    await write_archive(store, OLD, [_record(i, i) for i in range(3)])
    bus = MemoryBus()
    result = await _take(store, bus, NEW, set())  # the previous demo's run drained
    assert result.restored == [] and bus.logs == {}
    assert await read_from(store, "traffic", 0, NEW) == []
    assert [h.generation for h in await read_heads(store, 0)] == [OLD, NEW]


async def test_an_interrupted_restore_continues_where_the_log_ends(
        store: LocalObjectStore) -> None:
    await _take(store, MemoryBus(), OLD, set())
    records = [_record(i, i) for i in range(5)]
    await write_archive(store, OLD, records)
    bus = MemoryBus()
    for r in records[:2]:  # republished before a crash; no head written for NEW yet
        await (await bus.publish("t.traffic", b"", orjson.dumps(
            r.record, option=orjson.OPT_SORT_KEYS), {}, 0))
    result = await _take(store, bus, NEW, {records[0].run_id})
    assert [r.eb_ref.offset for r in result.restored] == [2, 3, 4]
    assert len(bus.logs[("t.traffic", 0)]) == 5
    assert await read_from(store, "traffic", 0, NEW) == records


async def test_a_lost_tail_on_the_same_generation_is_republished(
        store: LocalObjectStore) -> None:
    bus = MemoryBus()
    await _take(store, bus, "durable", set())
    records = [_record(i, i) for i in range(4)]
    for r in records[:2]:
        await (await bus.publish("t.traffic", b"", orjson.dumps(
            r.record, option=orjson.OPT_SORT_KEYS), {}, 0))
    await write_archive(store, "durable", records)
    # IG's checkpoint says the log reached 4: it ends at 2, so the tail comes back
    result = await _take(store, bus, "durable", set(), known_traffic_end=4)
    assert [r.eb_ref.offset for r in result.restored] == [2, 3] and result.head is None
    again = await _take(store, bus, "durable", set(), known_traffic_end=4)
    assert again.restored == []  # whole again: nothing read, nothing republished


def _watermark(offset: int, run: str = "run-1", *, final: bool = False) -> ArchivedRecord:
    mark = TrafficWatermark(run_id=_record(0, 0, run=run).run_id, partition=0, partitions=2,
                            final=final,
                            watermark_ts_utc=None if final else "2025-03-01T00:00:00.000000Z")
    return ArchivedRecord(stream="traffic", partition=0, offset=offset, partition_key=mark.run_id,
                          ingress_partition=0, record=mark.model_dump(mode="json"),
                          kind="watermark")


async def test_watermark_records_come_back_at_their_offsets_with_their_headers(
        store: LocalObjectStore) -> None:
    """#12: the traffic log holds IG's watermark records; a restore that dropped them would
    shift every record after them."""
    await _take(store, MemoryBus(), OLD, set())
    records = [_record(0, 0), _watermark(1), _record(1, 2), _record(2, 3),
               _watermark(4, final=True)]
    await write_archive(store, OLD, records)
    bus = MemoryBus()
    result = await _take(store, bus, NEW, {records[0].run_id})
    assert [r.eb_ref.offset for r in result.restored] == [0, 1, 2, 3, 4]
    assert not any(r.shifted for r in result.restored)
    assert [r.envelope is None for r in result.restored] == [False, True, False, False, True]
    log = bus.logs[("t.traffic", 0)]
    assert [TrafficWatermark.model_validate_json(log[i]) for i in (1, 4)] == [
        TrafficWatermark.model_validate(records[i].record) for i in (1, 4)]
    headers = bus.headers[("t.traffic", 0)]
    assert [WATERMARK_HEADER in h for h in headers] == [False, True, False, False, True]
    assert all(h[INGRESS_HEADER] == b"0" for h in headers)
    assert headers[1] == watermark_headers(0)  # exactly as IG wrote it
    assert await read_from(store, "traffic", 0, NEW) == records
