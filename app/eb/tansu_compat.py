"""Faust transport for the embedded Tansu broker: aiokafka plus one documented protocol fix.

Selected only by the ``tansu://`` broker URL of the ``tansu`` wiring (entry point group
``faust.transports`` in pyproject.toml); Kafka and Redpanda wirings use faust's stock transport.

The gap it closes (DESIGN.md section 5): Tansu answers ListOffsets(LATEST) with the base offset + 1
of the partition's newest *batch*, not the log end offset. Faust's table recovery compares a
persisted changelog offset with that "highwater" and raises ``ConsistencyError`` as soon as the
newest batch held more than one record, which breaks worker failover and restarts. The high
watermark in a Fetch response *is* right, so :func:`fetch_high_watermarks` seeks a short-lived,
group-less consumer to the reported offset's batch and reads the watermark from the Fetch.

Second gap: a waiting Fetch is not answered when data arrives, only at its deadline, and faust
hard-codes a 1.5 s deadline; the compat consumer shortens it (``TANSU_FETCH_MAX_WAIT_MS``).

Everything else stays stock. The embedded broker has no idempotent producer and no transactions
(aiokafka's InitProducerId v0 is rejected), so the app runs ``at_least_once`` on every wiring.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar

import aiokafka
from aiokafka import TopicPartition
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

__all__ = [
    "TANSU_FETCH_MAX_WAIT_MS", "TansuConsumer", "TansuConsumerThread", "Transport",
    "fetch_high_watermarks",
]

# How long one watermark probe may wait for Fetch answers before failing loudly.
_PROBE_TIMEOUT_S = 10.0
# Fetch max wait on the embedded broker (see TansuConsumerThread._create_consumer).
TANSU_FETCH_MAX_WAIT_MS = 20


async def fetch_high_watermarks(
    bootstrap_servers: str | list[str],
    listed_ends: Mapping[TopicPartition, int],
    *,
    timeout_s: float = _PROBE_TIMEOUT_S,
) -> dict[TopicPartition, int]:
    """Return the true log end offset of each partition, from Fetch high watermarks.

    Args:
        bootstrap_servers: the broker to ask.
        listed_ends: what ListOffsets(LATEST) answered per partition (0 means empty).

    Raises:
        TimeoutError: a partition gave no Fetch answer in ``timeout_s`` (infrastructure failure).
    """
    result = {tp: 0 for tp, end in listed_ends.items() if end <= 0}
    todo = {tp: end for tp, end in listed_ends.items() if end > 0}
    if not todo:
        return result
    probe = aiokafka.AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
    )
    await probe.start()
    try:
        probe.assign(list(todo))
        for tp, end in todo.items():
            # ``end - 1`` is the base offset of the newest batch: a Fetch from there returns
            # that batch and, with it, the partition's real high watermark.
            probe.seek(tp, end - 1)
        async with asyncio.timeout(timeout_s):
            while todo:
                batches = await probe.getmany(*todo, timeout_ms=200)
                for tp, records in batches.items():
                    last = records[-1].offset + 1 if records else 0
                    watermark = probe.highwater(tp) or 0
                    result[tp] = max(watermark, last, todo.pop(tp, 0))
    finally:
        await probe.stop()
    return result


class TansuConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Consumer thread whose highwaters come from Fetch watermarks, not ListOffsets."""

    def _create_consumer(self, loop: asyncio.AbstractEventLoop) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_consumer(loop)
        # faust hard-codes fetch_max_wait_ms=1500. Kafka answers a waiting Fetch as soon as data
        # arrives; this Tansu build lets it run to the deadline, so every idle partition adds up
        # to 1.5 s to end-to-end latency. A short wait keeps latency low at a small CPU cost.
        consumer._fetch_max_wait_ms = TANSU_FETCH_MAX_WAIT_MS
        return consumer

    async def _highwaters(self, partitions: list[TP]) -> Mapping[TP, int]:
        consumer = self._ensure_consumer()
        listed = await consumer.end_offsets(partitions)
        servers = consumer._client._bootstrap_servers  # aiokafka keeps the list only here
        fixed = await fetch_high_watermarks(servers, listed)
        return {tp: fixed[_as_kafka_tp(tp)] for tp in partitions}


def _as_kafka_tp(tp: Any) -> TopicPartition:
    return TopicPartition(tp.topic, tp.partition)


class TansuConsumer(faust_aiokafka.Consumer):
    """Faust consumer that uses :class:`TansuConsumerThread`."""

    def _new_consumer_thread(self) -> TansuConsumerThread:
        return TansuConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(faust_aiokafka.Transport):
    """The ``tansu://`` transport: stock aiokafka transport with :class:`TansuConsumer`."""

    Consumer: ClassVar[Any] = TansuConsumer


