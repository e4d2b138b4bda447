"""Read a whole topic back, up to its true log end (verification, benchmarks, tools).

The log end comes from Fetch high watermarks (``fetch_high_watermarks``), so the read is exact on
the embedded broker too.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from app.eb.tansu_compat import fetch_high_watermarks

__all__ = ["read_topic"]


async def read_topic(bootstrap: str, topic: str, partitions: int, *,
                     timeout_s: float = 60.0) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` in partition order, then offset order."""
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        ends = await fetch_high_watermarks([bootstrap], await consumer.end_offsets(tps))
        await consumer.seek_to_beginning(*tps)
        by_tp: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {tp: [] for tp in tps}
        async with asyncio.timeout(timeout_s):
            while any(len(by_tp[tp]) < ends[tp] for tp in tps):
                for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                    by_tp[tp].extend(records)
    finally:
        await consumer.stop()
    return [r for tp in tps for r in by_tp[tp]]
