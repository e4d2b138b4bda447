"""Small real-broker helpers for integration tests: produce records, read a topic back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from app.eb.tansu_compat import fetch_high_watermarks

__all__ = ["Record", "produce", "read_all"]

Record = tuple[int, bytes | None, bytes | None]  # (offset, key, value)


async def produce(
    bootstrap: str, topic: str, records: Iterable[tuple[bytes, bytes]], partition: int | None = None
) -> int:
    """Send (key, value) records (default partitioner unless ``partition``); waits for every ack."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(topic, key=k, value=v, partition=partition)
                   for k, v in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return len(futures)


async def read_all(bootstrap: str, topic: str, partitions: int) -> dict[int, list[Record]]:
    """Every record of ``topic`` per partition as (offset, key, value), up to the true log end."""
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        ends = await fetch_high_watermarks(bootstrap, await consumer.end_offsets(tps))
        await consumer.seek_to_beginning(*tps)
        out: dict[int, list[Record]] = {p: [] for p in range(partitions)}
        async with asyncio.timeout(60):
            while any(len(out[tp.partition]) < ends[tp] for tp in tps):
                batches = await consumer.getmany(timeout_ms=500)
                for tp, recs in batches.items():
                    out[tp.partition].extend((r.offset, r.key, r.value) for r in recs)
    finally:
        await consumer.stop()
    return out
