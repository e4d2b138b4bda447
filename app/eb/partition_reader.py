"""Read one partition of a topic between two offsets (rebuilds, reconciles, replays).

The end defaults to the partition's true log end, taken from a Fetch high watermark so the read is
exact on the embedded broker too (its ListOffsets answer is wrong; see ``tansu_compat``).
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from app.eb.tansu_compat import fetch_high_watermarks

__all__ = ["log_ends", "read_partition"]


async def read_partition(bootstrap: list[str] | str, topic: str, partition: int, *,
                         start: int = 0, stop: int | None = None,
                         timeout_s: float = 120.0) -> list[ConsumerRecord[bytes, bytes]]:
    """Records of ``topic``/``partition`` with ``start <= offset < stop`` (stop None = log end)."""
    servers = [bootstrap] if isinstance(bootstrap, str) else list(bootstrap)
    tp = TopicPartition(topic, partition)
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False,
                                max_partition_fetch_bytes=8 * 1024 * 1024)
    await consumer.start()
    out: list[ConsumerRecord[bytes, bytes]] = []
    try:
        consumer.assign([tp])
        end = (await fetch_high_watermarks(servers, await consumer.end_offsets([tp])))[tp]
        stop = end if stop is None else min(stop, end)
        if start >= stop:
            return out
        consumer.seek(tp, start)
        async with asyncio.timeout(timeout_s):
            while True:
                for records in (await consumer.getmany(tp, timeout_ms=500)).values():
                    for record in records:
                        if record.offset >= stop:
                            return out
                        if record.offset >= start:
                            out.append(record)
                if await consumer.position(tp) >= stop:
                    return out
    finally:
        await consumer.stop()


async def log_ends(bootstrap: list[str] | str,
                   tps: list[TopicPartition]) -> dict[TopicPartition, int]:
    """The true log end offset of each partition (Fetch high watermarks; see ``tansu_compat``)."""
    servers = [bootstrap] if isinstance(bootstrap, str) else list(bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        return await fetch_high_watermarks(servers, await consumer.end_offsets(tps))
    finally:
        await consumer.stop()
