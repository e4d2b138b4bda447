"""Small real-broker helpers for integration tests: produce records, read a topic back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import orjson
from aiokafka import AIOKafkaProducer

from app.eb.read_back import read_topic
from app.rails.watermark import is_watermark_value

__all__ = ["Record", "is_event", "produce", "read_all"]

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


def is_event(value: bytes | None) -> bool:
    """Whether a traffic or label record's value is an admitted event: not one of IG's
    watermark records (issue #12; recognised by ``record_type`` where only the value is read)."""
    return bool(value) and not is_watermark_value(orjson.loads(value or b"{}"))


async def read_all(bootstrap: str, topic: str, partitions: int) -> dict[int, list[Record]]:
    """Every record of ``topic`` per partition as (offset, key, value), up to the true log end."""
    out: dict[int, list[Record]] = {p: [] for p in range(partitions)}
    for r in await read_topic(bootstrap, topic, partitions):
        out[r.partition].append((r.offset, r.key, r.value))
    return out
