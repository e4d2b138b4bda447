"""Read a whole topic back, up to its true log end (verification, benchmarks, tools).

The log end comes from Fetch high watermarks (``fetch_high_watermarks``), so the read is exact on
the embedded broker too.
"""

from __future__ import annotations

from aiokafka import ConsumerRecord

from app.eb.partition_reader import read_partition

__all__ = ["read_topic"]


async def read_topic(bootstrap: str, topic: str, partitions: int, *,
                     timeout_s: float = 60.0) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of ``topic`` in partition order, then offset order."""
    out: list[ConsumerRecord[bytes, bytes]] = []
    for partition in range(partitions):
        out.extend(await read_partition(bootstrap, topic, partition, timeout_s=timeout_s))
    return out
