"""Read a topic for people: decoded records as lines, bounded by count and time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from app.eb.tansu_compat import fetch_high_watermarks

__all__ = ["TailRecord", "tail"]


@dataclass(frozen=True)
class TailRecord:
    partition: int
    offset: int
    key: str
    value: object

    def line(self) -> str:
        value = orjson.dumps(self.value, option=orjson.OPT_SORT_KEYS).decode()
        return f"{self.partition}:{self.offset} key={self.key} {value}"


def _decode(data: bytes | None) -> object:
    if data is None:
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return {"raw_utf8": data.decode("utf-8", "replace")}


async def tail(bootstrap_servers: list[str], topic: str, partitions: int, *,
               from_beginning: bool, max_records: int, idle_s: float = 2.0
               ) -> AsyncIterator[TailRecord]:
    """Records of ``topic`` (last ones, or from the beginning) until ``max_records`` or idle."""
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        ends = await fetch_high_watermarks(bootstrap_servers, await consumer.end_offsets(tps))
        for tp in tps:
            start = 0 if from_beginning else max(0, ends[tp] - max_records // partitions - 1)
            consumer.seek(tp, start)
        shown = 0
        while shown < max_records:
            try:
                async with asyncio.timeout(idle_s):
                    batches = await consumer.getmany(timeout_ms=int(idle_s * 1000))
            except TimeoutError:
                return
            if not batches:
                return
            for tp, records in batches.items():
                for r in records:
                    key = r.key.decode("utf-8", "replace") if r.key else ""
                    yield TailRecord(tp.partition, r.offset, key, _decode(r.value))
                    shown += 1
                    if shown >= max_records:
                        return
    finally:
        await consumer.stop()
